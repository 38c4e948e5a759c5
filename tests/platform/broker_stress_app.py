"""A Celery app for the broker tests that need separate OS processes.

Configured from the environment so that ``celery -A tests.platform.broker_stress_app worker``,
the publishers and the consumers started by a test share one broker folder and one transport:

- ``BROKER_STRESS_DIR``: the test's folder (``broker/``, ``control/``, ``arrivals/``, ``ready``,
  ``go``); the test creates ``broker/``;
- ``BROKER_STRESS_TRANSPORT``: the kombu transport class under test.

The task records each delivery as a file of its own in ``arrivals/`` (``<message id>.<uuid>``),
so a duplicate shows as a second file and nothing is overwritten. Commands:

- ``python -m tests.platform.broker_stress_app publish <name> <large> <small> <large bytes>``
- ``python -m tests.platform.broker_stress_app drain <queue>``: connect, touch ``ready-<pid>``,
  and once ``go`` exists take messages off ``queue`` until it is empty, printing each ``id``.
"""

from __future__ import annotations

import os
import sys
import time
import uuid
from pathlib import Path
from queue import Empty

from celery import Celery
from celery.signals import worker_ready

PATCHED = "vlsc_portal.broker:Transport"
STOCK = "kombu.transport.filesystem:Transport"


def build_app(folder: Path, transport: str) -> Celery:
    """A Celery app on the filesystem broker in ``folder / "broker"``, set up as the portal's
    settings set up the embedded broker (acks late, prefetch one, JSON) but polling faster."""
    celery_app = Celery("broker_stress", set_as_current=False)
    celery_app.conf.update(
        broker_url="filesystem://",
        broker_transport=transport,
        broker_transport_options={
            "data_folder_in": str(folder / "broker"),
            "data_folder_out": str(folder / "broker"),
            "control_folder": str(folder / "control"),
            # Polled far more often than the portal's 0.2 s, so that the stock transport meets a
            # message being written within the first few (kombu issue 1551) on every run.
            "polling_interval": 0.005,
        },
        task_serializer="json",
        accept_content=["json"],
        task_acks_late=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        worker_hijack_root_logger=False,
    )
    return celery_app


FOLDER = Path(os.environ.get("BROKER_STRESS_DIR", "var/broker-stress"))
app = build_app(FOLDER, os.environ.get("BROKER_STRESS_TRANSPORT", PATCHED))


@app.task(name="broker_stress.record")
def record(message_id: str, padding: str) -> None:
    """Record one delivery of ``message_id``; ``padding`` only makes the message large."""
    arrivals = FOLDER / "arrivals"
    arrivals.mkdir(exist_ok=True)
    (arrivals / f"{message_id}.{uuid.uuid4().hex}").touch()


@worker_ready.connect
def _say_ready(**kwargs: object) -> None:
    (FOLDER / "ready").touch()


def publish(name: str, large: int, small: int, large_bytes: int) -> None:
    """Publish ``large`` messages of ``large_bytes`` of padding and ``small`` ones, interleaved
    and a little apart, so that writes happen while the worker polls the folder."""
    for turn in range(max(large, small)):
        if turn < large:
            record.delay(f"{name}-large-{turn}", "x" * large_bytes)
        if turn < small:
            record.delay(f"{name}-small-{turn}", "x" * 64)
        time.sleep(0.03)


def drain(queue: str) -> None:
    with app.connection_for_read() as connection:
        channel = connection.default_channel
        (FOLDER / f"ready-{os.getpid()}").touch()
        deadline = time.monotonic() + 60
        while not (FOLDER / "go").exists():
            if time.monotonic() > deadline:
                raise SystemExit("no go")
            time.sleep(0.005)
        while True:
            try:
                payload = channel._get(queue)
            except Empty:
                return
            print(payload["id"], flush=True)


if __name__ == "__main__":
    command, *arguments = sys.argv[1:]
    if command == "publish":
        name, large, small, large_bytes = arguments
        publish(name, int(large), int(small), int(large_bytes))
    elif command == "drain":
        drain(*arguments)
    else:
        raise SystemExit(f"unknown command {command!r}")
