"""The "Support staff" group, holding the permission to use the support pages. Made here, once,
rather than on demand: whoever is put in the group (in the admin, or by the demo seeding) gets
the support pages, and code checks the permission, never the group's name."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Support staff"
PERMISSIONS = [("support", "use_support_console")]


def create_group(apps, schema_editor):
    # Permissions are otherwise made after all migrations (post_migrate); make this app's now.
    app_config = apps.get_app_config("support")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    make_group(apps)


def make_group(apps):
    """The group with its permissions (which must exist); safe to repeat. Tests call it again
    after a transactional test's flush has emptied the tables."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _created = Group.objects.get_or_create(name=GROUP)
    for app_label, codename in PERMISSIONS:
        group.permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )


def delete_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("support", "0003_support_console_permission"),
    ]

    operations = [migrations.RunPython(create_group, delete_group)]
