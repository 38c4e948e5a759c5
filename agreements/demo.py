"""Demo agreements for the demo directory (README "Demo accounts"): Contoso, Fabrikam and
Litware, with every contact role used at least once. Sends no welcome emails (rows are written
directly)."""

from __future__ import annotations

from datetime import date

from django.db import transaction

from agreements.models import Agreement, AgreementContact, PermissionGrant

Role = AgreementContact.Role
Kind = PermissionGrant.Kind
Program = Agreement.Program

AGREEMENTS = [
    # number, program, customer, reseller, start, end
    ("V1234567", Program.VOLUME_LICENSE_AGREEMENT, "Contoso Ltd", "Adventure Works Reseller",
     date(2024, 1, 1), date(2027, 1, 1)),
    ("E5550101", Program.ENTERPRISE_AGREEMENT, "Contoso Ltd", "Adventure Works Reseller",
     date(2023, 7, 1), date(2026, 7, 1)),
    ("O8880202", Program.OPEN_LICENSE_ORDER, "Fabrikam, Inc.", "Northwind Traders",
     date(2024, 3, 1), date(2026, 3, 1)),
    ("S7770303", Program.SELECT_PLUS, "Litware, Inc.", "Northwind Traders",
     date(2020, 5, 1), None),
]  # fmt: skip

CONTACTS = [
    ("V1234567", Role.PRIMARY_CONTACT, "Alice Contoso", "alice@contoso.com"),
    ("V1234567", Role.NOTICES_CORRESPONDENT, "Contoso Legal", "legal@contoso.com"),
    ("E5550101", Role.ONLINE_ADMINISTRATOR, "Contoso IT", "it@contoso.com"),
    ("E5550101", Role.SOFTWARE_ASSURANCE_MANAGER, "Sam Contoso", "sam@contoso.com"),
    ("O8880202", Role.PRIMARY_CONTACT, "Fabrikam Licensing", "licensing@fabrikam.com"),
    ("O8880202", Role.ONLINE_SERVICES_MANAGER, "Fabrikam Cloud", "cloud@fabrikam.com"),
    ("S7770303", Role.PRIMARY_CONTACT, "Grace", "grace@outlook.com"),
    ("S7770303", Role.SUBSCRIPTIONS_MANAGER, "Litware Subscriptions", "subscriptions@litware.com"),
]

GRANTS = [
    ("V1234567", "admin@contoso.com", Kind.ADMINISTRATOR),
    ("E5550101", "admin@contoso.com", Kind.ADMINISTRATOR),
    ("E5550101", "alice@contoso.com", Kind.LICENSING_INFO_VIEWER),
    ("V1234567", "keys@contoso.com", Kind.PRODUCT_KEYS),
]


@transaction.atomic
def seed_demo_agreements() -> list[Agreement]:
    """Idempotent: creates what is missing, changes nothing that exists, queues no email."""
    from agreements.selectors import users_with_address
    from agreements.services import sync_staff_access

    agreements = {}
    for number, program, customer, reseller, start, end in AGREEMENTS:
        agreements[number], _ = Agreement.objects.get_or_create(
            number=number,
            defaults={
                "program": program,
                "customer": customer,
                "reseller": reseller,
                "start_date": start,
                "end_date": end,
                "status": Agreement.Status.ACTIVE,
            },
        )
    for number, role, name, email in CONTACTS:
        AgreementContact.objects.get_or_create(
            agreement=agreements[number], role=role, email=email, defaults={"name": name}
        )
    for number, email, kind in GRANTS:
        PermissionGrant.objects.get_or_create(agreement=agreements[number], email=email, kind=kind)
    for email in {email for _n, email, _k in GRANTS} | {c[3] for c in CONTACTS}:
        for user in users_with_address(email=email):
            sync_staff_access(user=user)
    return list(agreements.values())
