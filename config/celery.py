"""The Celery app. Tasks are thin: they take ids and call one service.

With no broker configured (`REDIS_URL` / `CELERY_BROKER_URL` unset) tasks run eagerly in the
calling process, which is the embedded default for a newcomer's first run.

The log context (request id, user, fund) travels from the request into the task's headers and
onto the worker's log lines (config/logs.py); errors go to Sentry when SENTRY_DSN is set.
"""

import os

from celery import Celery
from celery.signals import worker_process_init

from config.logs import celery_signals_connect

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("trovon")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
celery_signals_connect()


@worker_process_init.connect(weak=False)
def _worker_sentry(**kwargs):
    from config.logs import sentry_init

    sentry_init()
