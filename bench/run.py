"""Run the benchmarks against servers started here, write JSON and print a short table."""

from __future__ import annotations

import json
import os
import platform
import shutil
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench import api_grants, processes, report, scale, seed, web
from bench.load import Target

RESULTS_DIR = processes.REPO_ROOT / "bench-results"
WEB_TARGETS = {"landing": 0.70, "sign_in_start": 0.70, "dashboard": 0.40}


@dataclass
class Options:
    duration: float = 20.0
    warmup: float = 5.0
    concurrency: int = 16
    callback_concurrency: int = 1
    workers: int = 3
    registrations: int = 1_000_000
    emails: int = 2_000
    email_concurrency: int = 2
    dashboard_agreements: int = 200
    dashboard_permissions: int = 1_000
    timeline_events: int = 5_000_000
    timeline_people: int = 50_000
    timeline_users: int = 1_000
    support_samples: int = 500
    api_grants: int = 10_000
    api_samples: int = 300
    production: bool = True
    tool: str = "auto"
    only: set[str] = field(default_factory=set)  # empty: all
    write: bool = True

    def wants(self, name: str) -> bool:
        return not self.only or name in self.only


def _machine() -> dict:
    mem_kb = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kb = int(line.split()[1])
    return {
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kb / 1024 / 1024),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def run(opts: Options) -> dict:
    from django.conf import settings
    from django.db import connection

    from entra_standin.testing import free_port, run_standin

    results: dict = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": _machine(),
        "database": connection.vendor,
        "options": {k: v for k, v in vars(opts).items() if k != "only"},
        "web": {},
        "scale": {},
    }
    # Logs and the stand-in's data stay after the run, for reading (var/ is not committed).
    tmp = Path(settings.VAR_DIR) / "bench"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    web_wanted = any(
        opts.wants(n)
        for n in (
            "ceiling",
            "landing",
            "sign_in_start",
            "dashboard",
            "callback",
            "support",
            "support_overview",
            "api_grants",
        )
    )
    if web_wanted:
        with run_standin(
            data_dir=tmp / "standin",
            mailbox_dir=tmp / "mailbox",
            redirect_uris=[f"{base}/accounts/entra/login/callback/"],
            post_logout_redirect_uris=[f"{base}/"],
            client_id=processes.CLIENT_ID,
            client_secret=processes.CLIENT_SECRET,
        ) as standin:
            config = processes.PortalConfig(
                production=opts.production,
                standin_tls_url=standin.tls_url,
                standin_ca=str(standin.ca_path),
                static_root=str(tmp / "static"),
            )
            env = config.env()
            if opts.production:
                processes.manage(env, "collectstatic", "--noinput")
            with processes.gunicorn(env, port=port, workers=opts.workers, log=tmp / "gunicorn.log"):
                _web(results, opts, base, standin)
    if opts.wants("expire"):
        env = processes.PortalConfig(production=opts.production).env()
        results["scale"]["expire"] = scale.expire(opts.registrations, env)
        # Memory must not grow with the count: the same run at a tenth of the size.
        small = max(1, opts.registrations // 10)
        results["scale"]["expire_tenth"] = scale.expire(small, env)
    if opts.wants("email"):
        env = processes.PortalConfig(production=opts.production).env()
        results["scale"]["email"] = scale.email_throughput(
            opts.emails, env, concurrency=opts.email_concurrency, log=tmp / "worker.log"
        )
    results["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    if opts.write:
        RESULTS_DIR.mkdir(exist_ok=True)
        # Only a run of every benchmark becomes latest.json, which the README's table and chart
        # are drawn from (bench.report): its figures must come from one run.
        names = [f"bench-{time.strftime('%Y%m%d-%H%M%S')}.json"]
        if not opts.only:
            names.append("latest.json")
        for name in names:
            (RESULTS_DIR / name).write_text(json.dumps(results, indent=2) + "\n")
        results["written_to"] = [str(RESULTS_DIR / name) for name in names]
    return results


def _web(results: dict, opts: Options, base: str, standin) -> None:
    def measure(name: str, target: Target) -> None:
        result = web.measure(
            target,
            duration=opts.duration,
            warmup=opts.warmup,
            concurrency=opts.concurrency,
            tool=opts.tool,
        )
        results["web"][name] = result.as_dict()

    measure("ceiling", Target(url=f"{base}/bench/ceiling/"))
    if opts.wants("landing"):
        measure("landing", Target(url=f"{base}/"))
    if opts.wants("sign_in_start"):
        measure("sign_in_start", web.sign_in_start_target(base))
        # What any form post costs here (no target): the footer's language switcher, which
        # checks the CSRF token and answers a redirect with a cookie, as the sign-in start does.
        measure("form_post_floor", web.language_switch_target(base))
    if opts.wants("dashboard"):
        user = seed.seed_dashboard_user(
            agreements=opts.dashboard_agreements, permissions=opts.dashboard_permissions
        )
        cookie = web.session_cookie_for(user)
        measure("dashboard", Target(url=f"{base}{web.DASHBOARD_PATH}", headers={"Cookie": cookie}))
        results["web"]["dashboard"]["agreements"] = opts.dashboard_agreements
        results["web"]["dashboard"]["permissions"] = opts.dashboard_permissions
        results["web"]["dashboard"]["queries"] = web.page_queries(user, web.DASHBOARD_PATH)
        # What any signed-in page costs here (no target): the same person's smallest page, the
        # app shell around one paragraph.
        measure(
            "signed_in_floor",
            Target(url=f"{base}{web.SIGNED_IN_FLOOR_PATH}", headers={"Cookie": cookie}),
        )
    if opts.wants("callback"):
        results["web"]["callback"] = web.callback(
            base,
            standin_tls_url=standin.tls_url,
            ca_path=str(standin.ca_path),
            duration=opts.duration,
            concurrency=opts.callback_concurrency,
        )
    if opts.wants("support"):
        _support(results, opts, base, measure)
    if opts.wants("support_overview"):
        _support_overview(results, opts, base, measure)
    if opts.wants("api_grants"):
        _api_grants(results, opts, base, standin, measure)
    ceiling = results["web"]["ceiling"]["rps"]
    for name, row in results["web"].items():
        row["ratio_to_ceiling"] = round(row["rps"] / ceiling, 3) if ceiling else None
        if name in WEB_TARGETS:
            row["target_ratio"] = WEB_TARGETS[name]
            row["target_met"] = bool(ceiling) and row["rps"] / ceiling >= WEB_TARGETS[name]


def _support(results: dict, opts: Options, base: str, measure) -> None:
    """The support person page on a database holding ``timeline_events`` sign-in events: its
    throughput (one person, under load) and the p95 of looking up random people one by one."""
    t0 = time.perf_counter()
    dataset = seed.seed_timeline_events(
        opts.timeline_events, people=opts.timeline_people, users=opts.timeline_users
    )
    seeded = time.perf_counter() - t0
    from support.demo import seed_support_staff

    # Seeded once: seeding again would reset the password hash and end the session.
    staff = seed_support_staff()
    cookie = web.session_cookie_for(staff)
    url = web.support_person_url(base, 0)
    measure("support_lookup", Target(url=url, headers={"Cookie": cookie}))
    latency = web.support_lookup_latency(
        base, cookie=cookie, people=opts.timeline_people, samples=opts.support_samples
    )
    results["web"]["support_lookup"]["queries"] = web.page_queries(staff, url[len(base) :])
    results["scale"]["support_lookup"] = {**dataset, "seed_seconds": round(seeded, 2), **latency}


def _support_overview(results: dict, opts: Options, base: str, measure) -> None:
    """The support overview (30 days of trends) on the same ``timeline_events`` sign-in events
    (seeded one a minute back from now: the last 30 days hold 43,200 of them): its throughput
    under load, the p95 of one request at a time (target under 100 ms), and its queries."""
    dataset = seed.seed_timeline_events(
        opts.timeline_events, people=opts.timeline_people, users=opts.timeline_users
    )
    from support.demo import seed_support_staff

    staff = seed_support_staff()
    cookie = web.session_cookie_for(staff)
    measure(
        "support_overview",
        Target(url=base + web.SUPPORT_OVERVIEW_PATH, headers={"Cookie": cookie}),
    )
    latency = web.support_overview_latency(base, cookie=cookie, samples=opts.support_samples)
    results["web"]["support_overview"]["queries"] = web.page_queries(
        staff, web.SUPPORT_OVERVIEW_PATH
    )
    results["scale"]["support_overview"] = {"events": dataset["events"], **latency}


def _api_grants(results: dict, opts: Options, base: str, standin, measure) -> None:
    """A page of 100 grants of an agreement holding ``api_grants`` of them, by an application's
    token: throughput under load, latency one at a time (target p95 under 30 ms) and queries."""
    api_grants.seed_agreement(opts.api_grants)
    token = api_grants.app_token(standin)
    url = api_grants.grants_url(base)
    measure("api_grants", Target(url=url, headers={"Authorization": f"Bearer {token}"}))
    row = results["web"]["api_grants"]
    row["grants"] = opts.api_grants
    row["queries"] = api_grants.queries(standin, token, url[len(base) :])
    row.update(
        {
            f"alone_{k}": v
            for k, v in api_grants.latency(url, token=token, samples=opts.api_samples).items()
        }
    )


def table(results: dict) -> str:
    lines = [
        f"machine: {results['machine']['cores']} cores, {results['machine']['memory_gib']} GiB; "
        f"database: {results['database']}",
        f"{'benchmark':<16}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'ceiling':>9}"
        f"{'target':>8}{'errors':>8}",
    ]
    for name, row in results["web"].items():
        target = f"{row['target_ratio']:.0%}" if "target_ratio" in row else ""
        mark = "" if "target_met" not in row else (" ok" if row["target_met"] else " MISS")
        lines.append(
            f"{name:<16}{row['rps']:>10.1f}{row['p50_ms']:>10.2f}{row['p99_ms']:>10.2f}"
            f"{row['ratio_to_ceiling']:>9.0%}{target:>8}{row['errors']:>8}{mark}"
        )
    callback = results["web"].get("callback")
    if callback:
        lines.append(
            f"  callback: stand-in token endpoint alone p50 {callback['standin_token_p50_ms']} ms"
            f" / p99 {callback['standin_token_p99_ms']} ms; portal's own share of p50 "
            f"{callback['portal_own_p50_ms']} ms"
        )
    for name in ("expire", "expire_tenth"):
        row = results["scale"].get(name)
        if row:
            lines.append(
                f"{name}: {row['expired']:,} of {row['count']:,} expired in {row['seconds']} s "
                f"(seeded in {row['seed_seconds']} s); peak RSS {row['peak_rss_kb'] / 1024:.0f} "
                f"MiB (at start {row['rss_before_kb'] / 1024:.0f} MiB); database backend peak "
                + (
                    f"{row['db_backend_peak_rss_kb'] / 1024:.0f} MiB"
                    if row["db_backend_peak_rss_kb"]
                    else "n/a"
                )
            )
    email = results["scale"].get("email")
    if email:
        lines.append(
            f"email: {email['delivered_to_sink']:,} of {email['count']:,} delivered in "
            f"{email['seconds']} s = {email['emails_per_s']} emails/s "
            f"({email['worker_concurrency']} worker processes, peak RSS "
            f"{email['worker_peak_rss_kb'] / 1024:.0f} MiB in all; "
            f"{email['delivered_twice']} delivered twice, {email['marked_sent']:,} marked sent)"
        )
    grants = results["web"].get("api_grants")
    if grants:
        lines.append(
            f"  api_grants: a page of 100 of {grants['grants']:,} grants, one request at a time: "
            f"p50 {grants['alone_p50_ms']} ms / p95 {grants['alone_p95_ms']} ms (target p95 < "
            f"{report.API_GRANTS_P95_MS} ms); {grants['queries']} queries"
        )
    support = results["scale"].get("support_lookup")
    if support:
        lines.append(
            f"support lookup at {support['events']:,} events ({support['people']:,} people): "
            f"search p95 {support['search_p95_ms']} ms, person page p50 {support['page_p50_ms']}"
            f" ms / p95 {support['page_p95_ms']} ms over {support['samples']} random people"
            f" (seeded in {support['seed_seconds']} s; reused when already there)"
        )
    overview = results["scale"].get("support_overview")
    if overview:
        lines.append(
            f"support overview at {overview['events']:,} events: p50 {overview['page_p50_ms']}"
            f" ms / p95 {overview['page_p95_ms']} ms over {overview['samples']} requests one at a"
            f" time (target p95 < {report.SUPPORT_OVERVIEW_P95_MS} ms)"
        )
    return "\n".join(lines)
