# The one image of every service (web, worker, beat, outbox relay, migrate, backup).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
# DejaVu: every Vietnamese letter in the PDFs. postgresql-client: pg_dump/pg_restore of the
# backups (the same major version as the postgres service). gnupg: the backups' optional
# encryption.
RUN apt-get update && apt-get install -y --no-install-recommends \
        fonts-dejavu-core postgresql-client gnupg \
    && rm -rf /var/lib/apt/lists/*
# An unprivileged user owning exactly what the app writes: the media files (stored reports),
# the backups, the ledger's last signed head, the metrics of the gunicorn workers.
RUN groupadd --system --gid 10001 trovon \
    && useradd --system --uid 10001 --gid trovon --home-dir /app --shell /usr/sbin/nologin trovon
WORKDIR /app
# The dependencies first (a layer reused while only the code changes).
# (pyproject.toml lists no package: this installs the dependencies; the code runs from /app.)
COPY pyproject.toml ./
RUN pip install --no-cache-dir .
COPY . .
# Static files with hashed, compressed names (WhiteNoise serves them); no secret is needed for it.
RUN DEBUG=0 SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput
# Named volumes mounted here start with this ownership, so the app user can write them.
RUN mkdir -p /data/media /data/documents /data/backups /data/heads /tmp/prometheus \
    && chown -R trovon:trovon /data /tmp/prometheus
USER trovon
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--config", "deploy/gunicorn.conf.py"]
