"""The web benchmarks: the ceiling, the landing page, the sign-in start, the dashboard, the
sign-in callback with its token exchange against the stand-in, and the support pages (the person
page and the trends overview)."""

from __future__ import annotations

import re
import statistics
import threading
import time
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import requests
from django.conf import settings
from django.test import Client

from bench import load
from bench.load import LoadResult, Target, percentile
from bench.processes import CLIENT_ID, CLIENT_SECRET
from entra_standin.testing import sign_in

SIGN_IN_EMAIL = "alice@contoso.com"
# The dashboard as a person first sees it: the first page (50 agreements by number, no filter).
DASHBOARD_PATH = "/dashboard/"
SIGNED_IN_FLOOR_PATH = "/agreements/request-access/sent/"
PASSWORD = "Passw0rd!"


class _LoopbackSession(requests.Session):
    """Sends the portal's Secure cookies back over the loopback's plain http, as wrk does (a
    cookie policy cannot do it: requests copies the jar into a default-policy one per request)."""

    def request(self, *args, **kwargs) -> requests.Response:
        response = super().request(*args, **kwargs)
        for cookie in self.cookies:
            cookie.secure = False
        return response


def http_session() -> requests.Session:
    session = _LoopbackSession()
    session.trust_env = False
    return session


def measure(
    target: Target, *, duration: float, warmup: float, concurrency: int, tool: str
) -> LoadResult:
    """Check one request answers as expected, warm up (discarded), then measure."""
    response = requests.request(
        target.method,
        target.url,
        data=target.body or None,
        headers=target.headers,
        allow_redirects=False,
        timeout=10,
    )
    if response.status_code != target.expect:
        raise RuntimeError(
            f"{target.method} {target.url} answered {response.status_code}, "
            f"expected {target.expect}: {response.text[:300]}"
        )
    if warmup > 0:
        load.run(target, duration=warmup, concurrency=concurrency, tool=tool)
    return load.run(target, duration=duration, concurrency=concurrency, tool=tool)


def sign_in_form_token(session: requests.Session, base: str) -> str:
    """The sign-in page's form token, read with ``session`` (which keeps its CSRF cookie)."""
    page = session.get(f"{base}/sign-in/", timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    if not token:
        raise RuntimeError("no CSRF token on the sign-in page")
    return token.group(1)


def csrf_pair(base: str) -> tuple[str, str]:
    """A CSRF cookie and a form token from the sign-in page (both stay valid for reuse)."""
    session = http_session()
    token = sign_in_form_token(session, base)
    return session.cookies[settings.CSRF_COOKIE_NAME], token


def form_post_target(base: str, path: str, fields: dict[str, str]) -> Target:
    """A form posted to ``path`` with one CSRF pair (reused by every request), answered 302."""
    cookie, token = csrf_pair(base)
    return Target(
        url=f"{base}{path}",
        method="POST",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"{settings.CSRF_COOKIE_NAME}={cookie}",
        },
        body=urlencode({"csrfmiddlewaretoken": token, **fields}),
        expect=302,
    )


def sign_in_start_target(base: str) -> Target:
    return form_post_target(base, "/sign-in/", {"email": SIGN_IN_EMAIL})


def language_switch_target(base: str) -> Target:
    """The footer's language switcher, posted as the sign-in start is."""
    return form_post_target(base, "/i18n/setlang/", {"language": "en", "next": "/sign-in/"})


