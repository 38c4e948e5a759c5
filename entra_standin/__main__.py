"""``python -m entra_standin <command>``: django-admin for the stand-in's own settings."""

import os
import sys


def main() -> None:
    # Always the stand-in's settings, even when the portal's are in the environment.
    os.environ["DJANGO_SETTINGS_MODULE"] = "entra_standin.settings"
    from django.core.management import execute_from_command_line

    execute_from_command_line(["python -m entra_standin", *sys.argv[1:]])


if __name__ == "__main__":
    main()
