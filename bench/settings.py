"""The portal's settings, plus the ceiling view's URL (``bench/urls.py``) and a per-IP sign-in
limit one loopback client cannot reach; nothing else changes, so the ceiling runs on exactly the
server setup the portal's pages run on."""

from vlsc_portal.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"

# Every load client here is one IP (127.0.0.1): the sign-in start's per-IP limit (30 a minute)
# would answer 429 after the first 30 requests. A limit no run reaches keeps the limiter's own
# work (one counter update in Redis per request) in the figure.
ACCOUNT_RATE_LIMITS = {  # noqa: F405
    **ACCOUNT_RATE_LIMITS,  # noqa: F405
    "sign_in_start": "100000000/m/ip",
    # One application's token drives the API benchmark.
    "api": "100000000/m/key",
}
