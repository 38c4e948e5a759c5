from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import AppRegistration, Domain, SignupCode, Tenant, User


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ["name", "tid", "kind", "self_service_signup"]
    list_filter = ["kind", "self_service_signup"]
    search_fields = ["name", "tid", "domains__name"]
    inlines = [DomainInline]


@admin.register(Domain)
class DomainAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "tenant",
        "verified",
        "restricted_for_auto_signup",
        "admin_blocks_self_signup",
    ]
    list_filter = ["verified", "restricted_for_auto_signup", "admin_blocks_self_signup"]
    search_fields = ["name", "tenant__name"]


@admin.register(SignupCode)
class SignupCodeAdmin(admin.ModelAdmin):
    """Read-only: sign-ups waiting for their code (the code itself is only in the email)."""

    list_display = ["email", "display_name", "created_at", "expires_at", "attempts", "used_at"]
    search_fields = ["email"]
    fields = list_display
    readonly_fields = list_display

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "display_name", "tenant", "oid", "is_staff"]
    list_filter = ["tenant", "is_staff", "is_active"]
    search_fields = ["username", "email", "display_name", "oid"]
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        (_("Directory"), {"fields": ["tenant", "oid", "email", "display_name"]}),
        (_("Stand-in administration"), {"fields": ["is_active", "is_staff", "is_superuser"]}),
    ]
    add_fieldsets = [
        (None, {"fields": ["username", "usable_password", "password1", "password2"]}),
        (_("Directory"), {"fields": ["tenant", "email", "display_name"]}),
    ]


@admin.register(AppRegistration)
class AppRegistrationAdmin(admin.ModelAdmin):
    list_display = ["application", "tenant", "app_roles"]
    list_select_related = ["application", "tenant"]
