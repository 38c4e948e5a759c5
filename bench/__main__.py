"""``python -m bench``: the benchmarks of issue 8 (``make bench`` runs this; see the README).

Runs against the database and Redis given by ``--database-url``/``--redis-url`` (defaults:
``BENCH_DATABASE_URL``/``BENCH_REDIS_URL``, else the local PostgreSQL database ``vlsc_bench`` and
Redis database 14), with gunicorn on production settings over plain http on loopback."""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from urllib.parse import urlsplit

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/vlsc_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"
PROTECTED = {"vlsc", "postgres", "root", "test"}
SIZES = {
    "full": {
        "registrations": 1_000_000,
        "emails": 2_000,
        "agreements": 200,
        "permissions": 1_000,
        "events": 5_000_000,
        "people": 50_000,
        "users": 1_000,
        "samples": 500,
        "api_grants": 10_000,
    },
    "small": {
        "registrations": 100_000,
        "emails": 300,
        "agreements": 200,
        "permissions": 1_000,
        "events": 500_000,
        "people": 5_000,
        "users": 200,
        "samples": 200,
        "api_grants": 10_000,
    },
    "tiny": {
        "registrations": 200,
        "emails": 5,
        "agreements": 4,
        "permissions": 20,
        "events": 2_000,
        "people": 40,
        "users": 10,
        "samples": 10,
        "api_grants": 300,
    },
}


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--duration", type=float, default=20, help="measured seconds per page")
    parser.add_argument("--warmup", type=float, default=5, help="discarded seconds before each")
    parser.add_argument("--concurrency", type=int, default=16, help="open connections (wrk)")
    parser.add_argument(
        "--callback-concurrency",
        type=int,
        default=1,
        help="sign-ins at once (the stand-in's SQLite answers 500 'database is locked' above 1)",
    )
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers (as deployed)")
    parser.add_argument("--size", choices=sorted(SIZES), default="full")
    parser.add_argument("--registrations", type=int, help="overrides the size's count")
    parser.add_argument("--emails", type=int, help="overrides the size's count")
    parser.add_argument("--email-concurrency", type=int, default=2, help="worker processes")
    parser.add_argument("--tool", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated subset of: landing, sign_in_start, dashboard, callback, api_grants, "
        "expire, email, support, support_overview (the ceiling always runs with the web ones)",
    )
    parser.add_argument(
        "--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    )
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL))
    return parser.parse_args(argv)


def configure(args: argparse.Namespace) -> None:
    """This process seeds and reads sessions for the servers, so it shares their database,
    Redis and secret key. It stays out of production mode itself: the Entra ID stand-in, started
    from here, inherits this environment and refuses production."""
    name = urlsplit(args.database_url).path.lstrip("/")
    if name in PROTECTED:
        sys.exit(f"refusing to seed benchmark data into the database {name!r}: use vlsc_bench")
    if urlsplit(args.redis_url).path.strip("/") == "15":
        sys.exit("refusing Redis database 15 (the tests' own): use 14")
    os.environ.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        DJANGO_SECRET_KEY=f"bench-{secrets.token_hex(32)}",
        DATABASE_URL=args.database_url,
        REDIS_URL=args.redis_url,
        LOG_LEVEL=os.environ.get("LOG_LEVEL", "WARNING"),
    )


def main(argv: list[str]) -> int:
    args = parse(argv)
    configure(args)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from bench import run
    from vlsc_portal.celery import app

    settings.DEBUG = False  # no query log growing while seeding millions of rows
    call_command("migrate", "--noinput", verbosity=0)
    app.control.purge()  # this Redis database is the benchmark's own
    size = SIZES[args.size]
    opts = run.Options(
        duration=args.duration,
        warmup=args.warmup,
        concurrency=args.concurrency,
        callback_concurrency=args.callback_concurrency,
        workers=args.workers,
        registrations=args.registrations or size["registrations"],
        emails=args.emails or size["emails"],
        email_concurrency=args.email_concurrency,
        dashboard_agreements=size["agreements"],
        dashboard_permissions=size["permissions"],
        timeline_events=size["events"],
        timeline_people=size["people"],
        timeline_users=size["users"],
        support_samples=size["samples"],
        api_grants=size["api_grants"],
        tool=args.tool,
        only={item.strip() for item in args.only.split(",") if item.strip()},
    )
    results = run.run(opts)
    print(run.table(results))
    print("\nwritten to " + ", ".join(results.get("written_to", [])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
