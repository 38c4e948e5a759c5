from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from accounts.models import SignInEvent, User

admin.site.register(User, UserAdmin)


@admin.register(SignInEvent)
class SignInEventAdmin(admin.ModelAdmin):
    """Audit records: read-only."""

    list_display = ["created_at", "reference_id", "outcome", "error_code", "address"]
    list_filter = ["outcome", "error_code"]
    search_fields = ["reference_id", "address"]
    list_select_related = ["user"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
