"""The Celery app. Tasks are thin: they take ids and call one service.

With no broker configured (`REDIS_URL` / `CELERY_BROKER_URL` unset) tasks run eagerly in the
calling process, which is the embedded default for a newcomer's first run.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("trovon")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
