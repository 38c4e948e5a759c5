"""Seeders that build the benchmarks' datasets fast: set-based SQL on PostgreSQL
(``generate_series`` in batches, nothing built row by row in Python), ``bulk_create`` in batches
elsewhere. Every row they make is named ``bench-…`` so :func:`drop_pending_registrations` and
the other cleaners remove only their own."""

from __future__ import annotations

from datetime import date, timedelta

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Registration

User = get_user_model()
REG_PREFIX = "bench-reg-"
DASHBOARD_EMAIL = "bench-dashboard@bench.example"
PG_BATCH = 100_000
ORM_BATCH = 2_000


def _pg() -> bool:
    return connection.vendor == "postgresql"


def seed_pending_registrations(count: int) -> int:
    """``count`` users, each with one pending registration whose 48 hours ended an hour ago.

    The users stay between runs (deleting a million users means checking the nineteen tables that
    reference them); only their registrations are replaced."""
    now = timezone.now()
    created_at, expires_at = now - timedelta(hours=49), now - timedelta(hours=1)
    drop_pending_registrations()
    batch_size = PG_BATCH if _pg() else ORM_BATCH
    existing = User.objects.filter(username__startswith=REG_PREFIX).count()
    for start in range(existing, count, batch_size):
        stop = min(count, start + batch_size)
        with transaction.atomic():
            if _pg():
                _pg_insert_users(start, stop, now)
            else:
                User.objects.bulk_create(
                    User(
                        username=f"{REG_PREFIX}{n}",
                        email=f"{REG_PREFIX}{n}@bench.example",
                        password="!",
                    )
                    for n in range(start, stop)
                )
    bench_users = User.objects.filter(username__startswith=REG_PREFIX).order_by("pk")
    if _pg():
        # Key ranges, not a list of a million keys: this process forks the expiry's, whose peak
        # memory would otherwise count the list.
        first = bench_users.values_list("pk", flat=True).first()
        last = bench_users.values_list("pk", flat=True)[count - 1]
        for low in range(first, last + 1, batch_size):
            with transaction.atomic():
                _pg_insert_registrations(
                    low, min(last, low + batch_size - 1), created_at, expires_at
                )
    else:
        ids = list(bench_users.values_list("pk", flat=True)[:count])
        for start in range(0, len(ids), batch_size):
            with transaction.atomic():
                Registration.objects.bulk_create(
                    Registration(
                        user_id=pk,
                        state=Registration.State.PENDING,
                        sign_in_address=f"bench-{pk}@bench.example",
                        invitation_address=f"invited-bench-{pk}@bench.example",
                        created_at=created_at,
                        expires_at=expires_at,
                        nonce="0" * 32,
                    )
                    for pk in ids[start : start + batch_size]
                )
    if _pg():
        with connection.cursor() as cursor:
            # The new rows' statistics and visibility for the expiry's plan (the deleted ones
            # were vacuumed by drop_pending_registrations).
            cursor.execute(f"VACUUM ANALYZE {User._meta.db_table}")
            cursor.execute(f"VACUUM ANALYZE {Registration._meta.db_table}")
    return count


def _other_columns(model, given: set[str]) -> tuple[list[str], list]:
    """Columns the seeder does not set itself, with each field's default (fields other apps add
    later are filled in too), leaving out nullable fields with no default."""
    columns, values = [], []
    for f in model._meta.concrete_fields:
        if f.primary_key or f.column in given:
            continue
        value = f.get_default()
        if value is None:
            continue
        columns.append(f.column)
        values.append(f.get_db_prep_save(value, connection))
    return columns, values


