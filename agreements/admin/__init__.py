"""The Django admin as VLSC administrators use it: every queryset, foreign-key choice,
permission check and action is scoped by ``selectors.agreements_administered_by``; superusers
see everything.

By model group: ``agreements``, ``grants`` (contacts and permission grants), ``invitations``,
``access_requests`` and ``audit``; what they share is in ``scope``, ``step_up`` and ``forms``.
Django's autodiscovery imports this package, so it imports each module that registers a
ModelAdmin."""

from __future__ import annotations

from agreements.admin import access_requests, agreements, audit, grants, invitations

__all__ = ["access_requests", "agreements", "audit", "grants", "invitations"]
