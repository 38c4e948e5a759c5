"""Sessions read from the cache and written through to the database, that outlive a cache outage.

Django's ``cached_db`` engine already treats the database as the record (every save writes it
first) and the cache as a faster copy, but a cache that cannot be reached fails the request in
several places: the cache write after a database read (``load``), the existence check when a new
key is made (``exists``), and ``delete``. This engine catches the cache backend's connection and
timeout errors there and carries on with the database alone, logging a warning.

Ending a session is the exception, and fails closed: the cached copy is deleted first and, if the
cache cannot be reached, nothing is changed and the error propagates (the person gets the 503
page and signs out again a minute later). Deleting only the database row would leave the cached
copy to come back with a cache that kept its data (a network partition, a Redis that persists
to disk) and sign the session in again. When a session changes during an outage the older cached
copy can come back the same way; it belongs to the same person and only undoes a step of a flow
(signing in always makes a new key, so it never restores a signed-in state that was not there).
Timeouts on the cache's socket (``CACHES`` in ``vlsc_portal/settings.py``) bound how long a hung
cache holds a request.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.base import VALID_KEY_CHARS
from django.contrib.sessions.backends.cached_db import SessionStore as CachedDBStore
from django.contrib.sessions.backends.db import SessionStore as DBStore
from django.contrib.sessions.base_session import AbstractBaseSession
from django.core.cache.backends.base import BaseCache
from django.utils.crypto import get_random_string

from vlsc_portal.outages import CACHE_UNAVAILABLE

logger = logging.getLogger(__name__)


class SessionStore(CachedDBStore):
    # Django's engines have these; django-stubs does not declare them.
    _cache: BaseCache
    _session: dict[str, Any]
    _get_session_from_db: Callable[[], AbstractBaseSession | None]

    def load(self) -> dict[str, Any]:
        try:
            data = self._cache.get(self.cache_key)
        except CACHE_UNAVAILABLE as exc:
            self._cache_unavailable("read", exc)
            return self._load_from_database(cache_it=False)
        except Exception:  # as Django does: a key the backend refuses reads from the database
            data = None
        if data is None:
            data = self._load_from_database(cache_it=True)
        return data

    def _load_from_database(self, *, cache_it: bool) -> dict[str, Any]:
        stored = self._get_session_from_db()
        if not stored:
            return {}
        data = self.decode(stored.session_data)
        if cache_it:
            try:
                self._cache.set(
                    self.cache_key, data, self.get_expiry_age(expiry=stored.expire_date)
                )
            except CACHE_UNAVAILABLE as exc:
                self._cache_unavailable("write", exc)
        return data

    def exists(self, session_key: str | None) -> bool:
        if not session_key:
            return False  # no row has an empty key
        try:
            if (self.cache_key_prefix + session_key) in self._cache:
                return True
        except CACHE_UNAVAILABLE as exc:
            self._cache_unavailable("read", exc)
        return DBStore.exists(self, session_key)

    def _get_new_session_key(self) -> str:
        """A new random key, without asking the cache and the database whether it is taken, as
        Django's does (a cache read and a query for every new session): 32 characters of 36
        (165 bits) do not collide, and the INSERT that creates a session
        (``save(must_create=True)``) refuses a key that is taken anyway (``create`` then draws
        another)."""
        return get_random_string(32, VALID_KEY_CHARS)

    def save(self, must_create: bool = False) -> None:
        if self.session_key is None:
            return self.create()  # which saves with must_create=True
        DBStore.save(self, must_create)
        try:
            self._cache.set(self.cache_key, self._session, self.get_expiry_age())
        except CACHE_UNAVAILABLE as exc:
            self._cache_unavailable("write", exc)
        except Exception:  # as Django does: the database holds the session; log and go on
            logger.exception("Error saving to cache (%s)", self._cache)

    def delete(self, session_key: str | None = None) -> None:
        """Delete the cached copy, then the row; raises the cache's error (changing nothing) when
        the cache cannot be reached (see the module's docstring)."""
        if session_key is None:
            if self.session_key is None:
                return
            session_key = self.session_key
        self._cache.delete(self.cache_key_prefix + session_key)
        DBStore.delete(self, session_key)

    def cycle_key(self) -> None:
        """A new key for the same data (Django calls it at sign-in); a session never stored gets
        its key when the session middleware stores it. When the cache cannot be
        reached, the old key's row is deleted and its cached copy left behind only if it was not
        signed in: that copy holds an anonymous session (what a session-fixation attacker could
        have planted), which grants nothing. A signed-in one is retired everywhere or not at all
        (the error propagates, as in :meth:`delete`)."""
        data = self._session
        key = self.session_key
        if key is None:
            # Nothing stored yet, so nothing to retire: the session middleware creates it, once,
            # with its final data (one INSERT, not an INSERT now and an UPDATE at the end).
            self._session_cache = data
            self.modified = True
            return
        self.create()
        self._session_cache = data
        if key:
            try:
                self.delete(key)
            except CACHE_UNAVAILABLE as exc:
                if SESSION_KEY in data:
                    raise
                self._cache_unavailable("delete", exc)
                DBStore.delete(self, key)

    def _cache_unavailable(self, operation: str, exc: Exception) -> None:
        logger.warning(
            "session cache %s failed (%s: %s): using the database alone",
            operation,
            exc.__class__.__name__,
            exc,
        )
