"""``python -m bench.report``: from ``bench-results/latest.json``, draw each page's requests per
second beside the ceiling's (``bench-results/latest.svg``) and rewrite the README's benchmark
table and figures between ``<!-- bench-table:start -->`` and ``<!-- bench-table:end -->``.
``make bench`` runs it after every run; nothing outside the markers changes.

The chart is plain SVG written here (no plotting library): a ``<title>`` and ``<desc>``, and every
bar labelled with its numbers, so it reads in a screen reader, in print and without colour (the
ceiling's bars are outlined, the pages' filled)."""

from __future__ import annotations

import json
import sys
from html import escape
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent.parent / "bench-results"
README = RESULTS_DIR.parent / "README.md"
START, END = "<!-- bench-table:start -->", "<!-- bench-table:end -->"

# What each web row is, in the README's words.
LABELS = {
    "ceiling": "ceiling (bare view)",
    "landing": "landing `/`",
    "sign_in_start": "sign-in start (POST to MSAL redirect)",
    "form_post_floor": "floor: a form post (language switcher), no target",
    "dashboard": "dashboard, {agreements:,} agreements / {permissions:,} permissions",
    "signed_in_floor": "floor: a signed-in page (app shell and a paragraph), no target",
    "callback": "sign-in callback ({concurrency} at a time)",
    "support_lookup": "support person page, {events:,} events",
    "support_overview": "support overview (30 days), {events:,} events",
    "api_grants": "API: a page of 100 of {grants:,} grants",
}
DATABASES = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}
# Targets other than a share of the ceiling (issue 14); a share is in the row (bench.run).
CALLBACK_OWN_P50_MS = 20
SUPPORT_PAGE_P95_MS = 50
SUPPORT_OVERVIEW_P95_MS = 100  # issue 15 item 7: one request at a time
EXPIRE_SECONDS = 20
EMAILS_PER_S = 200
API_GRANTS_P95_MS = 30  # issue 16: one request at a time


def verdict(met: bool) -> str:
    return "met" if met else "missed"


def _label(name: str, row: dict, results: dict) -> str:
    fields = {**row, **results.get("scale", {}).get(name, {})}
    try:
        return LABELS.get(name, name).format(**fields)
    except KeyError:  # a figure this run did not take: the plain name
        return LABELS.get(name, name).split(",")[0].split(" (")[0]


def _target(name: str, row: dict, results: dict) -> str:
    if "target_ratio" in row:
        return f"{row['target_ratio']:.0%}: {verdict(row['target_met'])}"
    if name == "callback" and "portal_own_p50_ms" in row:
        own = row["portal_own_p50_ms"]
        return f"own share p50 ≤ {CALLBACK_OWN_P50_MS} ms: {verdict(own <= CALLBACK_OWN_P50_MS)}"
    if name == "api_grants" and "alone_p95_ms" in row:
        p95 = row["alone_p95_ms"]
        return f"p95 < {API_GRANTS_P95_MS} ms alone: {verdict(p95 < API_GRANTS_P95_MS)}"
    overview = results.get("scale", {}).get("support_overview")
    if name == "support_overview" and overview:
        p95 = overview["page_p95_ms"]
        return f"p95 < {SUPPORT_OVERVIEW_P95_MS} ms: {verdict(p95 < SUPPORT_OVERVIEW_P95_MS)}"
    lookup = results.get("scale", {}).get("support_lookup")
    if name == "support_lookup" and lookup:
        p95 = lookup["page_p95_ms"]
        return f"p95 < {SUPPORT_PAGE_P95_MS} ms: {verdict(p95 < SUPPORT_PAGE_P95_MS)}"
    return ""


def _share(name: str, row: dict) -> str:
    ratio = row.get("ratio_to_ceiling")
    if name == "callback" or ratio is None:  # one sign-in at a time: not comparable
        return ""
    return f"{ratio:.0%}"


def table(results: dict) -> str:
    """The README block: when and where, the table with its target column, the other figures."""
    options, machine = results.get("options", {}), results.get("machine", {})
    day = results.get("started_at", "")[:10]
    lines = [
        f"Latest figures ({day}, `make bench`: {machine.get('cores')} cores, "
        f"{machine.get('memory_gib')} GiB, Python {machine.get('python')}, "
        f"{DATABASES.get(results.get('database', ''), results.get('database'))} and Redis on the "
        f"same machine, {options.get('workers')} "
        f"gunicorn workers, {options.get('concurrency')} connections, "
        f"{options.get('duration'):g} s measured after {options.get('warmup'):g} s warm-up; "
        "regenerated from `bench-results/latest.json` by `python -m bench.report`):",
        "",
        "![Requests per second of each page beside the ceiling's, from the same run]"
        "(bench-results/latest.svg)",
        "",
        "| benchmark | req/s | p50 ms | p99 ms | of ceiling | target |",
        "|---|---|---|---|---|---|",
    ]
    for name, row in results.get("web", {}).items():
        share = "100%" if name == "ceiling" else _share(name, row)
        lines.append(
            f"| {_label(name, row, results)} | {rps_text(row['rps'])} | {row['p50_ms']:.1f} | "
            f"{row['p99_ms']:.1f} | {share} | {_target(name, row, results)} |"
        )
    return "\n".join(lines + [""] + [f"- {item}" for item in figures(results)])


