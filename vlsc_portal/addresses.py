"""One canonical form for every email address the portal stores or compares.

Two strings that reach one mailbox must be one string here, or one-owner-per-address and every
access check can be walked around: ``licensing@fabrikam.com`` followed by a zero-width space,
``"licensing"@fabrikam.com`` and ``LICENSING@FABRIKAM.COM`` were once three addresses.
:func:`canonical_email` makes the one form, or refuses with a message for the person, and
:class:`CanonicalEmailField` stores and looks up every address column in it, so addresses are
compared exactly. Nothing compares them with ``iexact``, ``UPPER`` or ``LOWER``: a database's
case mapping can fold look-alikes (dotless ``ı``, long ``ſ``) onto ASCII letters, so an address
on a look-alike domain would equal a real one.
"""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING, Any

import idna
from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.core.validators import _ValidatorCallable
    from django.db.models import Model
    from django.db.models.expressions import Combinable

    # django-stubs' fields are generic (the type set, the type read; the plugin adds None where
    # null=True); Django's are not at run time.
    _EmailModelField = models.EmailField[str | Combinable, str]
else:
    _EmailModelField = models.EmailField

MAX_LENGTH = 254  # RFC 5321's path limit, less the angle brackets
MAX_LOCAL_LENGTH = 64

MESSAGES = {
    "required": _("Enter an email address."),
    "invalid": _("Enter a valid email address."),
    "invisible": _(
        "An email address cannot contain spaces or invisible characters (such as a zero-width "
        "space). Type the address again instead of pasting it."
    ),
    "quoted": _(
        'Addresses with quotation marks (such as "jane"@contoso.com) are not accepted. Enter '
        "the address without them."
    ),
    "non_ascii_local": _(
        "The part before the @ can hold only the letters a to z, digits and signs such as "
        ". - _ +, not accented or other letters."
    ),
    "domain": _("The part after the @ is not a valid domain name, such as contoso.com."),
    "too_long": _("An email address can be at most 254 characters long."),
}

# Characters that show nothing, or nothing distinct: control, format (zero-width space and
# joiners, bidi controls, soft hyphen, BOM), private-use, surrogate, unassigned, and every
# space. Refused rather than stripped: an address that is not what it looks like is a mistake or
# an attack, and the person should see it.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cs", "Cn", "Zs", "Zl", "Zp"})
# Unicode's Default_Ignorable_Code_Point characters outside those categories (combining
# grapheme joiner, Hangul fillers, Khmer inherent vowels, Mongolian and other variation
# selectors): IDNA's mapping would silently drop several of them.
_IGNORABLE_RANGES = (
    (0x034F, 0x034F),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180D),
    (0x180F, 0x180F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFFA0, 0xFFA0),
    (0xE0100, 0xE01EF),
)
_ATEXT = r"[a-z0-9!#$%&'*+/=?^_`{|}~-]"
_DOT_ATOM = re.compile(rf"{_ATEXT}+(?:\.{_ATEXT}+)*", re.IGNORECASE)
# Already canonical, for the common case: lower-case ASCII, a dot-atom local part and a host
# name of letter-digit-hyphen labels without "--" (which would need the IDNA checks).
_PLAINLY_CANONICAL = re.compile(
    rf"{_ATEXT}+(?:\.{_ATEXT}+)*@(?:[a-z0-9](?:[a-z0-9-]{{0,61}}[a-z0-9])?\.)+[a-z]{{2,63}}"
)


class InvalidEmailAddress(ValidationError):
    """The value has no canonical form. ``code`` says why (a key of ``MESSAGES``); the message
    is for the person who typed it."""

    def __init__(self, code: str) -> None:
        super().__init__(MESSAGES[code], code=code)


def _has_invisible(text: str) -> bool:
    for char in text:
        if unicodedata.category(char) in _INVISIBLE_CATEGORIES:
            return True
        point = ord(char)
        if any(low <= point <= high for low, high in _IGNORABLE_RANGES):
            return True
    return False


