import mailbox
import smtplib
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from kombu.exceptions import OperationalError

from notifications import services, tasks
from notifications.models import OutboundEmail
from tests.waiting import RESULT_TIMEOUT, wait_until

State = OutboundEmail.State


def sent(email: OutboundEmail) -> bool:
    email.refresh_from_db()
    return email.state == State.SENT


def queue(**overrides):
    fields = dict(to="jane@fabrikam.com", subject="Hello", body="Body", kind="test")
    fields.update(overrides)
    return services.queue_email(**fields)


@pytest.mark.django_db
def test_it_queues_on_commit_and_the_task_sends_once(
    django_capture_on_commit_callbacks, monkeypatch
):
    handed = []
    monkeypatch.setattr(tasks.send_email, "delay", handed.append)
    with django_capture_on_commit_callbacks(execute=True):
        email = queue()
    assert handed == [email.pk]
    assert services.deliver(email.pk) is True
    assert services.deliver(email.pk) is False  # running it twice sends once
    assert len(mail.outbox) == 1
    email.refresh_from_db()
    assert (email.state, email.attempts) == (State.SENT, 1)


@pytest.mark.django_db
def test_a_dedupe_key_makes_queueing_idempotent(django_capture_on_commit_callbacks, monkeypatch):
    handed = []
    monkeypatch.setattr(tasks.send_email, "delay", handed.append)
    with django_capture_on_commit_callbacks(execute=True):
        first = queue(dedupe_key="welcome:1")
        second = queue(dedupe_key="welcome:1", subject="Other")
    assert first.pk == second.pk
    assert handed == [first.pk]
    assert OutboundEmail.objects.count() == 1


@pytest.mark.django_db
def test_a_sensitive_body_is_wiped_once_sent():
    email = queue(body="code 123456", sensitive=True)
    services.deliver(email.pk)
    assert mail.outbox[0].body == "code 123456"
    email.refresh_from_db()
    assert "123456" not in email.body


@pytest.mark.django_db
def test_a_failed_send_goes_back_to_the_queue_then_fails_for_good(monkeypatch):
    email = queue()

    def refuse(self, *a, **k):
        raise smtplib.SMTPServerDisconnected("gone")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", refuse)
    for attempt in range(1, services.MAX_ATTEMPTS + 1):
        with pytest.raises(smtplib.SMTPServerDisconnected):
            services.deliver(email.pk)
        email.refresh_from_db()
        assert email.attempts == attempt
        assert "gone" in email.last_error
    assert email.state == State.FAILED


@pytest.mark.django_db
def test_every_attempt_at_a_row_carries_the_same_message_id(monkeypatch):
    """A second send after a worker died mid-send can be recognised by the receiver."""
    email, other = queue(), queue()
    tried = []

    def refuse(self, *a, **k):
        tried.append(self.message()["Message-ID"])
        raise smtplib.SMTPServerDisconnected("gone")

    with monkeypatch.context() as patch:
        patch.setattr("django.core.mail.EmailMessage.send", refuse)
        with pytest.raises(smtplib.SMTPServerDisconnected):
            services.deliver(email.pk)
    assert services.deliver(email.pk) is True
    services.deliver(other.pk)
    first, second = (m.message()["Message-ID"] for m in mail.outbox)
    assert tried == [first] == [services.message_id(email)]
    assert first.endswith("@vlsc.example>")
    assert second != first


@pytest.mark.django_db
def test_with_the_broker_down_the_row_survives_and_the_beat_requeues_it(
    django_capture_on_commit_callbacks, monkeypatch
):
    def broker_down(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(tasks.send_email, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        email = queue()
    email.refresh_from_db()
    assert email.state == State.QUEUED
    assert services.requeue_stale_emails() == 0  # not stale yet

    handed = []
    monkeypatch.setattr(tasks.send_email, "delay", handed.append)
    OutboundEmail.objects.update(queued_at=timezone.now() - timedelta(minutes=5))
    assert services.requeue_stale_emails() == 1
    assert handed == [email.pk]
    assert services.requeue_stale_emails() == 0  # its queued_at moved on: not handed twice


@pytest.mark.django_db
def test_a_row_stuck_in_sending_is_queued_again():
    email = queue()
    OutboundEmail.objects.filter(pk=email.pk).update(
        state=State.SENDING, queued_at=timezone.now() - timedelta(hours=1)
    )
    services.requeue_stale_emails()
    email.refresh_from_db()
    assert email.state == State.QUEUED


@pytest.mark.django_db
def test_a_row_whose_worker_died_is_handed_over_once_it_is_stale(settings, monkeypatch):
    settings.OUTBOX_STALE_SENDING_SECONDS = 5
    handed = []
    monkeypatch.setattr(tasks.send_email, "delay", handed.append)
    dead, busy = queue(), queue()
    now = timezone.now()
    OutboundEmail.objects.filter(pk=dead.pk).update(
        state=State.SENDING, queued_at=now - timedelta(seconds=6)
    )
    OutboundEmail.objects.filter(pk=busy.pk).update(
        state=State.SENDING, queued_at=now - timedelta(seconds=1)
    )
    assert services.requeue_stale_emails() == 1
    assert handed == [dead.pk]
    assert OutboundEmail.objects.get(pk=dead.pk).state == State.QUEUED
    assert OutboundEmail.objects.get(pk=busy.pk).state == State.SENDING
    assert services.requeue_stale_emails() == 0  # handed over just now: not again


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_delivers_through_the_broker_into_the_mailbox(celery_worker, mailbox_dir):
    email = queue(to="licensing@fabrikam.com", subject="Through the worker")
    wait_until(lambda: sent(email), what="the worker to send the email")
    box = mailbox.Maildir(mailbox_dir, create=False)
    assert [m["Subject"] for m in box] == ["Through the worker"]


@pytest.mark.django_db(transaction=True)
def test_after_an_outage_the_worker_sends_what_waited(celery_worker, mailbox_dir, monkeypatch):
    def broker_down(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(tasks.send_email, "delay", broker_down)
    email = queue(subject="Waited out the outage")
    monkeypatch.undo()
    OutboundEmail.objects.update(queued_at=timezone.now() - timedelta(minutes=5))
    tasks.requeue_stale_emails.delay().get(timeout=RESULT_TIMEOUT)
    wait_until(lambda: sent(email), what="the worker to send the email")
    assert [m["Subject"] for m in mailbox.Maildir(mailbox_dir)] == ["Waited out the outage"]
