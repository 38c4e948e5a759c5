# VLSC Portal: `make run` starts everything on embedded defaults; `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
# The address links in emails point to (settings.PORTAL_URL): the portal's own port by default.
PORTAL_URL ?= http://localhost:$(PORT)
STANDIN_HTTP_PORT ?= 8001
STANDIN_TLS_PORT ?= 8443
# make bench: seconds measured per page (after WARMUP discarded), open connections, dataset size
# (full: 1,000,000 registrations; small; tiny), gunicorn workers; its own database and Redis db.
DURATION ?= 20
WARMUP ?= 5
CONCURRENCY ?= 16
SIZE ?= full
WORKERS ?= 3
BENCH_ONLY ?=
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/vlsc_bench
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/14
COVERAGE_FLOOR ?= 90

.PHONY: run test install install-test messages browser lint checks pytest clean bench bench-readme screenshots

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# requirements.txt is production's runtime only (the Docker image); development adds the Entra ID
# stand-in and honcho (requirements-dev.txt), the tests add their tools (requirements-test.txt).
install: $(VENV)/bin/activate
	$(PY) -m pip install --quiet -r requirements-dev.txt
	$(MAKE) --no-print-directory messages

install-test: $(VENV)/bin/activate
	$(PY) -m pip install --quiet -r requirements-test.txt
	npm install --no-audit --no-fund --silent
	$(MAKE) --no-print-directory messages

# The catalogues (locale/*/LC_MESSAGES/django.po) compiled into the .mo files Django reads, with
# GNU gettext's msgfmt. The .mo files are built, never committed (.gitignore): a committed binary
# would drift from its .po unseen in review. --ignore: the walk for locale folders skips Django's
# own (in .venv, compiled already) and node_modules.
messages:
	$(PY) manage.py compilemessages --ignore=.venv --ignore=node_modules --ignore=var -v 0

# Debian's chromium where apt is available (Playwright cannot download browsers everywhere);
# Playwright's own Chromium elsewhere.
browser:
	@if [ -x /usr/bin/chromium ] || [ -x /usr/lib/chromium/chromium ]; then \
	  echo "chromium: present"; \
	elif command -v apt-get >/dev/null 2>&1; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; \
	else \
	  $(PY) -m playwright install chromium; \
	fi

run: install
	$(PY) manage.py migrate --noinput
	$(PY) -m entra_standin setup --redirect-uri http://localhost:$(PORT)/accounts/entra/login/callback/ --post-logout-redirect-uri http://localhost:$(PORT)/
	$(PY) -m entra_standin seed_demo_directory
	PORTAL_URL=$(PORTAL_URL) $(PY) manage.py seed_demo
	@echo ""
	@echo "  VLSC Portal:          http://localhost:$(PORT)/"
	@echo "  Entra ID stand-in:    http://localhost:$(STANDIN_HTTP_PORT)/  (demo accounts, password Passw0rd!)"
	@echo "  Dev mailbox:          http://localhost:$(STANDIN_HTTP_PORT)/mailbox/"
	@echo "  Stop everything with Ctrl-C."
	@echo ""
	WEB_PORT=$(PORT) PORTAL_URL=$(PORTAL_URL) STANDIN_HTTP_PORT=$(STANDIN_HTTP_PORT) STANDIN_TLS_PORT=$(STANDIN_TLS_PORT) \
	  STANDIN_HTTP_URL=http://localhost:$(STANDIN_HTTP_PORT) STANDIN_TLS_URL=https://127.0.0.1:$(STANDIN_TLS_PORT) \
	  $(VENV)/bin/honcho -f Procfile.dev start

# The hooks of .pre-commit-config.yaml on every file: ruff (lint and format), django-upgrade,
# djLint, mypy and the Compose schema. All local: pre-commit downloads nothing.
lint: install-test
	$(VENV)/bin/pre-commit run --all-files --show-diff-on-failure

# Production settings refuse placeholder and short secrets: random ones, made for this run only.
checks: install-test
	$(PY) manage.py makemigrations --check --dry-run
	DJANGO_ENV=production DJANGO_SECRET_KEY=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(64))') \
	  ENTRA_CLIENT_ID=check-deploy ENTRA_CLIENT_SECRET=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(48))') \
	  DJANGO_ALLOWED_HOSTS=vlsc.example PORTAL_URL=https://vlsc.example EMAIL_HOST=smtp.vlsc.example \
	  $(PY) manage.py check --deploy --fail-level WARNING

pytest: install-test browser
	DJANGO_ALLOW_ASYNC_UNSAFE=true $(PY) -m pytest --cov --cov-report=term --cov-fail-under=$(COVERAGE_FLOOR) $(PYTEST_ARGS)

test: lint checks pytest

# Benchmarks against PostgreSQL and Redis (README "Benchmarks"); not part of make test, which
# runs their smoke test (tests/bench) instead.
bench: install
	$(PY) -m pip install --quiet -r requirements-bench.txt
	@command -v wrk >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
	@createdb -h 127.0.0.1 -U postgres vlsc_bench 2>/dev/null || true
	BENCH_DATABASE_URL=$(BENCH_DATABASE_URL) BENCH_REDIS_URL=$(BENCH_REDIS_URL) \
	  $(PY) -m bench --duration $(DURATION) --warmup $(WARMUP) --concurrency $(CONCURRENCY) \
	  --size $(SIZE) --workers $(WORKERS) --only "$(BENCH_ONLY)"
	$(MAKE) --no-print-directory bench-readme

# The chart (bench-results/latest.svg) and the README's table, from bench-results/latest.json
# (which only a run of every benchmark writes).
bench-readme:
	$(PY) -m bench.report

# The screenshot gallery (docs/screenshots/, README "Screenshots"): every page of every journey
# at 1280 and 390 px, on a portal of its own (free ports, a temporary database). About two
# minutes, so not part of make test (tests/platform/test_screenshot_journeys.py is).
screenshots: install-test browser
	$(PY) -m screenshots

clean:
	rm -rf $(VENV) var node_modules .pytest_cache .coverage htmlcov staticfiles
