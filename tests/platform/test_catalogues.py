"""The French, German and Japanese catalogues in ``locale/`` are complete: every string marked for
translation in the code and templates has a translation in each, none fuzzy, none obsolete, each
keeping its msgid's placeholders, with each language's plural rule in the header."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import polib
import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parent.parent.parent
LANGS = {
    "fr": "nplurals=2; plural=(n > 1);",
    "de": "nplurals=2; plural=(n != 1);",
    "ja": "nplurals=1; plural=0;",
}
# What makemessages leaves out (locale/fill.py's command): tools, tests, the Entra ID stand-in
# (its pages are not the portal's) and static/ (no JavaScript strings, so no djangojs domain).
# Every other top-level folder, a new app too, is extracted.
NOT_EXTRACTED = {
    "bench",
    "bench-results",
    "docs",
    "entra_standin",
    "locale",
    "node_modules",
    "static",
    "staticfiles",
    "tests",
    "var",
}


def catalogue(lang: str) -> polib.POFile:
    return polib.pofile(str(ROOT / "locale" / lang / "LC_MESSAGES" / "django.po"))


def problems(po: polib.POFile) -> list[str]:
    """What is wrong with one catalogue, one line per entry (empty when complete)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("fill", ROOT / "locale" / "fill.py")
    assert spec and spec.loader
    fill = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fill)
    found = [f"untranslated: {e.msgid!r}" for e in po.untranslated_entries()]
    found += [f"fuzzy: {e.msgid!r}" for e in po.fuzzy_entries()]
    found += [f"obsolete: {e.msgid!r}" for e in po.obsolete_entries()]
    for entry in po.translated_entries():
        if entry.msgid_plural:
            forms = entry.msgstr_plural
            pairs = [(entry.msgid_plural if i else entry.msgid, text) for i, text in forms.items()]
            if len(forms) == 1:
                pairs = [(entry.msgid_plural, forms[0])]
        else:
            pairs = [(entry.msgid, entry.msgstr)]
        found += [p for msgid, text in pairs if (p := fill.check_placeholders(msgid, text, ""))]
    return found


@pytest.mark.parametrize("lang", LANGS)
def test_catalogue_is_complete_and_keeps_placeholders(lang):
    po = catalogue(lang)
    assert po.metadata["Language"] == lang
    assert po.metadata["Plural-Forms"] == LANGS[lang]
    assert "charset=UTF-8" in po.metadata["Content-Type"]
    assert problems(po) == []


@pytest.mark.parametrize("lang", LANGS)
def test_catalogue_compiles_cleanly(lang, tmp_path):
    path = ROOT / "locale" / lang / "LC_MESSAGES" / "django.po"
    result = subprocess.run(
        ["msgfmt", "--check", "-o", str(tmp_path / "django.mo"), str(path)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


def test_the_checks_catch_a_gap():
    """The completeness check fails on an untranslated, a fuzzy and a placeholder-losing entry."""
    po = polib.POFile()
    po.append(polib.POEntry(msgid="Hello %(name)s", msgstr=""))
    po.append(polib.POEntry(msgid="Sign out", msgstr="Se déconnecter", flags=["fuzzy"]))
    po.append(polib.POEntry(msgid="Agreement %(number)s", msgstr="Contrat"))
    assert len(problems(po)) == 3


def test_every_marked_string_is_in_the_catalogues(tmp_path, settings):
    """makemessages over a copy of the sources finds no msgid the catalogues lack: a string marked
    for translation without running makemessages and translating it fails here."""
    for source in ROOT.iterdir():
        if source.is_dir() and source.name not in NOT_EXTRACTED and source.name[0] not in "._":
            ignore = shutil.ignore_patterns("__pycache__", "node_modules")
            shutil.copytree(source, tmp_path / source.name, ignore=ignore, symlinks=True)
    (tmp_path / "locale").mkdir()
    settings.LOCALE_PATHS = [tmp_path / "locale"]
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        call_command("makemessages", locale=["fr"], verbosity=0, no_location=True)
    finally:
        os.chdir(cwd)
    extracted = {e.msgid for e in polib.pofile(str(tmp_path / "locale/fr/LC_MESSAGES/django.po"))}
    assert len(extracted) > 500  # the copy held the sources
    for lang in LANGS:
        assert extracted - {e.msgid for e in catalogue(lang)} == set(), lang
