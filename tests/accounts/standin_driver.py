"""Drives the stand-in's sign-in pages with ``requests``, for tests that use Django's test client
on the portal side (fast) rather than a browser."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import urljoin

import requests

PORTAL = "http://testserver"


def _form(html: str) -> tuple[str, dict[str, str]]:
    action = re.search(r'<form[^>]*method="post"[^>]*?(?:action="([^"]*)")?[^>]*>', html, re.I)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    return unescape(action.group(1) or "") if action else "", {
        "csrfmiddlewaretoken": token.group(1) if token else ""
    }


def sign_in_at_standin(auth_uri: str, *, password: str = "Passw0rd!", email: str | None = None):
    """Follow the authorize URL, post the sign-in form; return the URL the stand-in sends the
    browser back to (the portal's callback), or the last response if it stays on its pages."""
    session = requests.Session()
    session.trust_env = False
    response = session.get(auth_uri, allow_redirects=False, timeout=10)
    url = auth_uri
    posted = False
    for _ in range(10):
        location = response.headers.get("Location")
        if response.status_code in (301, 302, 303) and location:
            url = urljoin(url, location)
            if url.startswith(PORTAL):
                return url
            response = session.get(url, allow_redirects=False, timeout=10)
            continue
        if posted or 'name="password"' not in response.text:
            return response
        action, data = _form(response.text)
        email_match = re.search(r'name="email"[^>]*value="([^"]*)"', response.text)
        data["email"] = email or (unescape(email_match.group(1)) if email_match else "")
        data["password"] = password
        posted = True
        url = urljoin(url, action) if action else url
        response = session.post(url, data=data, allow_redirects=False, timeout=10)
    raise AssertionError("the stand-in kept redirecting")
