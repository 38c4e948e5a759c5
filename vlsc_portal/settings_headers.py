"""The response headers' policies: Content-Security-Policy and Permissions-Policy, the part of
the settings that lists what a page may load and use. ``vlsc_portal/settings.py`` includes it;
``vlsc_portal/headers.py`` adds the identity provider's origins to form-action per response."""

from __future__ import annotations

# Content-Security-Policy (django-csp) with no inline script or style: the portal's templates and
# Django's admin load static files only. form-action also gets the identity provider's origins,
# read from ENTRA_AUTHORITY_HOST and STANDIN_HTTP_URL at each response (vlsc_portal/headers.py):
# the sign-in and sign-out forms are redirected there, and Chrome applies form-action to that.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}
# Permissions-Policy (django-permissions-policy): the portal uses none of these browser features.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in [
        "accelerometer",
        "autoplay",
        "browsing-topics",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "hid",
        "idle-detection",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    ]
}