def rps_text(rps: float) -> str:
    return f"{rps:,.0f}" if rps >= 100 else f"{rps:,.1f}"


def figures(results: dict) -> list[str]:
    """The figures besides the table, each with its target and whether it was met."""
    items = []
    web, scale = results.get("web", {}), results.get("scale", {})
    callback = web.get("callback")
    if callback and "portal_own_p50_ms" in callback:
        own = callback["portal_own_p50_ms"]
        items.append(
            f"Callback: the stand-in's token endpoint alone takes p50 "
            f"{callback['standin_token_p50_ms']:.0f} ms of the {callback['p50_ms']:.0f} ms; the "
            f"portal's own share is p50 {own:.0f} ms (target {CALLBACK_OWN_P50_MS} ms: "
            f"{verdict(own <= CALLBACK_OWN_P50_MS)})."
        )
    lookup = scale.get("support_lookup")
    if lookup:
        p95 = lookup["page_p95_ms"]
        items.append(
            f"Support lookup at {lookup['events']:,} sign-in events over {lookup['people']:,} "
            f"people, {lookup['samples']:,} random people one after another: search p95 "
            f"{lookup['search_p95_ms']:.0f} ms; person page p50 {lookup['page_p50_ms']:.0f} ms, "
            f"p95 {p95:.0f} ms (target under {SUPPORT_PAGE_P95_MS} ms: "
            f"{verdict(p95 < SUPPORT_PAGE_P95_MS)})."
        )
    overview = scale.get("support_overview")
    if overview:
        p95 = overview["page_p95_ms"]
        items.append(
            f"Support overview (30 days of trends) at {overview['events']:,} sign-in events, "
            f"{overview['samples']:,} requests one after another: p50 "
            f"{overview['page_p50_ms']:.0f} ms, p95 {p95:.0f} ms (target under "
            f"{SUPPORT_OVERVIEW_P95_MS} ms: {verdict(p95 < SUPPORT_OVERVIEW_P95_MS)})."
        )
    expire, tenth = scale.get("expire"), scale.get("expire_tenth")
    if expire:
        text = (
            f"Expiring {expire['count']:,} pending registrations: {expire['seconds']:.1f} s "
            f"(target under {EXPIRE_SECONDS} s: {verdict(expire['seconds'] < EXPIRE_SECONDS)}); "
            f"peak RSS {expire['peak_rss_kb'] / 1024:.0f} MiB"
            + (
                f" ({expire['rss_before_kb'] / 1024:.0f} MiB before)"
                if "rss_before_kb" in expire
                else ""
            )
        )
        if tenth:
            text += (
                f", and {tenth['peak_rss_kb'] / 1024:.0f} MiB for {tenth['count']:,} in "
                f"{tenth['seconds']:.1f} s (memory must not grow with the count)"
            )
        items.append(text + ".")
    email = scale.get("email")
    if email:
        rate = email["emails_per_s"]
        items.append(
            f"Email: {email['delivered_to_sink']:,} of {email['count']:,} emails through the "
            f"outbox to a local SMTP sink in {email['seconds']:.1f} s, {rate:.0f} per second "
            f"with {email['worker_concurrency']} worker processes (target {EMAILS_PER_S}: "
            f"{verdict(rate >= EMAILS_PER_S)}); "
            f"{email.get('delivered_twice', 0)} delivered twice."
        )
    grants = web.get("api_grants")
    if grants and "alone_p95_ms" in grants:
        p95 = grants["alone_p95_ms"]
        items.append(
            f"API: a page of 100 of {grants['grants']:,} permission grants by an application's "
            f"token, one request at a time: p50 {grants['alone_p50_ms']:.0f} ms, p95 {p95:.0f} ms "
            f"(target under {API_GRANTS_P95_MS} ms: {verdict(p95 < API_GRANTS_P95_MS)})."
        )
    queries = [
        f"the {name.replace('_', ' ')} {row['queries']}"
        for name, row in web.items()
        if "queries" in row
    ]
    if queries:
        items.append(
            "Queries per page, which do not grow with the data (`tests/bench` checks): "
            + ", ".join(queries)
            + "."
        )
    return items


