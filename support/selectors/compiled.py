"""Run querysets as raw SQL compiled once per query shape.

Django can take longer to compile a query than the database takes to answer it; this keeps the
compiled SQL per shape and substitutes each call's values for the sentinels it was built from."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from django.db import connection
from django.db.models import QuerySet

_COMPILED: dict[tuple[Hashable, ...], dict[Any, Any]] = {}

Name = TypeVar("Name", bound=Hashable)


def run_compiled(
    key: tuple[Hashable, ...],
    build: Callable[[], dict[Name, QuerySet[Any]]],
    values: dict[Any, Any],
) -> dict[Name, list[Any]]:
    """Run the querysets ``build()`` makes, as raw SQL compiled once per ``key``.

    Django can take longer to compile a query than the database takes to answer it. ``build``
    returns ``{name: queryset}`` made from sentinel values (the keys of ``values``); the first
    call per ``key`` (which must name everything that changes the SQL's shape) compiles them and
    records which parameter positions hold a sentinel; every call runs them with each such
    position given its real value from ``values``. Returns ``{name: rows}``."""
    compiled = _COMPILED.get((connection.vendor, *key))
    if compiled is None:
        compiled = {}
        for name, queryset in build().items():
            sql, params = queryset.query.sql_with_params()
            places = [
                ("sentinel", p) if _hashable(p) and p in values else ("value", p) for p in params
            ]
            compiled[name] = (queryset.model, sql, places)
        _COMPILED[(connection.vendor, *key)] = compiled
    return {
        name: list(
            model.objects.raw(sql, [values[p] if kind == "sentinel" else p for kind, p in places])
        )
        for name, (model, sql, places) in compiled.items()
    }


def _hashable(value: object) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True
