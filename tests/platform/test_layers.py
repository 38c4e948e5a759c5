"""Dependencies flow one way (docs/architecture.md): each app imports only the apps below it,
the composition root may import any of them, and the Entra ID stand-in is walled off both ways.

The imports are read with ``ast`` from every module outside migrations and tests, including
imports inside functions, so a lazy import cannot hide an arrow."""

from __future__ import annotations

import ast
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]

# Bottom to top: an app may import an app at its own level or below, never above.
LAYERS = ("vlsc_portal", "notifications", "accounts", "agreements", "support", "api")
LEVEL = {app: level for level, app in enumerate(LAYERS)}

# What composes the apps: it may import any of them. (The settings modules and celery.py name
# the apps only as strings, which is composition too, but they import none.)
COMPOSITION_ROOT = {
    "vlsc_portal/urls.py",
    "vlsc_portal/management/commands/seed_demo.py",
}

STANDIN = "entra_standin"
# Outside the portal's packages, these may drive the stand-in: the test suite, the benchmark and
# the screenshot gallery (``make screenshots``).
# (The development harness runs it as its own process: ``python -m entra_standin`` in
# Procfile.dev, with no import.)
MAY_IMPORT_STANDIN = ("tests", "bench", "screenshots")


def _modules(package: str) -> list[Path]:
    return sorted(
        path
        for path in (ROOT / package).rglob("*.py")
        if not {"migrations", "tests"} & set(path.relative_to(ROOT).parts)
    )


def _imported_packages(path: Path) -> set[str]:
    """The top-level packages ``path`` imports; relative imports stay inside its own package."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.partition(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.partition(".")[0])
    return found


def _arrows() -> list[tuple[str, str, str]]:
    """(module, its app, the app it imports) for every import between two layered apps."""
    arrows = []
    for app in LAYERS:
        for path in _modules(app):
            module = path.relative_to(ROOT).as_posix()
            for imported in _imported_packages(path) & set(LAYERS):
                if imported != app:
                    arrows.append((module, app, imported))
    return arrows


def test_no_app_imports_an_app_above_it():
    arrows = _arrows()
    upward = [
        f"{module} ({app}) imports {imported}"
        for module, app, imported in arrows
        if LEVEL[imported] > LEVEL[app] and module not in COMPOSITION_ROOT
    ]
    assert upward == []
    # The walk sees the arrows that do exist, so an empty result above means something.
    assert ("agreements", "accounts") in {(app, imported) for _, app, imported in arrows}


def test_the_composition_root_is_where_the_layers_say():
    for module in COMPOSITION_ROOT:
        assert (ROOT / module).is_file(), module
    assert any(
        module == "vlsc_portal/urls.py" and LEVEL[imported] > 0 for module, _, imported in _arrows()
    )


def test_every_installed_portal_app_has_a_layer():
    first_party = {
        name.partition(".")[0]
        for name in settings.INSTALLED_APPS
        if (ROOT / name.partition(".")[0]).is_dir()
    }
    assert first_party == set(LAYERS)


def test_no_portal_module_imports_the_entra_id_standin():
    importers = [
        path.relative_to(ROOT).as_posix()
        for package in LAYERS
        for path in _modules(package)
        if STANDIN in _imported_packages(path)
    ]
    importers += [
        path.name
        for path in ROOT.glob("*.py")
        if STANDIN in _imported_packages(path)  # manage.py and anything else at the top
    ]
    assert importers == []
    assert all((ROOT / allowed).is_dir() for allowed in MAY_IMPORT_STANDIN)


def test_the_entra_id_standin_imports_nothing_of_the_portal():
    portal = set(LAYERS) | set(MAY_IMPORT_STANDIN)
    importers = [
        f"{path.relative_to(ROOT).as_posix()} imports {sorted(_imported_packages(path) & portal)}"
        for path in _modules(STANDIN)
        if _imported_packages(path) & portal
    ]
    assert importers == []