def canonical_email(value: object) -> str:
    """The canonical form of an email address, or :class:`InvalidEmailAddress`.

    Surrounding white space is ignored (as Django's form fields ignore it). Then: no space or
    invisible character anywhere; Unicode NFKC (fullwidth ``ｊａｎｅ`` is ``jane``); a local
    part of unquoted ASCII (a dot-atom, at most 64 characters: quoted and non-ASCII local
    parts are refused, since mail systems disagree on what they match); the domain mapped and
    encoded by IDNA 2008 with the UTS 46 mapping (``bücher.example`` is
    ``xn--bcher-kva.example``, ``contoſo.com`` is ``contoso.com``, as every resolver reads it,
    and ``fabrıkam.com`` with a dotless ı stays the different domain ``xn--fabrkam-ufb.com``);
    no trailing dot and no address literal; all lower case, at most 254 characters. Equal
    canonical forms are the same address; compare them exactly.
    """
    if not isinstance(value, str):
        raise InvalidEmailAddress("invalid")
    text = value.strip()
    if not text:
        raise InvalidEmailAddress("required")
    if len(text) > MAX_LENGTH:
        raise InvalidEmailAddress("too_long")
    if _PLAINLY_CANONICAL.fullmatch(text) and "--" not in text.partition("@")[2]:
        local = text.partition("@")[0]
        if len(local) <= MAX_LOCAL_LENGTH:
            return text
    if "@" not in unicodedata.normalize("NFKC", text):
        raise InvalidEmailAddress("invalid")  # not an address at all, spaces or not
    return _canonicalise(text)


def _canonicalise(text: str) -> str:
    if _has_invisible(text):
        raise InvalidEmailAddress("invisible")
    text = unicodedata.normalize("NFKC", text)
    if _has_invisible(text):  # NFKC turns some spaces into U+0020
        raise InvalidEmailAddress("invisible")
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain:
        raise InvalidEmailAddress("invalid")
    if '"' in local:
        raise InvalidEmailAddress("quoted")
    if not local.isascii():
        raise InvalidEmailAddress("non_ascii_local")
    if not _DOT_ATOM.fullmatch(local) or len(local) > MAX_LOCAL_LENGTH:
        raise InvalidEmailAddress("invalid")
    if domain.endswith(".") or domain.startswith("["):
        raise InvalidEmailAddress("domain")
    try:
        ascii_domain = idna.encode(domain, uts46=True).decode("ascii").lower()
    except (idna.IDNAError, UnicodeError, ValueError) as exc:
        raise InvalidEmailAddress("domain") from exc
    address = f"{local.lower()}@{ascii_domain}"
    if len(address) > MAX_LENGTH:
        raise InvalidEmailAddress("too_long")
    try:
        validate_email(address)  # what is left: a top-level label of two or more characters
    except ValidationError as exc:
        raise InvalidEmailAddress("domain") from exc
    return address


def canonical_or_unchanged(value: str) -> str:
    """``canonical_email(value)``, or ``value`` as it is when it has no canonical form (it can
    then equal no canonical address)."""
    if not value:
        return value
    try:
        return canonical_email(value)
    except InvalidEmailAddress:
        return value


class CanonicalEmailFormField(forms.EmailField):
    """An email form field whose cleaned value is :func:`canonical_email`'s, with its messages
    (the field's own ``invalid`` message, where a form sets one, for an address that is simply
    malformed)."""

    default_validators: list[_ValidatorCallable] = []  # canonical_email validates
    default_error_messages = {"invalid": MESSAGES["invalid"]}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", MAX_LENGTH)
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> str | None:
        value = super().to_python(value)
        if value in self.empty_values:
            return self.empty_value
        try:
            return canonical_email(value)
        except InvalidEmailAddress as exc:
            if exc.code == "invalid":
                raise ValidationError(self.error_messages["invalid"], code="invalid") from exc
            raise


class CanonicalEmailField(_EmailModelField):
    """An address column that holds canonical forms only.

    Saving stores (and sets on the instance) :func:`canonical_email`'s form; an exact lookup
    (``=``, ``__in``) canonicalises what it looks for, so ``filter(email="Jane@Contoso.com")``
    finds ``jane@contoso.com``. Validation (``full_clean``, model and admin forms) refuses what
    has no canonical form. A value that has none is left as it is when saved or looked up,
    rather than raising where no person can act on it: entry points refuse such input first,
    and the only rows holding one are those the canonicalising data migration reported."""

    description = _("Email address (canonical form)")
    default_validators: list[_ValidatorCallable] = []  # to_python validates

    def to_python(self, value: Any) -> str | None:
        text: str | None = super().to_python(value)
        if text is None or text == "":
            return text
        return canonical_email(text)

    def get_prep_value(self, value: Any) -> str | None:
        # Field's, not CharField's: that one goes through to_python, which refuses.
        value = models.Field.get_prep_value(self, value)
        return None if value is None else canonical_or_unchanged(str(value))

    def pre_save(self, model_instance: Model, add: bool) -> Any:
        value = getattr(model_instance, self.attname)
        if isinstance(value, str):
            value = canonical_or_unchanged(value)
            setattr(model_instance, self.attname, value)
        return value

    def formfield(self, **kwargs: Any) -> forms.Field | None:
        return super().formfield(**{"form_class": CanonicalEmailFormField, **kwargs})
