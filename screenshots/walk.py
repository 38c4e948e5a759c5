"""Walking the journeys in Chromium and writing the gallery: each step's page, full length, at
desktop (1280×800) and phone (390×844) widths, then the index ``README.md`` beside them."""

from __future__ import annotations

import os
import re
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Browser, Page, expect, sync_playwright

from screenshots.journeys import Journey, Step
from screenshots.steps import Run

CHROMIUM_PATHS = ["/usr/lib/chromium/chromium", "/usr/bin/chromium"]  # as tests/conftest.py
# The same switches as the browser tests (tests/conftest.py).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
WIDTHS = {"desktop": {"width": 1280, "height": 800}, "mobile": {"width": 390, "height": 844}}


@dataclass
class Shot:
    journey: Journey
    step: Step
    url: str
    where: str  # the portal's URL pattern of the page, or the stand-in's path
    files: dict[str, str]  # "desktop"/"mobile" -> file name


@dataclass
class Gallery:
    out: Path
    portal_url: str
    shots: list[Shot] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def launch(playwright) -> Browser:
    path = next((p for p in CHROMIUM_PATHS if os.path.exists(p)), None)
    return playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)


def file_name(journey: Journey, step: Step, width: str) -> str:
    return f"{journey.number:02d}-{journey.slug}-{step.slug}-{width}.png"


def _route(url: str, portal: str) -> tuple[str | None, str]:
    """The portal's URL name of ``url`` ("" for a path that resolves to nothing; None when the
    page is the stand-in's) and where it is, stable from run to run: the URL pattern
    (``/register/confirm/<str:token>/``), or the stand-in's path."""
    from django.urls import Resolver404, resolve

    path = urlsplit(url).path
    if not url.startswith(portal):  # a message's id changes from run to run
        return None, "stand-in " + re.sub(r"^/mailbox/[^/]+/", "/mailbox/<message>/", path)
    try:
        match = resolve(path)
    except Resolver404:
        return "", path
    return match.view_name, "/" + match.route.replace("^", "").replace("\\Z", "")


def _shoot(page: Page, gallery: Gallery, journey: Journey, step: Step) -> dict[str, str]:
    files = {}
    for width, viewport in WIDTHS.items():
        page.set_viewport_size(viewport)
        name = file_name(journey, step, width)
        page.screenshot(path=gallery.out / name, full_page=True, type="png", animations="disabled")
        files[width] = name
    page.set_viewport_size(WIDTHS["desktop"])
    return files


def walk_step(page: Page, run: Run, gallery: Gallery, journey: Journey, step: Step) -> None:
    if step.path:
        response = page.goto((run.plain_url if step.debug_off else run.url) + step.path)
        if response is not None and response.status == 404 and step.optional:
            gallery.warnings.append(
                f"{journey.number:02d}-{journey.slug}-{step.slug}: {step.path} answers 404 "
                "(not merged yet?): skipped"
            )
            return
    else:
        assert step.action is not None, step
        step.action(page, run)
    page.wait_for_load_state("load")
    route, where = _route(page.url.replace(run.plain_url, run.url, 1), run.url)
    if route is not None and route not in step.routes and (route or step.routes):
        gallery.warnings.append(
            f"{journey.number:02d}-{journey.slug}-{step.slug}: the page is {route or 'no route'}"
            f" ({page.url}), not {' or '.join(step.routes) or 'a stand-in page'}"
        )
    files = _shoot(page, gallery, journey, step)
    gallery.shots.append(Shot(journey, step, page.url, where, files))


def walk(journeys: tuple[Journey, ...], run: Run, gallery: Gallery) -> None:
    """Each journey in a browser context of its own; a journey that fails is reported and the
    next one starts (a later journey may still need what the failed one would have left)."""
    expect.set_options(timeout=30_000)  # a loaded machine; a page that is there waits no longer
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            for journey in journeys:
                context = browser.new_context(viewport=WIDTHS["desktop"], device_scale_factor=1)
                page = context.new_page()
                step = None
                try:
                    for step in journey.steps:
                        walk_step(page, run, gallery, journey, step)
                except Exception:  # noqa: BLE001 - reported, and the next journey runs
                    where = f"{journey.number:02d}-{journey.slug}-{step.slug if step else '?'}"
                    gallery.failures.append(
                        f"{where} at {page.url}:\n{traceback.format_exc(limit=3)}"
                    )
                finally:
                    context.close()
        finally:
            browser.close()


def write_index(gallery: Gallery, journeys: tuple[Journey, ...]) -> Path:
    """``README.md`` beside the images: every image, journey by journey, with the page it shows."""
    lines = [
        "# Screenshots",
        "",
        "Generated by `make screenshots` (`python -m screenshots`, the journeys in",
        "`screenshots/journeys.py`): every page of every journey, full length, at 1280×800",
        "(desktop) and 390×844 (mobile), on a fresh portal with the demo data. Do not edit by",
        "hand; run it again after a change.",
        "",
    ]
    by_journey: dict[int, list[Shot]] = {}
    for shot in gallery.shots:
        by_journey.setdefault(shot.journey.number, []).append(shot)
    for journey in journeys:
        shots = by_journey.get(journey.number, [])
        if not shots:
            continue
        lines += [f"## {journey.number:02d} {journey.title}", ""]
        lines += ["| step | page | address | desktop | mobile |", "|---|---|---|---|---|"]
        for shot in shots:
            cells = [
                shot.step.slug,
                shot.step.title,
                f"`{shot.where}`",
                f"[{shot.files['desktop']}]({shot.files['desktop']})",
                f"[{shot.files['mobile']}]({shot.files['mobile']})",
            ]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    index = gallery.out / "README.md"
    index.write_text("\n".join(lines))
    return index


def elapsed(start: float) -> str:
    return f"{time.monotonic() - start:.0f} s"
