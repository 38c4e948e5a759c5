"""A worker killed (SIGKILL, with its pool) in the middle of sending an email: once a new worker
runs, the email goes out exactly once.

Real processes on a Redis of the test's own and the test database: beat, a worker, and an SMTP
sink that reads the message whole and then holds its answer, so the worker dies with the row
claimed (SENDING) and nothing delivered. Beat hands the row over again once it is stale
(``OUTBOX_STALE_SENDING_SECONDS``, shortened here; README "Reliability")."""

from __future__ import annotations

import time

import pytest
from django.utils import timezone

from bench.smtp_sink import running_sink
from entra_standin.testing import tail_log
from notifications import services
from notifications.models import OutboundEmail
from notifications.tasks import send_email
from tests.processes import (
    celery_beat,
    celery_worker,
    exited,
    kill_group,
    wait_for,
    wait_for_log,
)
from tests.reliability.harness import DEADLINE, services_required
from vlsc_portal.celery import app

pytestmark = [services_required, pytest.mark.django_db(transaction=True)]
State = OutboundEmail.State
STALE_SENDING_SECONDS = 8  # longer than the test takes from the claim to the kill


def publish(redis_url: str, email_id: int) -> str:
    """Hand the row to the workers' broker (the test process's own broker is another Redis)."""
    with app.connection_for_write(redis_url) as conn:
        return send_email.apply_async((email_id,), connection=conn).id


def test_a_worker_killed_while_sending_leaves_the_email_to_be_sent_once(
    redis_server, portal_env, tmp_path
):
    with running_sink() as sink:
        env = portal_env(
            redis_server.url,
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=str(sink.port),
            EMAIL_USE_TLS="false",
            OUTBOX_STALE_SENDING_SECONDS=str(STALE_SENDING_SECONDS),
            OUTBOX_REQUEUE_SECONDS="1",
        )
        logs = {name: tmp_path / f"{name}.log" for name in ("beat", "first", "second")}
        email = OutboundEmail.objects.create(
            to="licensing@fabrikam.com",
            subject="Thank you for Registering",
            body="Your link: http://127.0.0.1/register/confirm/x/",
            kind="registration",
            sensitive=True,
            queued_at=timezone.now(),
        )
        with (
            celery_beat(env, log=logs["beat"]) as beat,
            celery_worker(
                env, concurrency=1, log=logs["first"], name="first", loglevel="INFO"
            ) as first,
        ):
            wait_for_log(first, logs["first"], " ready.", timeout=DEADLINE)
            sink.hold_next()
            publish(redis_server.url, email.pk)
            wait_for(
                sink.holding.is_set,
                timeout=DEADLINE,
                what="the worker in the middle of sending",
                procs={"first worker": (first, logs["first"])},
            )
            email.refresh_from_db()
            assert (email.state, email.attempts) == (State.SENDING, 1)

            kill_group(first)  # the worker and its pool process, at once
            killed_at = time.monotonic()
            wait_for(lambda: exited(first) is not None, timeout=DEADLINE, what="the kill")
            assert sink.count() == 0

            with celery_worker(
                env, concurrency=1, log=logs["second"], name="second", loglevel="INFO"
            ) as second:
                procs = {"beat": (beat, logs["beat"]), "second worker": (second, logs["second"])}
                wait_for(
                    lambda: OutboundEmail.objects.get(pk=email.pk).state == State.SENT,
                    timeout=DEADLINE,
                    what="the email sent by the second worker",
                    procs=procs,
                )
                resent_after = time.monotonic() - killed_at

                # The killed worker's own message comes back from the broker after its
                # visibility timeout; delivered again, it finds the row sent and does nothing.
                again = publish(redis_server.url, email.pk)
                wait_for_log(second, logs["second"], f"[{again}] succeeded", timeout=DEADLINE)
                # Beat keeps requeueing stale rows every second: a few more rounds change nothing.
                rounds = tail_log(logs["beat"], 10**7).count("requeue-stale-emails")
                wait_for(
                    lambda: (
                        tail_log(logs["beat"], 10**7).count("requeue-stale-emails") >= rounds + 3
                    ),
                    timeout=DEADLINE,
                    what="three more requeue rounds",
                    procs=procs,
                )

    email.refresh_from_db()
    assert (email.state, email.attempts) == (State.SENT, 2)
    assert "[removed after delivery" in email.body
    [message] = sink.messages()
    assert message["Message-ID"] == services.message_id(email)
    assert message["To"] == "licensing@fabrikam.com"
    assert f"[{again}] succeeded" in tail_log(logs["second"], 10**7)
    assert ": False" in tail_log(logs["second"], 10**7).split(f"[{again}] succeeded")[1][:80]
    print(
        f"\nworker killed mid-send: delivered once {resent_after:.1f} s after the kill "
        f"(stale after {STALE_SENDING_SECONDS} s, requeued every 1 s); sink count {sink.count()}"
    )
