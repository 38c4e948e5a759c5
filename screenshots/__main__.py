"""``python -m screenshots`` (``make screenshots``): start the portal as ``make run`` does, on
free ports and a temporary database, walk every journey in Chromium and write the gallery to
``docs/screenshots/``. ``--only 03,07`` walks some journeys (and keeps the other images)."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from screenshots import journeys as data
from screenshots.portal import REPO_ROOT, running_portal
from screenshots.steps import Run
from screenshots.walk import Gallery, elapsed, walk, write_index

OUT = REPO_ROOT / "docs" / "screenshots"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m screenshots", description=__doc__)
    parser.add_argument("--out", type=Path, default=OUT, help="where the images go")
    parser.add_argument("--only", default="", help="journey numbers, e.g. 03,07 (all if empty)")
    args = parser.parse_args(argv)
    only = {int(n) for n in args.only.split(",") if n.strip()}
    journeys = tuple(j for j in data.JOURNEYS if not only or j.number in only)

    start = time.monotonic()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    if not only:  # images of renamed or removed steps must not linger
        for old in out.glob("*.png"):
            old.unlink()
    print("screenshots: starting the portal, a worker and the stand-in ...", flush=True)
    with running_portal() as portal:
        # This process reads the portal's database too (the step-up step ages a session).
        os.environ.update(portal.env)
        # Playwright's sync API runs an event loop in this thread; Django's ORM calls here are
        # plain blocking ones between two browser actions (as in the browser tests).
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
        import django

        django.setup()
        print(f"screenshots: portal at {portal.url} ready after {elapsed(start)}", flush=True)
        run = Run(url=portal.url, standin_url=portal.standin.http_url, plain_url=portal.plain_url)
        gallery = Gallery(out=out, portal_url=portal.url)
        walk(journeys, run, gallery)
    if only:  # the index lists every image there is: walk everything for it
        print("screenshots: --only leaves the index as it was")
    else:
        write_index(gallery, journeys)

    images = sorted(out.glob("*.png"))
    size = sum(image.stat().st_size for image in images)
    for warning in gallery.warnings:
        print(f"warning: {warning}")
    for failure in gallery.failures:
        print(f"FAILED: {failure}", file=sys.stderr)
    print(
        f"screenshots: {len(gallery.shots)} pages, {2 * len(gallery.shots)} images written "
        f"({len(images)} in {out.relative_to(REPO_ROOT) if out.is_relative_to(REPO_ROOT) else out},"
        f" {size / 1e6:.1f} MB) in {elapsed(start)}; {len(gallery.warnings)} warnings, "
        f"{len(gallery.failures)} journeys failed"
    )
    return 1 if gallery.failures else 0


if __name__ == "__main__":
    sys.exit(main())
