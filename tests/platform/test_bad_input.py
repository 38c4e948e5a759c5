"""Every portal URL, fed junk by an anonymous visitor, a signed-in user and support staff,
answers without a server error."""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests.accounts.conftest import make_user

JUNK_VALUES = ["x", "<script>", "' OR 1=1 --", "ü" * 50, "9" * 300, "..%2f..%2f"]
FORM_JUNK = {
    "email": "not-an-address",
    "name": "x" * 5000,
    "code": "abc",
    "country": "ZZ",
    "work_email": "@",
    "message": "m" * 100_000,
    "agreement_number": "'; DROP TABLE x; --",
    "q": "%" * 1000,
    "reason": "",
    "topic": "nope",
    "state": "junk",
}


def portal_routes(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            if str(entry.pattern).startswith("admin/"):
                continue  # Django's own admin; its scoping is tested in tests/agreements
            yield from portal_routes(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


def fill(route: str, value: str) -> str:
    import re

    path = re.sub(r"<(?:\w+:)?\w+>", value, route)
    path = path.replace("^", "").replace("$", "").replace("\\", "")
    return "/" + path.lstrip("/")


@pytest.fixture
def personas(client, db):
    from django.contrib.auth.models import Group

    member = make_user("member@contoso.com", username="member")
    staff = make_user("staff@vlsc.example", username="staff")
    staff.groups.add(Group.objects.get_or_create(name="Support staff")[0])
    return {"anonymous": None, "member": member, "staff": staff}


@pytest.mark.parametrize("who", ["anonymous", "member", "staff"])
def test_no_route_answers_junk_with_a_server_error(client, personas, who, eager_celery):
    if personas[who]:
        client.force_login(personas[who])
    seen = 0
    for route, _pattern in portal_routes():
        if "(?P<" in route or route.startswith("healthz"):
            continue
        for value in JUNK_VALUES[:3] + ["7", "9" * 25] if "<" in route else [""]:
            url = fill(route, value)
            for method in ("get", "post"):
                response = getattr(client, method)(
                    url,
                    FORM_JUNK
                    if method == "post"
                    else {"q": FORM_JUNK["q"], "page": "-1", "before": "garbage", "ref": "x" * 500},
                )
                assert response.status_code < 500, (who, method, url, response.status_code)
                seen += 1
    assert seen > 40
