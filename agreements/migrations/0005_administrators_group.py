"""The "VLSC administrators" group with what it may do in the admin (the querysets restrict it
to the agreements each member administers). Made here, once, rather than on every sign-in;
``agreements.services.sync_staff_access`` only puts people in it and takes them out. A test
keeps ``PERMISSIONS`` equal to ``agreements.services.ADMINISTRATOR_MODEL_PERMISSIONS``: a change
there needs a migration that changes the group."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "VLSC administrators"
PERMISSIONS = [
    ("agreements", "view_agreement"),
    ("agreements", "view_agreementcontact"),
    ("agreements", "add_agreementcontact"),
    ("agreements", "change_agreementcontact"),
    ("agreements", "delete_agreementcontact"),
    ("agreements", "view_permissiongrant"),
    ("agreements", "add_permissiongrant"),
    ("agreements", "change_permissiongrant"),
    ("agreements", "delete_permissiongrant"),
    ("agreements", "view_invitation"),
    ("agreements", "view_accessrequest"),
    ("agreements", "change_accessrequest"),
    ("agreements", "view_auditevent"),
]


def create_group(apps, schema_editor):
    # Permissions are otherwise made after all migrations (post_migrate); make this app's now.
    app_config = apps.get_app_config("agreements")
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
        ("agreements", "0004_merge_step_up_and_canonical_addresses"),
    ]

    operations = [migrations.RunPython(create_group, delete_group)]
