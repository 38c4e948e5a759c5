"""Shared fixtures: a real Celery worker, the running Entra ID stand-in, Chromium with axe-core."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_PATHS = ["/usr/lib/chromium/chromium", "/usr/bin/chromium"]
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture(autouse=True)
def _fresh_portal_cache():
    """Every test starts from an empty portal cache (sessions, cached fragments): the embedded
    file cache outlives a run, and whether a test passes must not depend on what ran before it.
    Rate-limit counters are rows in the database (``vlsc_portal.ratelimits``), which each test's
    transaction rolls back or its flush empties."""
    from tests.cache_util import clear_portal_cache

    clear_portal_cache()


@pytest.fixture(autouse=True)
def _portal_url(request, settings):
    """Links in emails go to ``PORTAL_URL``, as ``make run`` sets it from its port: here the
    server the test talks to (the live server of a browser test, else Django's test client)."""
    if "live_server" in request.fixturenames:
        settings.PORTAL_URL = request.getfixturevalue("live_server").url
    else:
        settings.PORTAL_URL = "http://testserver"


def _transactional(request) -> bool:
    marker = request.node.get_closest_marker("django_db")
    return bool(marker is not None and marker.kwargs.get("transaction")) or any(
        name in request.fixturenames for name in ("transactional_db", "live_server")
    )


@pytest.fixture(autouse=True)
def _groups_made_by_migrations(request):
    """Make sure the groups the data migrations made exist for every test that uses the
    database. A transactional test's flush empties every table, and Django documents that data
    made by migrations is then gone (``serialized_rollback`` is the costly alternative): tests
    that run after one, in whatever order, would find no group. Inside an ordinary test's
    transaction the check is rolled back with it. Permissions come back by themselves
    (post_migrate runs after the flush)."""
    if _transactional(request):
        request.getfixturevalue("transactional_db")
    elif request.node.get_closest_marker("django_db") is not None or "db" in request.fixturenames:
        request.getfixturevalue("db")
    else:
        return
    from importlib import import_module

    from django.apps import apps

    for migration in (
        "support.migrations.0004_support_staff_group",
        "agreements.migrations.0005_administrators_group",
    ):
        import_module(migration).make_group(apps)


@pytest.fixture(autouse=True)
def _flushable_organisation_countries(request):
    """Let a transactional test's flush remove organisation countries on SQLite.

    The database refuses to delete an organisation's country (migration 0009). Django flushes
    after a transactional test with TRUNCATE on PostgreSQL, which fires no row triggers, but with
    DELETE on SQLite, which the trigger refuses. So on SQLite, after such a test and before its
    flush, the rows are removed with the trigger lifted for that one transaction."""
    if not _transactional(request):
        yield
        return
    request.getfixturevalue("transactional_db")  # set up first, so flushed after this teardown
    yield
    from importlib import import_module

    from django.db import connection, transaction

    if connection.vendor != "sqlite":
        return
    trigger = import_module("accounts.migrations.0009_organisation_country_undeletable")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER organisation_country_undeletable")
        cursor.execute("DELETE FROM accounts_organisationcountry")
        cursor.execute(trigger.SQLITE_DELETE_TRIGGER)


@pytest.fixture(scope="session", autouse=True)
def _patient_browser_assertions():
    """Playwright's ``expect`` waits 5 s by default; a loaded two-core machine running a live
    server, a worker and the stand-in can take longer to render a page. A passing test waits
    only as long as the page takes."""
    try:
        from playwright.sync_api import expect
    except ImportError:  # pragma: no cover - Playwright is in requirements-test.txt
        return
    expect.set_options(timeout=30_000)


@pytest.fixture(scope="session")
def celery_worker(django_db_blocker):
    """A real worker thread on the project's app and configured broker (Redis in CI, the
    filesystem broker locally). It sees only committed rows: use it with transaction=True."""
    from celery.contrib.testing.worker import start_worker

    from vlsc_portal.celery import app

    with django_db_blocker.unblock():
        app.control.purge()  # messages left by an earlier run must not leak into this one
        with start_worker(app, perform_ping_check=False, shutdown_timeout=10, pool="solo") as w:
            yield w


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's Chromium where installed (Playwright cannot download its own browser here)."""
    args = dict(browser_type_launch_args)
    for path in CHROMIUM_PATHS:
        if os.path.exists(path):
            args["executable_path"] = path
            break
    args["args"] = [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
    ]
    return args


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    """Pages ignore the portal's Content-Security-Policy in the browser tests, so that the
    ``axe`` fixture can inject axe-core as an inline script (which the policy rightly refuses).
    The portal's header is unchanged; ``tests/browser/test_content_security_policy.py`` walks
    the pages with the policy enforced (``@pytest.mark.browser_context_args(bypass_csp=False)``)
    and fails on any violation."""
    return {**browser_context_args, "bypass_csp": True}


@pytest.fixture
def axe():
    """``axe(page)`` runs axe-core's WCAG 2.1 A/AA rules and its best practices (unique landmark
    names, one main landmark, headings in order) on the page and fails on any violation.
    It injects an inline script: the browser context bypasses the page's CSP for it
    (``browser_context_args``)."""
    source = AXE_JS.read_text()

    def check(page) -> None:
        page.add_script_tag(content=source)
        result = page.evaluate(
            """async () => await axe.run(document, {runOnly: {type: 'tag',
                 values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})"""
        )
        violations = [
            {"id": v["id"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]]}
            for v in result["violations"]
        ]
        assert not violations, f"axe-core on {page.url}:\n{json.dumps(violations, indent=2)}"

    return check


