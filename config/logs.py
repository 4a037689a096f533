"""Log context: a request id, the user and the fund on every log line, in requests and tasks.

``RequestContextMiddleware`` gives each request an id (the proxy's ``X-Request-ID`` when it
looks like one, else a new one), sends it back in the response's ``X-Request-ID`` and logs one
``trovon.request`` line per request. ``RequestContextFilter`` (settings.LOGGING) adds
``request_id``, ``user`` and ``fund`` to every record written while the request runs, whichever
logger wrote it. A task published during a request carries the three in its message headers
(``before_task_publish``) and the worker's lines carry them while the task runs
(``task_prerun``), so a report queued by a click can be followed into the worker's log.

``sentry_init`` sends errors to Sentry when ``SENTRY_DSN`` is set (called by the WSGI app and
the Celery app, never in tests unless set).
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from contextvars import ContextVar

from django.utils.functional import empty

request_logger = logging.getLogger("trovon.request")

HEADER = "trovon_log_context"
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
_context: ContextVar[dict | None] = ContextVar("trovon_log_context", default=None)
_request: ContextVar[object | None] = ContextVar("trovon_log_request", default=None)


def new_request_id() -> str:
    return uuid.uuid4().hex


def log_context() -> dict:
    """The request id, user and fund of the running request or task (empty strings outside)."""
    ctx = dict(_context.get() or {})
    request = _request.get()
    if request is not None:
        ctx.update(_user_and_fund(request))
    return {
        "request_id": ctx.get("request_id", ""),
        "user": ctx.get("user", ""),
        "fund": ctx.get("fund", ""),
    }


def _user_and_fund(request) -> dict:
    """The signed-in user once the authentication middleware has loaded it (never a query)."""
    user = getattr(request, "user", None)
    if user is None or getattr(user, "_wrapped", None) is empty:
        return {}
    if not getattr(user, "is_authenticated", False):
        return {}
    out = {"user": user.get_username()}
    # The officer profile only when already loaded with the user (config.auth_backend): a log line
    # never queries the database.
    state = getattr(user, "_state", None)
    officer = state.fields_cache.get("officer") if state is not None else None
    if officer is not None:
        out["fund"] = str(officer.fund_id)
    return out


class RequestContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in log_context().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if _SAFE_ID.match(incoming) else new_request_id()
        request.request_id = request_id
        ctx_token = _context.set({"request_id": request_id})
        req_token = _request.set(request)
        started = time.monotonic()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_id
            seconds = time.monotonic() - started
            request_logger.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round(seconds * 1000, 1),
                },
            )
            return response
        finally:
            _request.reset(req_token)
            _context.reset(ctx_token)


# --- Celery: the context travels in the task's headers ----------------------------------------


def celery_signals_connect() -> None:
    from celery.signals import before_task_publish, task_postrun, task_prerun

    before_task_publish.connect(_on_publish, weak=False)
    task_prerun.connect(_on_task_start, weak=False)
    task_postrun.connect(_on_task_end, weak=False)


def _on_publish(sender=None, headers=None, **kwargs):
    if headers is None:
        return
    ctx = log_context()
    if not ctx["request_id"]:
        ctx["request_id"] = new_request_id()
    headers[HEADER] = ctx


_task_tokens: dict[str, object] = {}


def _on_task_start(sender=None, task_id=None, task=None, **kwargs):
    incoming = {}
    if task is not None:
        incoming = getattr(task.request, HEADER, None) or (task.request.headers or {}).get(
            HEADER, {}
        )
    ctx = {
        "request_id": str(incoming.get("request_id") or task_id or new_request_id()),
        "user": str(incoming.get("user", "")),
        "fund": str(incoming.get("fund", "")),
    }
    _task_tokens[task_id] = (_context.set(ctx), _request.set(None))
    if not _eager(task):
        logging.getLogger("trovon.task").info(
            "task %s started", getattr(sender, "name", sender), extra={"task_id": task_id}
        )


def _eager(task) -> bool:
    """Run in the caller's process (no broker): the caller's own lines say enough."""
    return bool(getattr(getattr(task, "request", None), "is_eager", False))


def _on_task_end(sender=None, task_id=None, state=None, task=None, **kwargs):
    if not _eager(task):
        logging.getLogger("trovon.task").info(
            "task %s %s", getattr(sender, "name", sender), state, extra={"task_id": task_id}
        )
    tokens = _task_tokens.pop(task_id, None)
    if tokens is not None:
        ctx_token, req_token = tokens
        try:
            _request.reset(req_token)
            _context.reset(ctx_token)
        except ValueError:  # reset from another context (eager tasks): clear instead
            _context.set(None)
            _request.set(None)


# --- Sentry -----------------------------------------------------------------------------------


def sentry_init() -> bool:
    """Errors to Sentry when settings.SENTRY_DSN is set; returns whether it was set up."""
    from django.conf import settings

    if not settings.SENTRY_DSN:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=settings.SENTRY_DSN,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        # Members' names and phone numbers stay out of the error reports: the SDK's default of
        # sending no personal data is kept (no option turns it on).
        environment="production" if not settings.DEBUG else "development",
    )
    return True
