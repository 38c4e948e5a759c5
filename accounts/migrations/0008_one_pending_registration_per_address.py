"""One pending registration per invitation address (lower case), as a partial unique index.

Rows that would break the index end first: pending registrations whose 48 hours are over
expire (what beat would do next), and of several users' pending registrations of one address
the earliest stays pending and the later ones are cancelled (the reason is recorded); their
users may register again. Works on SQLite and PostgreSQL (both support partial and expression
indexes).
"""

from django.db import migrations, models
from django.db.models import Count
from django.db.models.functions import Lower
from django.utils import timezone

CANCEL_REASON = "another user's registration of this address was already pending"


def end_duplicate_pending(apps, schema_editor):
    Registration = apps.get_model("accounts", "Registration")
    now = timezone.now()
    pending = Registration.objects.filter(state="pending")
    pending.filter(expires_at__lte=now).update(state="expired", expired_at=now)
    by_address = pending.annotate(address=Lower("invitation_address"))
    shared = (
        by_address.order_by()
        .values("address")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .values_list("address", flat=True)
    )
    for address in list(shared):
        rows = by_address.filter(address=address).order_by("created_at", "pk")
        first = rows.values_list("pk", flat=True)[0]
        Registration.objects.filter(
            pk__in=list(rows.exclude(pk=first).values_list("pk", flat=True))
        ).update(state="cancelled", cancelled_at=now, cancel_reason=CANCEL_REASON)


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0007_lean_registration_indexes"),
    ]

    operations = [
        migrations.RunPython(end_duplicate_pending, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="registration",
            constraint=models.UniqueConstraint(
                Lower("invitation_address"),
                condition=models.Q(("state", "pending")),
                name="one_pending_registration_per_address",
            ),
        ),
    ]
