"""The screenshot gallery (``make screenshots``): every page of every journey in the README,
walked in Chromium as a person would, saved at desktop (1280×800) and phone (390×844) widths
into ``docs/screenshots/`` with an index (``docs/screenshots/README.md``).

``portal`` starts what ``make run`` starts (the portal on Django's development server, a Celery
worker, the Entra ID stand-in; and the portal once more with DEBUG off, for its own 404 page,
which DEBUG replaces with Django's) on free ports with a fresh SQLite database under a temporary
``VLSC_VAR_DIR``; ``journeys`` is the data (which pages, in which order, what each shows);
``walk`` drives the browser and writes the files. ``tests/platform/test_screenshot_journeys.py``
fails when a page of the portal is in neither the journeys nor ``not_pages.py``."""
