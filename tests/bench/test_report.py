"""The chart and the README table drawn from a run's JSON (``bench.report``), on a small fixture."""

from __future__ import annotations

import copy
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from bench import report

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "results.json").read_text())
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def results() -> dict:
    return copy.deepcopy(FIXTURE)


def rows(markdown: str) -> dict[str, list[str]]:
    cells = [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in markdown.splitlines()
        if line.startswith("| ") and not line.startswith("| benchmark")
    ]
    return {row[0]: row[1:] for row in cells}


def test_the_table_has_each_page_with_its_figures_and_whether_its_target_was_met(results):
    table = rows(report.table(results))
    assert table["ceiling (bare view)"] == ["1,295", "11.8", "22.3", "100%", ""]
    assert table["landing `/`"] == ["931", "17.1", "29.5", "72%", "70%: met"]
    assert table["sign-in start (POST to MSAL redirect)"][3:] == ["9%", "70%: missed"]
    assert table["dashboard, 200 agreements / 1,000 permissions"][3:] == ["12%", "40%: missed"]
    assert table["sign-in callback (1 at a time)"] == [
        "2.7",
        "97.0",
        "137.3",
        "",
        "own share p50 ≤ 20 ms: missed",
    ]
    assert table["support person page, 5,000,000 events"][4] == "p95 < 50 ms: met"
    assert table["support overview (30 days), 5,000,000 events"] == [
        "41.2",
        "371.5",
        "602.3",
        "3%",
        "p95 < 100 ms: missed",
    ]


def test_the_other_figures_name_their_targets(results):
    figures = report.figures(results)
    assert any("token endpoint alone takes p50 45 ms" in f and "52 ms" in f for f in figures)
    assert any("p95 45 ms (target under 50 ms: met)" in f for f in figures)
    assert any("16.7 s (target under 20 s: met)" in f and "100,000" in f for f in figures)
    assert any("225 per second" in f and "(target 200: met)" in f for f in figures)
    assert any(
        "Support overview (30 days of trends) at 5,000,000 sign-in events" in f
        and "p50 38 ms, p95 113 ms (target under 100 ms: missed)" in f
        for f in figures
    )
    assert figures[-1].endswith(
        "checks): the dashboard 6, the support lookup 14, the support overview 11."
    )


def test_a_missed_figure_says_missed(results):
    results["scale"]["email"]["emails_per_s"] = 54.0
    results["scale"]["expire"]["seconds"] = 20.0
    results["web"]["callback"]["portal_own_p50_ms"] = 19.5
    text = report.table(results)
    assert "54 per second with 2 worker processes (target 200: missed)" in text
    assert "20.0 s (target under 20 s: missed)" in text
    assert "portal's own share is p50 20 ms (target 20 ms: met)" in text


def test_the_chart_is_labelled_svg_with_every_pages_numbers(results):
    drawing = report.svg(results)
    root = ET.fromstring(drawing)  # well-formed
    assert root.get("role") == "img" and root.get("aria-labelledby") == "title desc"
    title, desc = root.find(f"{SVG}title").text, root.find(f"{SVG}desc").text
    assert "beside the ceiling" in title
    assert "answered 1,295 requests per second" in desc
    assert "landing /: 931 requests per second (72% of the ceiling; target 70%: met)" in desc
    texts = [t.text for t in root.iter(f"{SVG}text")]
    for label in ("931 req/s", "120 req/s", "157 req/s", "2.7 req/s", "ceiling 1,295 req/s"):
        assert label in texts
    assert "9% of the ceiling; target 70%: missed" in texts
    # A bar per page and one for the ceiling beside each; target lines where there is a target.
    assert len([r for r in root.iter(f"{SVG}rect") if r.get("class") == "rps"]) == 6
    assert len([r for r in root.iter(f"{SVG}rect") if r.get("class") == "ceiling"]) == 6
    assert len(list(root.iter(f"{SVG}line"))) == 3


def test_the_bars_are_drawn_to_scale(results):
    root = ET.fromstring(report.svg(results))
    bars = [float(r.get("width")) for r in root.iter(f"{SVG}rect") if r.get("class") == "rps"]
    ceiling = next(
        float(r.get("width")) for r in root.iter(f"{SVG}rect") if r.get("class") == "ceiling"
    )
    assert bars[0] / ceiling == pytest.approx(931.0 / 1295.4, rel=0.01)


def test_only_the_block_between_the_markers_is_rewritten(tmp_path, results):
    readme = f"# Title\nbefore\n{report.START}\nold table\n{report.END}\nafter\n"
    new = report.replace_block(readme, report.table(results))
    assert new.startswith("# Title\nbefore\n") and new.endswith(f"{report.END}\nafter\n")
    assert "old table" not in new and "| landing `/` | 931 |" in new
    assert report.replace_block(new, report.table(results)) == new  # regenerating changes nothing
    with pytest.raises(ValueError, match="bench-table"):
        report.replace_block("# no markers\n", "x")


def test_the_readme_has_the_block_and_shows_the_chart():
    text = report.README.read_text()
    block = text.split(report.START)[1].split(report.END)[0]
    assert "![" in block and "(bench-results/latest.svg)" in block
    assert "| benchmark | req/s |" in block


def test_the_api_row_is_judged_by_its_latency_alone_against_30_ms(results):
    row = {"rps": 94.0, "p50_ms": 160.0, "p99_ms": 300.0, "ratio_to_ceiling": 0.17}
    results["web"]["api_grants"] = {
        **row,
        "grants": 10_000,
        "queries": 5,
        "alone_p50_ms": 18.2,
        "alone_p95_ms": 34.1,
    }
    markdown = report.table(results)
    assert rows(markdown)["API: a page of 100 of 10,000 grants"][3:] == [
        "17%",
        "p95 < 30 ms alone: missed",
    ]
    assert "p50 18 ms, p95 34 ms (target under 30 ms: missed)" in markdown
    results["web"]["api_grants"]["alone_p95_ms"] = 21.0
    assert "p95 < 30 ms alone: met" in report.table(results)
