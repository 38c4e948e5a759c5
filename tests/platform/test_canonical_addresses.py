"""One canonical form for every email address: the function, the form field and the model
field (the data migration: ``test_address_migration.py``)."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from agreements.models import Agreement, AgreementContact, PermissionGrant
from vlsc_portal.addresses import (
    CanonicalEmailFormField,
    InvalidEmailAddress,
    _canonicalise,
    canonical_email,
)

LONG_IDN = ".".join(["ü" * 40] * 4) + ".com"  # 169 characters; 191 once IDNA-encoded


@pytest.mark.parametrize(
    ("value", "canonical"),
    [
        pytest.param("licensing@fabrikam.com", "licensing@fabrikam.com", id="already canonical"),
        pytest.param("Licensing@Fabrikam.COM", "licensing@fabrikam.com", id="upper case"),
        pytest.param("  licensing@fabrikam.com\n", "licensing@fabrikam.com", id="white space"),
        pytest.param(
            "ｌｉｃｅｎｓｉｎｇ＠ｆａｂｒｉｋａｍ．ｃｏｍ",
            "licensing@fabrikam.com",
            id="fullwidth (NFKC)",
        ),
        pytest.param("jane@bücher.example", "jane@xn--bcher-kva.example", id="IDN domain"),
        pytest.param("Jane@BÜCHER.Example", "jane@xn--bcher-kva.example", id="IDN upper case"),
        pytest.param("jane@XN--BCHER-KVA.example", "jane@xn--bcher-kva.example", id="A-label"),
        pytest.param(
            "bob@fabr\u0131kam.com", "bob@xn--fabrkam-ufb.com", id="dotless i: another domain"
        ),
        # Long s is not a letter of any domain: UTS 46 (and NFKC) map it to "s", as every
        # resolver does, so contoſo.com is contoso.com itself, not a look-alike of it.
        pytest.param("bob@conto\u017fo.com", "bob@contoso.com", id="long s: the same domain"),
        pytest.param("licen\u017fing@fabrikam.com", "licensing@fabrikam.com", id="long s local"),
        pytest.param("o'brien+vlsc@fabrikam.com", "o'brien+vlsc@fabrikam.com", id="dot-atom signs"),
        pytest.param("a" * 64 + "@fabrikam.com", "a" * 64 + "@fabrikam.com", id="longest local"),
    ],
)
def test_the_canonical_form(value, canonical):
    assert canonical_email(value) == canonical
    assert canonical_email(canonical) == canonical  # a fixed point
    assert _canonicalise(canonical) == canonical  # the fast path answers as the full rules do


@pytest.mark.parametrize(
    ("value", "code"),
    [
        pytest.param("licensing@fabrikam.com\u200b", "invisible", id="zero-width space"),
        pytest.param("licen\u200dsing@fabrikam.com", "invisible", id="zero-width joiner"),
        pytest.param("\ufefflicensing@fabrikam.com", "invisible", id="byte order mark"),
        pytest.param("licensing@fabri\u00adkam.com", "invisible", id="soft hyphen"),
        pytest.param("licensing@\u202efabrikam.com", "invisible", id="bidi override"),
        pytest.param("licensing@fabri\u034fkam.com", "invisible", id="grapheme joiner"),
        pytest.param("licensing\u00a0@fabrikam.com", "invisible", id="no-break space"),
        pytest.param("licen sing@fabrikam.com", "invisible", id="space inside"),
        pytest.param('"licensing"@fabrikam.com', "quoted", id="quoted local part"),
        pytest.param('"lic@ensing"@fabrikam.com', "quoted", id="quoted with an at sign"),
        pytest.param("lïcensing@fabrikam.com", "non_ascii_local", id="accented local part"),
        pytest.param("b\u0131b@fabrikam.com", "non_ascii_local", id="dotless i in local part"),
        pytest.param("licensing@fabrikam.com.", "domain", id="trailing dot"),
        pytest.param("licensing@[192.0.2.1]", "domain", id="address literal"),
        pytest.param("licensing@xn--a.com", "domain", id="broken A-label"),
        pytest.param("licensing@fabrikam", "domain", id="no top-level domain"),
        pytest.param("licensing@-fabrikam.com", "domain", id="hyphen first"),
        pytest.param("a" * 250 + "@fabrikam.com", "too_long", id="over 254"),
        pytest.param("a" * 64 + "@" + LONG_IDN, "too_long", id="over 254 once encoded"),
        pytest.param("a" * 65 + "@fabrikam.com", "invalid", id="local part over 64"),
        pytest.param("a..b@fabrikam.com", "invalid", id="two dots"),
        pytest.param("not an address", "invalid", id="no at sign"),
        pytest.param("a@b@fabrikam.com", "invalid", id="two at signs"),
        pytest.param("", "required", id="empty"),
        pytest.param("   ", "required", id="blank"),
        pytest.param(None, "invalid", id="not text"),
    ],
)
def test_what_has_no_canonical_form_is_refused_with_its_reason(value, code):
    with pytest.raises(InvalidEmailAddress) as refused:
        canonical_email(value)
    assert refused.value.code == code
    assert isinstance(refused.value, ValidationError)  # a form error wherever it is raised


def test_a_look_alike_domain_never_equals_the_real_one():
    real = canonical_email("admin@fabrikam.com")
    assert canonical_email("admin@fabr\u0131kam.com") != real
    assert canonical_email("admin@FABR\u0130KAM.com") != real  # dotted capital İ


def test_the_form_field_cleans_to_the_canonical_form_with_the_reason_as_its_error():
    field = CanonicalEmailFormField(error_messages={"invalid": "Like jane@contoso.com, please."})
    assert field.clean(" Jane@Bücher.Example ") == "jane@xn--bcher-kva.example"
    with pytest.raises(ValidationError) as refused:
        field.clean("licensing@fabrikam.com\u200b")
    assert "invisible characters" in refused.value.messages[0]
    with pytest.raises(ValidationError) as refused:
        field.clean("not an address")
    assert refused.value.messages == ["Like jane@contoso.com, please."]


@pytest.fixture
def contoso(db):
    return Agreement.objects.create(
        number="V1234567", program="vla", customer="Contoso", start_date=date(2024, 1, 1)
    )


def test_the_model_field_stores_and_looks_up_the_canonical_form(contoso):
    contact = AgreementContact(
        agreement=contoso, role="primary_contact", email="Jane@Bücher.Example"
    )
    contact.save()
    assert contact.email == "jane@xn--bcher-kva.example"
    assert AgreementContact.objects.values_list("email", flat=True).get() == contact.email
    assert AgreementContact.objects.filter(email="JANE@bücher.example").get() == contact
    assert AgreementContact.objects.filter(email__in=["Jane@xn--Bcher-kva.example"]).exists()
    assert not AgreementContact.objects.filter(email="jane@bücher.example\u200b").exists()


def test_model_validation_refuses_what_has_no_canonical_form(contoso):
    grant = PermissionGrant(agreement=contoso, email='"jane"@contoso.com', kind="downloads")
    with pytest.raises(ValidationError) as refused:
        grant.full_clean()
    assert "quotation marks" in refused.value.message_dict["email"][0]
