"""Every page of the portal is in the screenshot gallery (``make screenshots``), so a new page
gets screenshots: each named URL pattern outside the Django admin is shown by a step of
``screenshots/journeys.py`` or listed, with its reason, in ``screenshots/not_pages.py``. Fast:
it reads the URL configuration and the journey data; the gallery itself (a browser walk of about
two minutes) is ``make screenshots``, not part of ``make test``."""

from __future__ import annotations

import re
from pathlib import Path

from django.urls import URLPattern, URLResolver, get_resolver

from screenshots.journeys import JOURNEYS
from screenshots.not_pages import NOT_PAGES
from screenshots.walk import file_name

SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


def _named_routes(resolver: URLResolver, namespace: str = "") -> set[str]:
    names: set[str] = set()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            names |= _named_routes(pattern, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.add(namespace + pattern.name)
    return names


ROUTES = _named_routes(get_resolver())
PORTAL_ROUTES = {name for name in ROUTES if not name.startswith("admin:")}


def _not_a_page(name: str) -> bool:
    namespace = name.partition(":")[0] if ":" in name else ""
    return name in NOT_PAGES or (bool(namespace) and f"{namespace}:*" in NOT_PAGES)


def _shown() -> dict[str, list[str]]:
    shown: dict[str, list[str]] = {}
    for journey in JOURNEYS:
        for step in journey.steps:
            for route in step.routes:
                shown.setdefault(route, []).append(f"{journey.slug}/{step.slug}")
    return shown


def test_every_page_of_the_portal_is_in_a_journey_or_said_not_to_be_a_page():
    shown = _shown()
    missing = sorted(name for name in PORTAL_ROUTES if name not in shown and not _not_a_page(name))
    assert missing == [], (
        "pages without screenshots: add a step to screenshots/journeys.py, or the name with its "
        f"reason to screenshots/not_pages.py: {missing}"
    )
    # The walk finds the portal's pages, the API's operations and the admin's.
    assert {"accounts:register", "support:person", "api:list_grants", "api-docs"} <= PORTAL_ROUTES
    assert "admin:index" in ROUTES


def test_the_lists_name_routes_that_exist_and_do_not_overlap():
    shown = _shown()
    optional = {
        route
        for journey in JOURNEYS
        for step in journey.steps
        if step.optional
        for route in step.routes
    }
    # A step that is not optional shows a page that exists; an optional one may name a page
    # another branch is adding (skipped while it answers 404).
    assert sorted(set(shown) - ROUTES - optional) == []
    stale = [
        name
        for name in NOT_PAGES
        if not (name in ROUTES or any(r.startswith(name.removesuffix("*")) for r in ROUTES))
    ]
    assert stale == []
    assert sorted(name for name in shown if _not_a_page(name)) == []
    assert all(reason.strip() for reason in NOT_PAGES.values())


def test_file_names_are_stable_descriptive_and_unique():
    numbers = [journey.number for journey in JOURNEYS]
    assert len(set(numbers)) == len(numbers)
    names = []
    for journey in JOURNEYS:
        assert SLUG.match(journey.slug), journey.slug
        for step in journey.steps:
            assert SLUG.match(step.slug), step.slug
            assert bool(step.path) != bool(step.action), f"{journey.slug}/{step.slug}"
            names += [file_name(journey, step, width) for width in ("desktop", "mobile")]
    assert len(set(names)) == len(names)
    assert "03-bob-registration-status-mobile.png" in names


ROOT = Path(__file__).resolve().parents[2]
GALLERY = ROOT / "docs" / "screenshots"


def _names() -> set[str]:
    return {
        file_name(journey, step, width)
        for journey in JOURNEYS
        for step in journey.steps
        for width in ("desktop", "mobile")
    }


def test_the_readme_shows_images_the_gallery_has():
    shown = set(re.findall(r"docs/screenshots/([\w.-]+\.png)", (ROOT / "README.md").read_text()))
    assert len(shown) >= 4
    assert shown <= _names(), "the README shows an image no journey step makes"
    assert all((GALLERY / name).is_file() for name in shown)


def test_every_committed_image_is_a_step_of_a_journey_and_in_the_index():
    """No image of a renamed or removed step lingers, and the generated index lists each."""
    images = {path.name for path in GALLERY.glob("*.png")}
    index = (GALLERY / "README.md").read_text()
    assert images
    assert sorted(images - _names()) == []
    assert sorted(name for name in images if f"]({name})" not in index) == []
