"""The scale-out shape: two web processes, two Celery workers and one beat on one PostgreSQL
database and one Redis, and a person walking sign-in, registration with the emailed link and the
dashboard with every request going to the other web process (no sticky sessions).

bob@fabrikam.com signs in at the stand-in and registers the address his invitation went to,
licensing@fabrikam.com; a worker emails the link into the dev mailbox (a Maildir); he opens it,
confirms, and his dashboard shows Fabrikam's agreement."""

from __future__ import annotations

import io
import mailbox
import re
from collections import Counter

import pytest
from django.core.management import call_command

from accounts.models import Registration
from notifications.models import OutboundEmail
from tests.processes import (
    celery_beat,
    celery_worker,
    exited,
    free_port,
    gunicorn,
    wait_for,
)
from tests.reliability.harness import DEADLINE, Browser, csrf_token, services_required

pytestmark = [services_required, pytest.mark.django_db(transaction=True)]

SUBJECT = "Thank you for Registering with the Volume Licensing Service Center"


def verification_link(mailbox_dir) -> str | None:
    if not mailbox_dir.exists():
        return None
    for message in mailbox.Maildir(mailbox_dir, create=False):
        if message["To"] == "licensing@fabrikam.com" and message["Subject"] == SUBJECT:
            body = message.get_payload(decode=True).decode()
            return re.search(r"http://127\.0\.0\.1:\d+/register/confirm/[^\s]+/", body).group(0)
    return None


def test_two_web_processes_two_workers_and_a_beat_serve_one_person_without_sticky_sessions(
    redis_server, portal_env, standin, tmp_path
):
    call_command("seed_demo", stdout=io.StringIO())
    ports = [free_port(), free_port()]
    for port in ports:
        standin.register_redirect_uri(f"http://127.0.0.1:{port}/accounts/entra/login/callback/")
    # Emails link to the portal's configured address: the first web process here.
    env = portal_env(
        redis_server.url,
        standin=standin,
        CELERY_HEARTBEAT_SECONDS="2",
        PORTAL_URL=f"http://127.0.0.1:{ports[0]}",
    )
    mailbox_dir = tmp_path / "mailbox"  # the dev mailbox of portal_env
    log = {name: tmp_path / f"{name}.log" for name in ("web1", "web2", "w1", "w2", "beat")}
    with (
        gunicorn(env, port=ports[0], workers=1, log=log["web1"]) as web1,
        gunicorn(env, port=ports[1], workers=1, log=log["web2"]) as web2,
        celery_worker(env, concurrency=1, log=log["w1"], name="w1") as w1,
        celery_worker(env, concurrency=1, log=log["w2"], name="w2") as w2,
        celery_beat(env, log=log["beat"]) as beat,
    ):
        procs = {
            "web1": (web1.proc, log["web1"]),
            "web2": (web2.proc, log["web2"]),
            "worker w1": (w1, log["w1"]),
            "worker w2": (w2, log["w2"]),
            "beat": (beat, log["beat"]),
        }
        bob = Browser([web1.url, web2.url])

        signed_in = bob.sign_in("bob@fabrikam.com", standin_http_url=standin.http_url)
        assert (signed_in.status_code, signed_in.headers["Location"]) == (302, "/dashboard/")
        assert bob.get("/dashboard/").headers["Location"] == "/register/"
        registered = bob.post_form("/register/", {"email": "licensing@fabrikam.com"})
        assert (registered.status_code, registered.headers["Location"]) == (
            302,
            "/register/status/",
        )
        status = bob.get("/register/status/")
        assert status.status_code == 200 and "l•••@fabrikam.com" in status.text

        link = wait_for(
            lambda: verification_link(mailbox_dir),
            timeout=DEADLINE,
            what="the verification email in the dev mailbox",
            procs=procs,
        )
        page = bob.get(link)
        assert page.status_code == 200 and "Confirm" in page.text
        assert Registration.objects.get().state == Registration.State.PENDING
        confirmed = bob.request("POST", link, data={"csrfmiddlewaretoken": csrf_token(page.text)})
        assert confirmed.status_code == 200 and "Registration complete" in confirmed.text
        for _ in bob.bases:  # the dashboard from each web process
            dashboard = bob.get("/dashboard/")
            assert dashboard.status_code == 200
            assert "O8880202" in dashboard.text and "Fabrikam" in dashboard.text

        # Beat schedules, a worker runs: the heartbeat reaches /healthz on either web process.
        def heartbeat() -> dict | None:
            body = bob.get("/healthz").json()
            return body if body["worker_heartbeat"] else None

        health = wait_for(
            heartbeat, timeout=DEADLINE, what="a heartbeat scheduled by beat", procs=procs
        )
        assert health["status"] == "ok"
        for name, (proc, _) in procs.items():
            assert exited(proc) is None, name

    served = Counter(visit.base for visit in bob.visits)
    assert set(served) == {web1.url, web2.url}
    turns = [visit.base for visit in bob.visits]
    assert all(a != b for a, b in zip(turns, turns[1:], strict=False))  # always the other one
    assert not [v for v in bob.visits if v.status >= 500]
    [email] = OutboundEmail.objects.filter(to="licensing@fabrikam.com")
    assert email.state == OutboundEmail.State.SENT
    assert Registration.objects.get().state == Registration.State.COMPLETED
    print(
        f"\nscale-out: {len(bob.visits)} requests, {dict(served)} per web process, "
        f"all {sorted(Counter(v.status for v in bob.visits).items())}"
    )
