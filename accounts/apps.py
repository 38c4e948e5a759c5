from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts and sign-in")

    def ready(self) -> None:
        from accounts import (
            middleware,  # noqa: F401  (connects the sign-in language receiver)
            sessions,  # noqa: F401  (connects the sign-in time receiver)
        )
