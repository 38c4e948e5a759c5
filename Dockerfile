# The production-shaped image: web (gunicorn), worker and beat all run from it.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DJANGO_ENV=production
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN DJANGO_SECRET_KEY=collectstatic-only ENTRA_CLIENT_ID=x ENTRA_CLIENT_SECRET=x \
    python manage.py collectstatic --noinput
RUN useradd --create-home vlsc
USER vlsc
EXPOSE 8000
CMD ["gunicorn", "vlsc_portal.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--no-control-socket"]