def svg(results: dict) -> str:
    """Each page's requests per second beside the ceiling's, as horizontal bars."""
    web = results.get("web", {})
    ceiling = web.get("ceiling", {}).get("rps", 0.0)
    pages = [(name, row) for name, row in web.items() if name != "ceiling"]
    width, left, right, bar, gap = 760, 16, 16, 16, 18
    scale_to = max([ceiling, *(row["rps"] for _, row in pages)]) or 1.0
    span = width - left - right - 230  # room for the figures written after the longest bar
    y = 64
    body = []
    summary = []
    for name, row in pages:
        label = escape(_label(name, row, results).replace("`", ""))
        target = _target(name, row, results)
        share = _share(name, row)
        detail = "; ".join(
            x
            for x in (f"{share} of the ceiling" if share else "", target and f"target {target}")
            if x
        )
        page_w = max(1.0, span * row["rps"] / scale_to)
        ceil_w = max(1.0, span * ceiling / scale_to)
        body.append(f'<text x="{left}" y="{y}" class="page">{label}</text>')
        y += 6
        body.append(
            f'<rect x="{left}" y="{y}" width="{ceil_w:.1f}" height="{bar}" class="ceiling"/>'
            f'<text x="{left + ceil_w + 6:.1f}" y="{y + 12}">'
            f"ceiling {rps_text(ceiling)} req/s</text>"
        )
        if "target_ratio" in row:
            x = left + span * ceiling * row["target_ratio"] / scale_to
            body.append(
                f'<line x1="{x:.1f}" y1="{y - 3}" x2="{x:.1f}" y2="{y + 2 * bar + 5}" '
                'class="target"/>'
            )
        y += bar + 3
        body.append(
            f'<rect x="{left}" y="{y}" width="{page_w:.1f}" height="{bar}" class="rps"/>'
            f'<text x="{left + page_w + 6:.1f}" y="{y + 12}">{rps_text(row["rps"])} req/s</text>'
        )
        y += bar + 14
        if detail:
            body.append(f'<text x="{left}" y="{y}" class="detail">{escape(detail)}</text>')
            y += gap
        summary.append(f"{label}: {rps_text(row['rps'])} requests per second" + _s(detail))
    height = y + 8
    title = "Requests per second of each page beside the ceiling's"
    desc = (
        f"From make bench on {results.get('started_at', '')[:10]}, one run: the ceiling (a bare "
        f"view through the same middleware) answered {rps_text(ceiling)} requests per second. "
        + "; ".join(summary)
        + ". Outlined bars are the ceiling, filled bars the page; a vertical line marks the "
        "page's target share of the ceiling."
    )
    return "\n".join(
        [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-labelledby="title desc">',
            f'<title id="title">{escape(title)}</title>',
            f'<desc id="desc">{escape(desc)}</desc>',
            "<style>text{font:13px sans-serif;fill:#111}.page{font-weight:bold}"
            ".detail{fill:#333}.ceiling{fill:#fff;stroke:#111;stroke-width:1.5}"
            ".rps{fill:#1f4e9c}.target{stroke:#111;stroke-width:2;stroke-dasharray:3 2}"
            "</style>",
            f'<rect width="{width}" height="{height}" fill="#fff"/>',
            f'<text x="{left}" y="24" class="page">{escape(title)}</text>',
            f'<text x="{left}" y="44" class="detail">{escape(_legend(results))}</text>',
            *body,
            "</svg>",
            "",
        ]
    )


def _s(detail: str) -> str:
    return f" ({detail})" if detail else ""


def _legend(results: dict) -> str:
    options = results.get("options", {})
    return (
        f"{results.get('started_at', '')[:10]}; outlined: ceiling, filled: page, dashed line: "
        f"target; {options.get('concurrency')} connections, {options.get('workers')} workers"
    )


def replace_block(text: str, block: str) -> str:
    """``text`` with what lies between the markers replaced by ``block``."""
    head, start, rest = text.partition(START)
    _, end, tail = rest.partition(END)
    if not start or not end:
        raise ValueError(f"the README has no {START} … {END} block")
    return f"{head}{START}\n{block}\n{END}{tail}"


def main(argv: list[str]) -> int:
    source = Path(argv[0]) if argv else RESULTS_DIR / "latest.json"
    results = json.loads(source.read_text())
    (RESULTS_DIR / "latest.svg").write_text(svg(results))
    README.write_text(replace_block(README.read_text(), table(results)))
    print(f"drew {RESULTS_DIR / 'latest.svg'} and rewrote the README's table from {source}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
