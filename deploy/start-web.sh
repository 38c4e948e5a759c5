#!/bin/sh
# The web container's command: serve only if Django's deployment checks pass. A warning counts
# (--fail-level WARNING): DEBUG on, a weak secret, cookies or HSTS off all stop the container here,
# before gunicorn accepts a request. (Settings themselves already refuse placeholders, short
# secrets, an http PORTAL_URL and a missing DJANGO_ALLOWED_HOSTS: vlsc_portal/deployment.py.)
# WEB_BIND_ADDRESS and WEB_PORT exist so tests/deploy can run this very script on loopback.
set -eu
python manage.py check --deploy --fail-level WARNING
exec gunicorn vlsc_portal.wsgi:application \
  --bind "${WEB_BIND_ADDRESS:-0.0.0.0}:${WEB_PORT:-8000}" \
  --workers "${GUNICORN_WORKERS:-3}" \
  --timeout 60 \
  --graceful-timeout 20 \
  --access-logfile - \
  --no-control-socket
