from django.contrib import admin

from notifications.models import OutboundEmail


@admin.register(OutboundEmail)
class OutboundEmailAdmin(admin.ModelAdmin):
    """Read-only: the record of what was sent."""

    list_display = ["created_at", "kind", "to", "subject", "state", "attempts", "sent_at"]
    list_filter = ["state", "kind"]
    search_fields = ["to", "subject"]
    list_select_related = ["user"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
