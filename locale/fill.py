"""Fill the French, German and Japanese gettext catalogues from translation tables.

Usage, from the repository root::

    .venv/bin/python manage.py makemessages -l fr -l de -l ja --add-location=file --no-obsolete \
        --ignore=.venv --ignore=node_modules --ignore=entra_standin --ignore=bench \
        --ignore=tests --ignore=staticfiles --ignore=var  # as tests/platform/test_catalogues.py
    .venv/bin/python locale/fill.py --todo                    # msgids still to translate
    .venv/bin/python locale/fill.py TABLE.py [TABLE.py ...]   # fill, then report
    .venv/bin/python locale/fill.py --check                   # report only; exit 1 if incomplete

A table is a Python file defining ``T``, a list of ``(msgid, fr, de, ja)`` tuples. For a plural
entry, ``msgid`` is the singular and fr and de are ``(one, other)`` pairs and ja a 1-tuple.
Only entries whose msgid is in the catalogue are used; a translation whose placeholders
(``%(name)s``, ``%s``, ``{name}``, HTML tags) differ from the msgid's is refused. Filling clears
``fuzzy`` flags, drops obsolete (``#~``) entries and sets the header.
"""

from __future__ import annotations

import datetime
import re
import runpy
import subprocess
import sys
from pathlib import Path

import polib

LOCALE = Path(__file__).resolve().parent
LANGS = {
    "fr": ("French", "nplurals=2; plural=(n > 1);", 2),
    "de": ("German", "nplurals=2; plural=(n != 1);", 2),
    "ja": ("Japanese", "nplurals=1; plural=0;", 1),
}
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sdr]|%[sd]|\{[a-z_]*\}|</?[a-z]+[^>]*>")


def french_spacing(text: str) -> str:
    """French typography: a no-break space before : and inside « », a narrow one before ; ? !,
    so a line never starts with the sign. Tables are written with ordinary spaces."""
    text = re.sub(r" ([:»])", "\u00a0\\1", text)
    text = re.sub(r"« ", "«\u00a0", text)
    return re.sub(r" ([;?!])", "\u202f\\1", text)


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def check_placeholders(msgid: str, msgstr: str, lang: str) -> str | None:
    if placeholders(msgid) != placeholders(msgstr):
        return f"{lang}: placeholders differ for {msgid!r}: {msgstr!r}"
    return None


def load_tables(paths: list[str]) -> dict[str, tuple]:
    table: dict[str, tuple] = {}
    for path in paths:
        for row in runpy.run_path(path)["T"]:
            table[row[0]] = row[1:]
    return table


def fill(lang: str, table: dict[str, tuple]) -> list[str]:
    name, plural_forms, nplurals = LANGS[lang]
    path = LOCALE / lang / "LC_MESSAGES" / "django.po"
    po = polib.pofile(str(path))
    po.header = (
        f"{name} translation of the VLSC Portal.\n"
        "Filled by locale/fill.py; terms in locale/GLOSSARY.md."
    )
    po.metadata.update(
        {
            "Project-Id-Version": "VLSC Portal",
            "Language": lang,
            "Language-Team": name,
            "Plural-Forms": plural_forms,
            "Last-Translator": "VLSC Portal translators",
            "Content-Type": "text/plain; charset=UTF-8",
        }
    )
    po.metadata_is_fuzzy = False
    errors: list[str] = []
    changed = False
    column = list(LANGS).index(lang)
    for entry in po:
        if entry.msgid not in table:
            continue
        value = table[entry.msgid][column]
        if lang == "fr":
            value = (
                tuple(french_spacing(v) for v in value)
                if isinstance(value, tuple)
                else french_spacing(value)
            )
        if entry.msgid_plural:
            if not isinstance(value, tuple) or len(value) != nplurals:
                errors.append(f"{lang}: {entry.msgid!r} needs {nplurals} plural forms")
                continue
            bad = [
                check_placeholders(entry.msgid_plural if i else entry.msgid, form, lang)
                for i, form in enumerate(value)
            ]
            if lang == "ja":
                bad = [check_placeholders(entry.msgid_plural, value[0], lang)]
            if any(bad):
                errors.extend(b for b in bad if b)
                continue
            changed |= entry.msgstr_plural != dict(enumerate(value)) or entry.fuzzy
            entry.msgstr_plural = dict(enumerate(value))
        else:
            problem = check_placeholders(entry.msgid, value, lang)
            if problem:
                errors.append(problem)
                continue
            changed |= entry.msgstr != value or entry.fuzzy
            entry.msgstr = value
        if "fuzzy" in entry.flags:
            entry.flags.remove("fuzzy")
        entry.previous_msgid = entry.previous_msgid_plural = entry.previous_msgctxt = None
    for entry in po.obsolete_entries():
        po.remove(entry)
    if changed:
        now = datetime.datetime.now(datetime.UTC)
        po.metadata["PO-Revision-Date"] = now.strftime("%Y-%m-%d %H:%M+0000")
    po.save()
    # Rewrap the way msgmerge does, so the next makemessages changes only what changed.
    subprocess.run(["msgcat", "--output-file", str(path), str(path)], check=True)
    return errors


def report() -> int:
    missing_total = 0
    for lang in LANGS:
        po = polib.pofile(str(LOCALE / lang / "LC_MESSAGES" / "django.po"))
        untranslated = po.untranslated_entries()
        fuzzy = po.fuzzy_entries()
        obsolete = po.obsolete_entries()
        print(
            f"{lang}: {len(po.translated_entries())} translated, {len(untranslated)} untranslated,"
            f" {len(fuzzy)} fuzzy, {len(obsolete)} obsolete"
        )
        missing_total += len(untranslated) + len(fuzzy) + len(obsolete)
    return missing_total


def todo() -> None:
    """Print, once, each msgid that some language lacks or has fuzzy, ready for a table."""
    seen: set[str] = set()
    for lang in LANGS:
        po = polib.pofile(str(LOCALE / lang / "LC_MESSAGES" / "django.po"))
        for entry in po.untranslated_entries() + po.fuzzy_entries():
            if entry.msgid not in seen:
                seen.add(entry.msgid)
                plural = f"  # plural: {entry.msgid_plural!r}" if entry.msgid_plural else ""
                print(f"({entry.msgid!r}, '', '', ''),{plural}")


def main(argv: list[str]) -> int:
    if argv and argv[0] == "--todo":
        todo()
        return 0
    if argv and argv[0] != "--check":
        table = load_tables(argv)
        errors = [e for lang in LANGS for e in fill(lang, table)]
        for error in errors:
            print(error, file=sys.stderr)
        if errors:
            report()
            return 1
    return 1 if report() else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
