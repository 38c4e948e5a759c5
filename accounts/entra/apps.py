from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EntraConfig(AppConfig):
    """The allauth provider for work-account sign-in through MSAL."""

    name = "accounts.entra"
    label = "entra"
    verbose_name = _("Microsoft Entra ID sign-in")
