"""The demo directory of the Entra ID stand-in: fixed GUIDs the portal's demo data refers to.

Plain data, no Django import: the portal may import these constants. Every password is
``DEMO_PASSWORD``. ``python -m entra_standin seed_demo_directory`` writes this into the stand-in.
"""

DEMO_PASSWORD = "Passw0rd!"

# Microsoft's consumer tenant: personal Microsoft accounts carry this tid.
CONSUMER_TID = "9188040d-6c67-4c5b-b112-36a304b66dad"
CONSUMER_DOMAINS = ("outlook.com", "hotmail.com", "live.com")

CONTOSO_TID = "81d2f501-53b9-5d41-8823-64b2dd3f90e9"
FABRIKAM_TID = "bc85181d-328c-566a-a424-c3f23b13bab7"
NORTHWIND_TID = "a8ae80ea-7339-5694-8ea2-7f002d174c33"
TAILSPIN_TID = "0fa9c325-0d81-59a1-8f79-2ed897d7502f"
WINGTIP_TID = "a45e7161-de12-55ae-85e7-6cef6f52d0d6"
ADATUM_TID = "803a5f1e-06ec-5474-98e2-c053e3a25595"
LITWARE_TID = "1f2cf659-3831-5586-99ac-ed85df883d66"
WOODGROVE_TID = "b8633cb1-13c4-5549-a0f6-d52111058d28"
VLSC_TID = "cbb9270b-b82a-575c-8792-3a2f5171aa95"
PROSEWARE_TID = "5d0c8f8e-3a47-5b8e-9a3c-2f6b1e4d7a90"

ALICE_OID = "fe5ece7d-69ac-542b-89be-5da567658ebe"
CONTOSO_ADMIN_OID = "8526f3ff-a21c-508f-b0ea-e1285db62518"
BOB_OID = "45496dca-56fb-5d72-a8b3-5a19a9cfaf07"
HARRY_OID = "e97b8de7-97e4-55e8-b561-30b9f96b4b8a"
SUPPORT_OID = "54919386-5fc0-5c0e-b8d1-a39f08ce8f09"
GRACE_MSA_OID = "af1c1b10-2acd-508d-ac9b-64fac24bee45"
ALICE_MSA_OID = "b557e0b7-6f5b-5a2c-8ee5-b9e61c84a1f3"
IVAN_OID = "0b6f3d2a-8c41-5e7f-b9d2-4a1c6e8f3b57"

MANAGED = "managed"
UNMANAGED = "unmanaged"
CONSUMER = "consumer"

# (tid, name, kind, self-service sign-up allowed,
#  [(domain, restricted for automatic sign-up, administrator blocks users signing up,
#    ownership verified)])
# A domain's ownership is verified where an administrator proved it (the managed tenants) and not
# where the tenant was made by self-service sign-up (the unmanaged ones, Litware among them), as in
# Entra. Proseware is managed but has not verified proseware.com: its users' id_tokens carry
# ``xms_edov`` false, so the portal verifies their address by email.
TENANTS = [
    (
        CONSUMER_TID,
        "Microsoft accounts",
        CONSUMER,
        False,
        [(d, False, False, False) for d in CONSUMER_DOMAINS],
    ),
    (CONTOSO_TID, "Contoso", MANAGED, True, [("contoso.com", False, False, True)]),
    (FABRIKAM_TID, "Fabrikam", MANAGED, True, [("fabrikam.com", False, False, True)]),
    (
        NORTHWIND_TID,
        "Northwind Traders",
        UNMANAGED,
        False,
        [("northwind.com", False, False, False)],
    ),
    (TAILSPIN_TID, "Tailspin Toys", UNMANAGED, True, [("tailspin.com", True, False, False)]),
    (WINGTIP_TID, "Wingtip Toys", UNMANAGED, True, [("wingtip.com", False, True, False)]),
    (ADATUM_TID, "Adatum", MANAGED, True, [("adatum.com", False, False, True)]),
    (LITWARE_TID, "Litware", UNMANAGED, True, [("litware.com", False, False, False)]),
    (WOODGROVE_TID, "Woodgrove Bank", MANAGED, True, [("woodgrove.com", False, False, True)]),
    (VLSC_TID, "VLSC", MANAGED, True, [("vlsc.example", False, False, True)]),
    (PROSEWARE_TID, "Proseware", MANAGED, True, [("proseware.com", False, False, False)]),
]

