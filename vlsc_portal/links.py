"""Links to the portal in what leaves it (emails): always on its configured public address,
``settings.PORTAL_URL`` (``make run`` sets it from ``PORT``; production requires an https one,
``vlsc_portal/deployment.py``), never on whatever host a request happened to name."""

from __future__ import annotations

from django.conf import settings


def portal_link(path: str = "/") -> str:
    """The absolute address of ``path`` (a path on the portal, starting with ``/``)."""
    if not path.startswith("/"):
        raise ValueError(f"not a path on the portal: {path!r}")
    return settings.PORTAL_URL + path
