"""A backlog goes out in batches over one SMTP connection, with the outbox's guarantees per row:
a refused message fails alone and is retried, a broken connection puts the untried rows back,
and workers racing over the same rows never send one twice."""

import random
import smtplib
import threading

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from bench.smtp_sink import running_sink
from entra_standin.testing import free_port
from notifications import services
from notifications.models import OutboundEmail

State = OutboundEmail.State


def backlog(count: int, **fields) -> list[OutboundEmail]:
    return [
        OutboundEmail.objects.create(
            to=f"person-{n}@fabrikam.com",
            subject=f"Hello {n}",
            body="Body",
            kind="test",
            queued_at=timezone.now(),
            **fields,
        )
        for n in range(count)
    ]


def states(emails: list[OutboundEmail]) -> list[tuple[str, int]]:
    return [
        OutboundEmail.objects.values_list("state", "attempts").get(pk=email.pk) for email in emails
    ]


@pytest.fixture
def sink(settings):
    with running_sink() as sink:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = sink.port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        yield sink


@pytest.mark.django_db
def test_a_backlog_goes_out_in_one_batch_over_one_smtp_connection(sink):
    emails = backlog(5, sensitive=True)
    assert services.deliver(emails[2].pk) is True
    assert sink.count() == 5 and sink.sessions == 1
    assert states(emails) == [(State.SENT, 1)] * 5
    assert all(e.body == services.REDACTED for e in OutboundEmail.objects.all())
    # Their own tasks arrive later and find them sent: nothing more goes out.
    assert [services.deliver(e.pk) for e in emails] == [False] * 5
    assert sink.count() == 5
    ids = [m["Message-ID"] for m in sink.messages()]
    assert ids[0] == services.message_id(emails[2])  # the task's own row first
    assert sorted(ids) == sorted(services.message_id(e) for e in emails)


@pytest.mark.django_db
def test_a_batch_takes_at_most_batch_size_rows(sink):
    emails = backlog(5)
    assert services.deliver(emails[0].pk, batch_size=3) is True
    assert states(emails) == [(State.SENT, 1)] * 3 + [(State.QUEUED, 0)] * 2


@pytest.mark.django_db
def test_one_refused_recipient_fails_alone_and_is_retried_by_its_own_task(sink):
    first, refused, third = backlog(3)
    sink.refuse(refused.to)
    assert services.deliver(first.pk) is True
    assert states([first, refused, third]) == [(State.SENT, 1), (State.QUEUED, 1), (State.SENT, 1)]
    refused.refresh_from_db()
    assert "550" in refused.last_error
    assert sink.sessions == 1  # the refusal did not cost the connection

    # Another batch leaves the failed row to its own retry (and its backoff) ...
    [later] = backlog(1)
    assert services.deliver(later.pk) is True
    assert states([refused, later]) == [(State.QUEUED, 1), (State.SENT, 1)]
    # ... which sends it once the server takes it.
    sink.refuse()
    assert services.deliver(refused.pk) is True
    assert states([refused]) == [(State.SENT, 2)]
    assert sorted(m["To"] for m in sink.messages()) == sorted(
        e.to for e in (first, refused, third, later)
    )


@pytest.mark.django_db
def test_a_refused_own_row_raises_for_the_task_retry_after_the_others_are_sent(sink):
    own, other = backlog(2)
    sink.refuse(own.to)
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        services.deliver(own.pk)
    assert states([own, other]) == [(State.QUEUED, 1), (State.SENT, 1)]


@pytest.mark.django_db
def test_a_broken_connection_ends_the_batch_and_puts_the_untried_rows_back(monkeypatch):
    emails = backlog(4)
    real_send = mail.EmailMessage.send
    calls = []

    def send(self, *args, **kwargs):
        calls.append(self.to[0])
        if len(calls) == 2:
            raise smtplib.SMTPServerDisconnected("gone")
        return real_send(self, *args, **kwargs)

    monkeypatch.setattr("django.core.mail.EmailMessage.send", send)
    assert services.deliver(emails[0].pk) is True
    assert len(calls) == 2  # nothing tried after the connection broke
    assert states(emails) == [
        (State.SENT, 1),
        (State.QUEUED, 1),
        (State.QUEUED, 0),
        (State.QUEUED, 0),
    ]
    # The untried rows are fresh again: the next task takes them in its batch.
    assert services.deliver(emails[2].pk) is True
    assert states(emails[2:]) == [(State.SENT, 1)] * 2


@pytest.mark.django_db
def test_with_no_smtp_server_the_task_row_fails_and_the_others_go_back_untried(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nothing listens
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    own, other = backlog(2)
    with pytest.raises(ConnectionRefusedError):
        services.deliver(own.pk)
    assert states([own, other]) == [(State.QUEUED, 1), (State.QUEUED, 0)]
    own.refresh_from_db()
    assert "ConnectionRefusedError" in own.last_error


@pytest.mark.django_db
def test_a_batch_starts_no_send_after_half_the_staleness(settings):
    settings.OUTBOX_STALE_SENDING_SECONDS = 0  # every row after the first is past the cut-off
    emails = backlog(3)
    assert services.deliver(emails[0].pk) is True
    assert states(emails) == [(State.SENT, 1), (State.QUEUED, 0), (State.QUEUED, 0)]
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_workers_racing_over_one_backlog_never_send_a_row_twice():
    """Four workers each run every row's task, in their own order and with small batches: on
    PostgreSQL the batches are claimed with SKIP LOCKED, on SQLite by its one writer."""
    emails = backlog(60)
    ids = [e.pk for e in emails]
    results: list[bool] = []
    errors: list[BaseException] = []

    def worker(seed: int) -> None:
        order = ids[:]
        random.Random(seed).shuffle(order)
        try:
            for email_id in order:
                results.append(services.deliver(email_id, batch_size=7))
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    sent_ids = [m.extra_headers["Message-ID"] for m in mail.outbox]
    assert len(sent_ids) == len(set(sent_ids)) == 60
    assert len(results) == 240 and 0 < results.count(True) <= 60
    assert states(emails) == [(State.SENT, 1)] * 60