def _pg_insert_users(start: int, stop: int, now) -> None:
    user_table = User._meta.db_table
    user_cols, user_vals = _other_columns(User, {"username", "email", "password", "date_joined"})
    marks = "".join(", %s" for _ in user_cols)
    sql = f"""
        INSERT INTO {user_table} (username, email, password, date_joined
          {"".join(", " + c for c in user_cols)})
        SELECT %s || n, %s || n || '@bench.example', '!', %s{marks}
        FROM generate_series(%s, %s) AS n
    """  # noqa: S608  (names come from the models; every value is a parameter)
    with connection.cursor() as cursor:
        cursor.execute(sql, [REG_PREFIX, REG_PREFIX, now, *user_vals, start, stop - 1])


def _pg_insert_registrations(first_pk: int, last_pk: int, created_at, expires_at) -> None:
    """One statement: a pending registration for each bench user with a key in the range."""
    user_table, reg_table = User._meta.db_table, Registration._meta.db_table
    reg_given = {"user_id", "state", "sign_in_address", "invitation_address", "created_at"}
    reg_given |= {"expires_at", "nonce"}
    reg_cols, reg_vals = _other_columns(Registration, reg_given)
    marks = "".join(", %s" for _ in reg_cols)
    sql = f"""
        INSERT INTO {reg_table} (user_id, state, sign_in_address, invitation_address,
          created_at, expires_at, nonce{"".join(", " + c for c in reg_cols)})
        SELECT id, 'pending', email, 'invited-' || email, %s, %s, md5(email){marks}
        FROM {user_table}
        WHERE id BETWEEN %s AND %s AND username LIKE %s
    """  # noqa: S608  (names come from the models; every value is a parameter)
    params = [created_at, expires_at, *reg_vals, first_pk, last_pk, f"{REG_PREFIX}%"]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def drop_pending_registrations() -> None:
    """Remove the registrations :func:`seed_pending_registrations` made (set-based); the bench
    users stay for the next run. On PostgreSQL the table is vacuumed after: a million deleted
    rows left for autovacuum (off on some machines, this one included) were still read by every
    later query over registrations, such as the support overview's (p95 41 ms became 97 ms)."""
    user_table, reg_table = User._meta.db_table, Registration._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {reg_table} WHERE user_id IN "  # noqa: S608
            f"(SELECT id FROM {user_table} WHERE username LIKE %s)",
            [f"{REG_PREFIX}%"],
        )
    if _pg():
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {reg_table}")


def drop_bench_users() -> None:
    """The bench users themselves (slow at a million: every referencing table is checked)."""
    drop_pending_registrations()
    User.objects.filter(username__startswith=REG_PREFIX).delete()


