from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DirectoryConfig(AppConfig):
    name = "entra_standin.directory"
    label = "standin_directory"
    verbose_name = _("Stand-in directory")
    default_auto_field = "django.db.models.BigAutoField"
