"""Drives the stand-in's sign-in pages with ``requests``, for tests that use Django's test client
on the portal side (fast) rather than a browser (``entra_standin.testing.sign_in``)."""

from __future__ import annotations

from entra_standin.testing import sign_in

PORTAL = "http://testserver"


def sign_in_at_standin(auth_uri: str, *, password: str = "Passw0rd!", email: str | None = None):
    """The callback URL the stand-in sends the browser back to, or its last response."""
    return sign_in(auth_uri, back_to=PORTAL, password=password, email=email)