@pytest.fixture
def mailbox_dir(tmp_path, settings):
    """Emails go to a Maildir of this test's own, as the dev mailbox does in development."""
    directory = tmp_path / "mailbox"
    settings.EMAIL_BACKEND = "vlsc_portal.mail.MaildirEmailBackend"
    settings.MAILBOX_DIR = directory
    return directory


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


__all__ = ["settings"]


TEST_CLIENT_ID = "vlsc-portal-test"
TEST_CLIENT_SECRET = "test-secret-not-for-production"


@pytest.fixture(scope="session")
def standin(tmp_path_factory, live_server):
    """The Entra ID stand-in, running as its own processes (http and TLS), seeded with the demo
    directory; it accepts the live server's and the test client's callback URLs."""
    from entra_standin.testing import run_standin

    portals = [live_server.url, "http://testserver"]
    with run_standin(
        data_dir=tmp_path_factory.mktemp("standin"),
        mailbox_dir=tmp_path_factory.mktemp("mailbox"),
        redirect_uris=[f"{p}/accounts/entra/login/callback/" for p in portals],
        post_logout_redirect_uris=[f"{p}/" for p in portals],
        client_id=TEST_CLIENT_ID,
        client_secret=TEST_CLIENT_SECRET,
    ) as running:
        yield running


@pytest.fixture
def entra(standin, settings):
    """Point the portal at the running stand-in, exactly as development does."""
    from accounts.entra import client

    settings.ENTRA_AUTHORITY_HOST = standin.tls_url
    settings.ENTRA_TENANT = "common"
    settings.ENTRA_CLIENT_ID = standin.client_id
    settings.ENTRA_CLIENT_SECRET = standin.client_secret
    settings.ENTRA_CA_BUNDLE = str(standin.ca_path)
    settings.ENTRA_INSTANCE_DISCOVERY = False
    settings.STANDIN_HTTP_URL = standin.http_url
    settings.EMAIL_BACKEND = "vlsc_portal.mail.MaildirEmailBackend"
    settings.MAILBOX_DIR = standin.mailbox_dir
    client.reset_caches()
    yield standin
    client.reset_caches()


@pytest.fixture
def eager_celery():
    """Run tasks inline (unit tests only: it hides serialization and commit timing, which the
    tests with ``celery_worker`` cover)."""
    from vlsc_portal.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield app
    app.conf.task_always_eager = False
    app.conf.task_eager_propagates = False