def session_cookie_for(user) -> str:
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def page_queries(user, url: str, *, warm: bool = True) -> int:
    """How many queries ``url`` makes for ``user`` (in this process, Django's client): on a
    second visit (caches warm, as under load), or on the first with ``warm=False``."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(user)
    if warm:
        client.get(url)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}")
    return len(queries.captured_queries)


# --- the callback ------------------------------------------------------------------------------


def _callback_url(base: str, session: requests.Session) -> str:
    """Sign-in start at the portal, then the stand-in's sign-in form; returns the callback URL
    (with code and state) the stand-in sends the browser back to."""
    token = sign_in_form_token(session, base)
    response = session.post(
        f"{base}/sign-in/",
        data={"csrfmiddlewaretoken": token, "email": SIGN_IN_EMAIL},
        allow_redirects=False,
        timeout=10,
    )
    if response.status_code != 302:
        raise RuntimeError(f"sign-in start answered {response.status_code}: {response.text[:400]}")
    url = sign_in(
        response.headers["Location"], back_to=base, email=SIGN_IN_EMAIL, password=PASSWORD
    )
    if not isinstance(url, str):
        raise RuntimeError(f"the stand-in did not send the browser back: {url.status_code}")
    return url


def _token_exchange(flow_cookie: str, code_url: str, token_session, token_endpoint: str) -> float:
    """Redeem the code at the stand-in's token endpoint directly, as MSAL would inside the
    callback; returns its time in ms. The flow (PKCE verifier) is read from the portal's flow
    cookie (this process shares the servers' secret key)."""
    from accounts.entra.flow_cookie import open_sealed

    params = {k: v[0] for k, v in parse_qs(urlsplit(code_url).query).items()}
    flow = open_sealed(flow_cookie, state=params["state"]).msal_flow
    t0 = time.perf_counter()
    response = token_session.post(
        token_endpoint,
        data={
            "grant_type": "authorization_code",
            "code": params["code"],
            "redirect_uri": flow["redirect_uri"],
            "code_verifier": flow["code_verifier"],
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "scope": " ".join(flow.get("scope") or []),
        },
        timeout=10,
    )
    elapsed = (time.perf_counter() - t0) * 1000
    if response.status_code != 200 or "id_token" not in response.json():
        raise RuntimeError(f"token endpoint answered {response.status_code}: {response.text[:200]}")
    return elapsed


def callback(
    base: str,
    *,
    standin_tls_url: str,
    ca_path: str,
    duration: float,
    concurrency: int,
) -> dict:
    """Each thread loops until the deadline: a full sign-in up to the callback URL (untimed),
    then alternately the portal's callback (timed: MSAL's token exchange, id_token validation,
    the session) or the stand-in's token endpoint alone for the same kind of code (timed)."""
    token_session = requests.Session()
    token_session.trust_env = False
    token_session.verify = ca_path
    token_endpoint = token_session.get(
        f"{standin_tls_url}/common/v2.0/.well-known/openid-configuration", timeout=10
    ).json()["token_endpoint"]
    lock = threading.Lock()
    callback_ms: list[float] = []
    token_ms: list[float] = []
    errors: list[str] = []
    # One sign-in first, alone: the first callback creates the user.
    first = http_session()
    first.get(_callback_url(base, first), allow_redirects=False, timeout=10)
    start = time.monotonic()
    deadline = start + duration

    def worker(i: int) -> None:
        n = 0
        while time.monotonic() < deadline:
            session = http_session()
            try:
                url = _callback_url(base, session)
                if (n + i) % 2 == 0:
                    t0 = time.perf_counter()
                    response = session.get(url, allow_redirects=False, timeout=20)
                    elapsed = (time.perf_counter() - t0) * 1000
                    if response.status_code != 302:
                        raise RuntimeError(f"callback answered {response.status_code}")
                    with lock:
                        callback_ms.append(elapsed)
                else:
                    from accounts.entra.flow_cookie import COOKIE_NAME

                    sealed = session.cookies[COOKIE_NAME]
                    elapsed = _token_exchange(sealed, url, token_session, token_endpoint)
                    with lock:
                        token_ms.append(elapsed)
            except Exception as exc:  # counted and reported, the run goes on
                with lock:
                    errors.append(repr(exc)[:200])
            n += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(duration + 60)
    elapsed = time.monotonic() - start
    callback_ms.sort()
    token_ms.sort()
    token_p50 = percentile(token_ms, 0.5)
    return {
        "tool": "python",
        "seconds": round(elapsed, 2),
        "concurrency": concurrency,
        "requests": len(callback_ms),
        "rps": round(len(callback_ms) / elapsed, 1),
        "p50_ms": round(percentile(callback_ms, 0.5), 2),
        "p99_ms": round(percentile(callback_ms, 0.99), 2),
        "errors": len(errors),
        "error_sample": errors[:3],
        "standin_token_requests": len(token_ms),
        "standin_token_p50_ms": round(token_p50, 2),
        "standin_token_p99_ms": round(percentile(token_ms, 0.99), 2),
        "portal_own_p50_ms": round(percentile(callback_ms, 0.5) - token_p50, 2),
        "mean_ms": round(statistics.fmean(callback_ms), 2) if callback_ms else 0.0,
    }


# --- the support lookup ------------------------------------------------------------------------


def support_person_url(base: str, n: int) -> str:
    from bench.seed import person_address

    return f"{base}/support/person/?{urlencode({'email': person_address(n)})}"


def support_lookup_latency(base: str, *, cookie: str, people: int, samples: int) -> dict:
    """``samples`` lookups of random people, one after another (no queueing in the figure): the
    search by address (answered by a redirect to the person) and the person's page with the
    first page of their timeline, each timed on its own."""
    import random

    from bench.seed import person_address

    rng = random.Random(8)  # the same people every run
    session = requests.Session()
    session.trust_env = False
    headers = {"Cookie": cookie}
    search_ms: list[float] = []
    page_ms: list[float] = []
    errors: list[str] = []
    for _ in range(samples):
        n = rng.randrange(people)
        t0 = time.perf_counter()
        found = session.get(
            f"{base}/support/",
            params={"q": person_address(n)},
            headers=headers,
            allow_redirects=False,
            timeout=20,
        )
        t1 = time.perf_counter()
        location = found.headers.get("Location", "")
        if found.status_code != 302 or not location.startswith("/support/person/"):
            errors.append(f"search answered {found.status_code} {location}")
            continue
        page = session.get(urljoin(base, location), headers=headers, timeout=20)
        t2 = time.perf_counter()
        if page.status_code != 200 or person_address(n) not in page.text:
            errors.append(f"person page answered {page.status_code}")
            continue
        search_ms.append((t1 - t0) * 1000)
        page_ms.append((t2 - t1) * 1000)
    search_ms.sort()
    page_ms.sort()
    return {
        "samples": samples,
        "search_p50_ms": round(percentile(search_ms, 0.5), 2),
        "search_p95_ms": round(percentile(search_ms, 0.95), 2),
        "page_p50_ms": round(percentile(page_ms, 0.5), 2),
        "page_p95_ms": round(percentile(page_ms, 0.95), 2),
        "page_p99_ms": round(percentile(page_ms, 0.99), 2),
        "errors": len(errors),
        "error_sample": errors[:3],
    }


# --- the support overview ----------------------------------------------------------------------

SUPPORT_OVERVIEW_PATH = "/support/overview/"


def support_overview_latency(base: str, *, cookie: str, samples: int) -> dict:
    """``samples`` requests for the overview, one after another (no queueing in the figure):
    its two grouped queries over the last 30 days of sign-in events and registrations."""
    session = requests.Session()
    session.trust_env = False
    headers = {"Cookie": cookie}
    page_ms: list[float] = []
    errors: list[str] = []
    for _ in range(samples):
        t0 = time.perf_counter()
        page = session.get(base + SUPPORT_OVERVIEW_PATH, headers=headers, timeout=20)
        elapsed = (time.perf_counter() - t0) * 1000
        if page.status_code != 200 or "chart-outcomes" not in page.text:
            errors.append(f"overview answered {page.status_code}")
            continue
        page_ms.append(elapsed)
    page_ms.sort()
    return {
        "samples": samples,
        "page_p50_ms": round(percentile(page_ms, 0.5), 2),
        "page_p95_ms": round(percentile(page_ms, 0.95), 2),
        "page_p99_ms": round(percentile(page_ms, 0.99), 2),
        "errors": len(errors),
        "error_sample": errors[:3],
    }
