from django.contrib import admin

from notifications.models import OutboundEmail
from vlsc_portal.admin import ReadOnlyAdminMixin


@admin.register(OutboundEmail)
class OutboundEmailAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: the record of what was sent."""

    list_display = ["created_at", "kind", "to", "subject", "state", "attempts", "sent_at"]
    list_filter = ["state", "kind"]
    search_fields = ["to", "subject"]
    list_select_related = ["user"]
