"""Benchmarks of the portal's hot paths, each measured against a ceiling (issue 8).

``python -m bench --help`` (or ``make bench``) runs them; ``tests/bench/test_smoke.py`` runs each
at a tiny size so they cannot rot.
"""
