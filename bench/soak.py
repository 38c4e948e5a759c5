"""Soak a running ``make run``: bursts of tasks through the broker for a while, then figures.

    .venv/bin/python -m bench.soak --minutes 60 --portal http://localhost:8000

Run it from the same checkout as ``make run`` (it publishes through the same settings, so the
same broker). Every ``--every`` seconds it publishes a burst of heartbeat tasks, a few of them
carrying megabytes of header padding (the size that killed the worker on kombu's stock filesystem
transport, kombu issue 1551), waits for every result, and asks the portal for ``/`` and
``/healthz``. It prints one line per burst and a summary; it exits non-zero if a task was lost or
the portal stopped answering. Loopback only; bounded by ``--minutes``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import urllib.error
import urllib.request


def fetch(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback URL
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--every", type=float, default=20.0, help="seconds between bursts")
    parser.add_argument("--small", type=int, default=20, help="small tasks per burst")
    parser.add_argument("--large", type=int, default=2, help="large tasks per burst")
    parser.add_argument("--megabytes", type=float, default=4.0, help="padding of a large task")
    parser.add_argument("--portal", default="http://localhost:8000")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vlsc_portal.settings")
    import django

    django.setup()
    from vlsc_portal.tasks import heartbeat

    padding = "x" * int(args.megabytes * 1024 * 1024)
    sent = done = lost = 0
    statuses: dict[str, dict[int, int]] = {"/": {}, "/healthz": {}}
    deadline = time.monotonic() + args.minutes * 60
    burst = 0
    while time.monotonic() < deadline:
        burst += 1
        started = time.monotonic()
        results = [heartbeat.apply_async() for _ in range(args.small)]
        results += [heartbeat.apply_async(headers={"padding": padding}) for _ in range(args.large)]
        sent += len(results)
        for result in results:
            try:
                result.get(timeout=180)
                done += 1
            except Exception as exc:  # a lost or failed task is what this run looks for
                lost += 1
                print(f"burst {burst}: task {result.id} not done: {exc!r}", flush=True)
        codes = {}
        for path in statuses:
            code = fetch(args.portal + path)
            statuses[path][code] = statuses[path].get(code, 0) + 1
            codes[path] = code
        print(
            f"burst {burst}: {len(results)} tasks in {time.monotonic() - started:.1f} s; "
            f"/ {codes['/']}, /healthz {codes['/healthz']}",
            flush=True,
        )
        time.sleep(max(0.0, args.every - (time.monotonic() - started)))
    print(f"sent {sent}, done {done}, lost {lost}; statuses {statuses}", flush=True)
    healthy = all(set(codes) == {200} for codes in statuses.values())
    return 0 if lost == 0 and healthy else 1


if __name__ == "__main__":
    sys.exit(main())