def seed_dashboard_user(*, agreements: int, permissions: int):
    """A registered user (verified address) holding ``permissions`` grants spread over
    ``agreements`` agreements. Returns the user; reuses the data a previous run left."""
    from agreements.models import Agreement, PermissionGrant

    user, _ = User.objects.get_or_create(
        username="bench-dashboard", defaults={"email": DASHBOARD_EMAIL}
    )
    EmailAddress.objects.get_or_create(
        user=user, email=DASHBOARD_EMAIL, defaults={"verified": True, "primary": True}
    )
    if PermissionGrant.objects.filter(email=DASHBOARD_EMAIL).count() == permissions and (
        Agreement.objects.filter(number__startswith="BENCH").count() == agreements
    ):
        return user
    drop_dashboard_data()
    kinds = list(PermissionGrant.Kind.values)
    with transaction.atomic():
        rows = Agreement.objects.bulk_create(
            Agreement(
                number=f"BENCH{n:07d}",
                program=Agreement.Program.VOLUME_LICENSE_AGREEMENT,
                customer=f"Bench customer {n}",
                reseller="Bench reseller",
                start_date=date(2024, 1, 1),
            )
            for n in range(agreements)
        )
        grants = []
        for i in range(permissions):
            agreement = rows[i % agreements]
            kind = kinds[(i // agreements) % len(kinds)]
            grants.append(PermissionGrant(agreement=agreement, email=DASHBOARD_EMAIL, kind=kind))
        PermissionGrant.objects.bulk_create(grants, batch_size=ORM_BATCH)
    if _pg():  # planner statistics, as a database in use has them (autovacuum may lag a run)
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {Agreement._meta.db_table}, {PermissionGrant._meta.db_table}")
    return user


def drop_dashboard_data() -> None:
    from agreements.models import Agreement, PermissionGrant

    PermissionGrant.objects.filter(email=DASHBOARD_EMAIL).delete()
    Agreement.objects.filter(number__startswith="BENCH").delete()


# --- the support lookup's dataset --------------------------------------------------------------

EVENT_PREFIX = "BENCH"  # reference ids of seeded sign-in events: BENCH + 11 hex digits
PERSON_PREFIX = "bench-person-"


def person_address(n: int) -> str:
    return f"{PERSON_PREFIX}{n}@bench.example"


def seeded_timeline_events() -> int:
    from accounts.models import SignInEvent

    return SignInEvent.objects.filter(reference_id__startswith=EVENT_PREFIX).count()


def seed_timeline_events(count: int, *, people: int, users: int) -> dict:
    """``count`` sign-in events (the timeline's largest source) over ``people`` addresses, the
    first ``users`` of whom are registered users with that address verified. Reuses what a
    previous run left when the count matches; returns what is there."""
    from accounts.models import SignInEvent

    users = min(users, people)
    if seeded_timeline_events() != count:
        drop_timeline_events()
        now = timezone.now()
        batch = PG_BATCH * 5 if _pg() else ORM_BATCH
        for start in range(0, count, batch):
            stop = min(count, start + batch)
            with transaction.atomic():
                if _pg():
                    _pg_insert_events(start, stop, people=people, now=now)
                else:
                    SignInEvent.objects.bulk_create(
                        SignInEvent(
                            reference_id=f"{EVENT_PREFIX}{n:011x}",
                            outcome=SignInEvent.Outcome.SIGNED_IN,
                            address=person_address(n % people),
                            detail="bench",
                        )
                        for n in range(start, stop)
                    )
        if _pg():
            with connection.cursor() as cursor:
                cursor.execute(f"VACUUM ANALYZE {SignInEvent._meta.db_table}")
    for n in range(users):
        user, _ = User.objects.get_or_create(
            username=f"{PERSON_PREFIX}{n}", defaults={"email": person_address(n)}
        )
        EmailAddress.objects.get_or_create(
            user=user, email=person_address(n), defaults={"verified": True, "primary": True}
        )
    return {"events": seeded_timeline_events(), "people": people, "users": users}


def _pg_insert_events(start: int, stop: int, *, people: int, now) -> None:
    """One statement: events ``start``..``stop - 1``, one a minute going back from ``now``,
    round-robin over the people; every fifth refused with E03, as real traffic would be."""
    from accounts.models import SignInEvent

    table = SignInEvent._meta.db_table
    given = {"reference_id", "outcome", "address", "created_at", "error_code", "detail"}
    cols, vals = _other_columns(SignInEvent, given)
    marks = "".join(", %s" for _ in cols)
    sql = f"""
        INSERT INTO {table} (reference_id, outcome, address, created_at, error_code, detail
          {"".join(", " + c for c in cols)})
        SELECT %s || lpad(to_hex(n), 11, '0'),
               CASE WHEN mod(n, 5) = 0 THEN 'refused' ELSE 'signed_in' END,
               %s || mod(n, %s) || '@bench.example',
               %s - make_interval(mins => n),
               CASE WHEN mod(n, 5) = 0 THEN 'E03' ELSE '' END,
               'bench'{marks}
        FROM generate_series(%s, %s) AS n
    """  # noqa: S608  (names come from the models; every value is a parameter)
    params = [EVENT_PREFIX, PERSON_PREFIX, people, now, *vals, start, stop - 1]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def drop_timeline_events() -> None:
    from accounts.models import SignInEvent

    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {SignInEvent._meta.db_table} WHERE reference_id LIKE %s",  # noqa: S608
            [f"{EVENT_PREFIX}%"],
        )
