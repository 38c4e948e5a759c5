# The production image: the proxy's upstream (web, gunicorn), the worker, beat and the one-shot
# migrate all run from it. It holds requirements.txt's packages and the portal's own code only:
# .dockerignore lets nothing else in (no .env, var/, .venv, .git, tests, the Entra ID stand-in),
# and the stand-in's, honcho's and the test tools' packages live in requirements-dev.txt and
# requirements-test.txt, which this never installs.
FROM python:3.11.15-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_ENV=production \
    VLSC_VAR_DIR=/app/var \
    STATIC_ROOT=/app/staticfiles
WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY . .
# compilemessages and collectstatic read the settings, which refuse production without
# real-looking values: these throwaway ones exist for these commands and are never in the image's
# environment. The compiled catalogues (.mo) are built here, not committed.
RUN apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends gettext >/dev/null \
    && DJANGO_SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(64))')" \
    ENTRA_CLIENT_ID=collectstatic \
    ENTRA_CLIENT_SECRET="$(python -c 'import secrets; print(secrets.token_urlsafe(48))')" \
    PORTAL_URL=https://collectstatic.invalid \
    DJANGO_ALLOWED_HOSTS=collectstatic.invalid \
    EMAIL_HOST=collectstatic.invalid \
    sh -c 'python manage.py compilemessages -v 0 && python manage.py collectstatic --noinput' \
    && apt-get purge -y -qq gettext >/dev/null && apt-get autoremove -y -qq >/dev/null \
    && rm -rf /var/lib/apt/lists/*
# The processes run unprivileged; the var dir (beat's schedule file) is theirs to write.
RUN useradd --create-home --uid 10001 vlsc && mkdir -p /app/var && chown vlsc:vlsc /app/var
USER vlsc
EXPOSE 8000
# docker-compose gives each service its command; this is the web's.
CMD ["deploy/start-web.sh"]
