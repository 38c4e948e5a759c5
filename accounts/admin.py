from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from accounts.models import Conversion, OrganisationCountry, Registration, SignInEvent, User
from vlsc_portal.admin import ReadOnlyAdminMixin


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "email", "is_legacy_personal", "is_staff", "last_login"]
    list_filter = [*DjangoUserAdmin.list_filter, "is_legacy_personal"]
    fieldsets = [
        *(DjangoUserAdmin.fieldsets or ()),
        (_("Legacy sign-in"), {"fields": ["is_legacy_personal", "organisation_country_display"]}),
        (_("Language and time zone"), {"fields": ["language", "time_zone"]}),
    ]
    readonly_fields = ["organisation_country_display"]

    @admin.display(description=_("country or region of the organisation (cannot be changed)"))
    def organisation_country_display(self, obj):
        country = OrganisationCountry.objects.filter(user=obj).first()
        # django-countries' descriptor gives a Country; django-stubs sees its CharField (a str).
        return country.country.name if country else "—"  # type: ignore[attr-defined]


@admin.register(SignInEvent)
class SignInEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "reference_id", "outcome", "error_code", "address"]
    list_filter = ["outcome", "error_code"]
    search_fields = ["reference_id", "address"]
    list_select_related = ["user"]


@admin.register(Registration)
class RegistrationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "user", "invitation_address", "state", "expires_at"]
    list_filter = ["state"]
    search_fields = ["invitation_address", "user__email"]
    list_select_related = ["user"]


@admin.register(Conversion)
class ConversionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "personal_address", "work_email", "state", "completed_at"]
    list_filter = ["state"]
    search_fields = ["personal_address", "work_email"]


@admin.register(OrganisationCountry)
class OrganisationCountryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["user", "country", "confirmed_at"]
    list_select_related = ["user"]