# (oid, tid, email/UPN, display name)
USERS = [
    (ALICE_OID, CONTOSO_TID, "alice@contoso.com", "Alice Contoso"),
    (CONTOSO_ADMIN_OID, CONTOSO_TID, "admin@contoso.com", "Contoso Administrator"),
    (BOB_OID, FABRIKAM_TID, "bob@fabrikam.com", "Bob Fabrikam"),
    (HARRY_OID, WOODGROVE_TID, "harry@woodgrove.com", "Harry Woodgrove"),
    (SUPPORT_OID, VLSC_TID, "support@vlsc.example", "VLSC Support"),
    (GRACE_MSA_OID, CONSUMER_TID, "grace@outlook.com", "Grace"),
    (ALICE_MSA_OID, CONSUMER_TID, "alice.personal@outlook.com", "Alice (personal)"),
    (IVAN_OID, PROSEWARE_TID, "ivan@proseware.com", "Ivan Proseware"),
]

# What each demo address does at the stand-in (shown on its home page).
DEMO_ACCOUNTS = [
    ("alice@contoso.com", "Contoso, managed: signs in"),
    ("admin@contoso.com", "Contoso, managed: signs in"),
    ("bob@fabrikam.com", "Fabrikam, managed: signs in"),
    ("harry@woodgrove.com", "Woodgrove, managed: signs in"),
    ("support@vlsc.example", "VLSC, managed: signs in"),
    ("grace@outlook.com", "personal Microsoft account: signs in with the consumer tenant"),
    ("alice.personal@outlook.com", "personal Microsoft account: signs in with the consumer tenant"),
    ("carol@northwind.com", "self-service sign-up turned off: AADSTS990003 (E03)"),
    ("dave@tailspin.com", "domain restricted for automatic sign-up: AADSTS990002 (E02)"),
    ("erin@wingtip.com", "administrator blocks signing up: AADSTS990004 (E04)"),
    ("frank@adatum.com", "managed directory, no such account: AADSTS50034 (E05)"),
    (
        "ivan@proseware.com",
        "Proseware, managed, domain not verified: signs in; xms_edov false",
    ),
    (
        "grace@litware.com",
        "unmanaged Litware: self-service sign-up, a code emailed to the address; xms_edov false",
    ),
]

# The portal's provisioning API as an app registration exposes it: its application ID URI (the
# ``aud`` of access tokens for it), the delegated scopes a signed-in person consents to, and the
# app roles an organisation's own application is given for app-only (client credentials) tokens.
API_APP_ID_URI = "api://vlsc-portal"
API_SCOPES = ("Permissions.Read", "Permissions.ReadWrite")
API_APP_ROLES = ("Permissions.Read.All", "Permissions.ReadWrite.All")

# One organisation's own application (app registration in Contoso's tenant) for the README's
# app-only example: client id, secret, tenant, name, app roles granted on the portal's API.
CONTOSO_APP_CLIENT_ID = "3f8c2a91-5d7e-4b60-9a1f-2c4e6b8d0f13"
CONTOSO_APP_SECRET = "contoso-provisioning-secret-dev-only"
APPLICATIONS = [
    (
        CONTOSO_APP_CLIENT_ID,
        CONTOSO_APP_SECRET,
        CONTOSO_TID,
        "Contoso licensing provisioning",
        ("Permissions.ReadWrite.All",),
    ),
]
