"""Operations (docs/operations.md): the health endpoints, the metrics, the log context, the
cache that survives Redis being down, and the Celery queues by kind."""

import io
import json
import logging
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from pythonjsonlogger.json import JsonFormatter

from config.logs import (
    HEADER,
    RequestContextFilter,
    _on_publish,
    _on_task_end,
    _on_task_start,
    log_context,
)

pytestmark = pytest.mark.django_db
DEAD_REDIS = "redis://127.0.0.1:1/0"


def test_healthz_answers_without_the_database_or_a_known_host(settings):
    settings.ALLOWED_HOSTS = ["trovon.example.org"]
    settings.SECURE_SSL_REDIRECT = True
    response = Client().get("/healthz", HTTP_HOST="10.0.0.7:8000")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert response["Cache-Control"] == "no-store"


def test_readyz_reports_each_check(org):
    body = Client().get("/readyz").json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "migrations", "redis", "close_of_business", "seal"}
    funds = body["checks"]["close_of_business"]["funds"]
    assert {f["fund"] for f in funds} == {org.fund.pk, org.other_fund.pk}
    assert all(f["lag_days"] is None for f in funds)  # never run yet: not late


def test_readyz_degraded_when_close_of_business_is_late_and_strict_says_503(org, settings):
    from loans.models import CloseOfBusinessRun

    settings.READYZ_CLOSE_OF_BUSINESS_MAX_LAG_DAYS = 1
    CloseOfBusinessRun.objects.create(
        fund=org.fund,
        business_date=timezone.localdate() - timedelta(days=4),
        status=CloseOfBusinessRun.Status.DONE,
        finished_at=timezone.now(),
    )
    response = Client().get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded" and body["checks"]["close_of_business"]["ok"] is False
    late = [f for f in body["checks"]["close_of_business"]["funds"] if f["fund"] == org.fund.pk]
    assert late[0]["lag_days"] == 3
    assert Client().get("/readyz?strict=1").status_code == 503


def test_readyz_unavailable_with_unapplied_migrations(monkeypatch):
    import config.health as health

    monkeypatch.setattr(health, "_migrations_applied", False)
    monkeypatch.setattr(
        health.MigrationExecutor, "migration_plan", lambda self, targets: [("loans", "9999")]
    )
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["migrations"] == {"ok": False, "unapplied": 1}


def test_readyz_reports_redis_down_without_failing(settings):
    settings.CELERY_BROKER_URL = DEAD_REDIS
    body = Client().get("/readyz").json()
    assert body["status"] == "degraded" and body["checks"]["redis"]["ok"] is False


def test_metrics_need_the_token(settings):
    settings.METRICS_TOKEN = ""
    assert Client().get("/metrics").status_code == 404
    settings.METRICS_TOKEN = "s3cret-token"
    assert Client().get("/metrics").status_code == 401
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    Client().get("/accounts/login/")
    response = Client().get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-token")
    assert response.status_code == 200
    text = response.content.decode()
    for name in (
        'trovon_http_requests_total{method="GET",status="200"}',
        "trovon_http_request_duration_seconds_bucket",
        "trovon_db_queries_total",
        "trovon_outbox_pending 0.0",
        "trovon_ledger_seal_lag_seconds 0.0",
        'trovon_reminders{status="sent"}',
        "trovon_integrity_ok -1.0",
        "trovon_integrity_age_seconds -1.0",
    ):
        assert name in text


def test_metrics_say_the_last_verification_of_the_books(settings):
    from fund.models import IntegrityCheck

    settings.METRICS_TOKEN = "s3cret-token"
    IntegrityCheck.objects.create(ok=False, seconds=2.5, results=[])
    text = Client().get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-token").content.decode()
    assert "trovon_integrity_ok 0.0" in text
    age = float(text.split("\ntrovon_integrity_age_seconds ", 1)[1].split()[0])
    assert 0 <= age < 600


def test_pages_and_sign_in_work_with_redis_down(settings, officers):
    settings.CACHES = {
        "default": {
            "BACKEND": "config.cache.TolerantRedisCache",
            "LOCATION": DEAD_REDIS,
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    user = officers.fund
    user.set_password("mat-khau-an-toan-1")
    user.save()
    client = Client()
    response = client.post(
        "/accounts/login/", {"username": user.username, "password": "mat-khau-an-toan-1"}
    )
    assert response.status_code == 302, response.content[:500]
    home = client.get("/", follow=True)
    assert home.status_code == 200 and home.redirect_chain[-1][0] == "/loans/inbox/"
    assert client.get("/loans/dashboard/").status_code == 200
    assert client.get("/loans/").status_code == 200


def _json_lines(logger_name: str):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestContextFilter())
    handler.setFormatter(JsonFormatter("%(message)s %(request_id)s %(user)s %(fund)s"))
    logger = logging.getLogger(logger_name)
    logger.addHandler(handler)
    old = logger.level
    logger.setLevel(logging.INFO)
    return stream, lambda: (logger.removeHandler(handler), logger.setLevel(old))


def test_every_request_line_has_the_request_id_user_and_fund(as_user_client):
    client, user = as_user_client
    stream, undo = _json_lines("trovon.request")
    try:
        response = client.get("/", HTTP_X_REQUEST_ID="proxy-id-12345678")
        other = client.get("/", HTTP_X_REQUEST_ID="<script>")
    finally:
        undo()
    assert response["X-Request-ID"] == "proxy-id-12345678"
    assert other["X-Request-ID"] != "<script>" and len(other["X-Request-ID"]) == 32
    first = json.loads(stream.getvalue().splitlines()[0])
    assert first["request_id"] == "proxy-id-12345678"
    assert first["user"] == user.username
    assert first["fund"] == str(user.officer.fund_id)


@pytest.fixture
def as_user_client(officers):
    client = Client()
    client.force_login(officers.fund)
    return client, officers.fund


def test_the_request_id_travels_into_a_task():
    """Published during a request, the task carries the request's context in its headers; the
    worker's lines carry it while the task runs, and nothing after."""
    from config import logs

    token = logs._context.set({"request_id": "abc123def456", "user": "quy_lap", "fund": "1"})
    try:
        headers = {}
        _on_publish(headers=headers)
    finally:
        logs._context.reset(token)
    assert headers[HEADER] == {"request_id": "abc123def456", "user": "quy_lap", "fund": "1"}

    class Request:
        pass

    task = type("T", (), {"name": "reports.tasks.quarterly_report_task"})()
    task.request = Request()
    task.request.headers = None
    setattr(task.request, HEADER, headers[HEADER])
    _on_task_start(sender=task, task_id="t-1", task=task)
    assert log_context() == {"request_id": "abc123def456", "user": "quy_lap", "fund": "1"}
    _on_task_end(sender=task, task_id="t-1", state="SUCCESS")
    assert log_context()["request_id"] == ""


@pytest.mark.parametrize(
    "task, queue",
    [
        ("accounting.tasks.ledger_seal_task", "ledger"),
        ("loans.tasks.close_of_business_catch_up_task", "close_of_business"),
        ("loans.reminder_tasks.reminder_deliveries_send_task", "reminders"),
        ("reports.tasks.quarterly_report_task", "reports"),
        ("fund.tasks.outbox_relay_task", "celery"),
    ],
)
def test_tasks_go_to_the_queue_of_their_kind(task, queue):
    from config.celery import app

    assert app.amqp.router.route({}, task)["queue"].name == queue
    # A worker started without -Q consumes every queue.
    assert queue in {q.name for q in app.conf.task_queues}


def test_errors_go_to_sentry_only_when_a_dsn_is_set(settings):
    import sentry_sdk

    from config.logs import sentry_init

    settings.SENTRY_DSN = ""
    assert sentry_init() is False
    settings.SENTRY_DSN = "https://public@o0.ingest.sentry.io/1"
    try:
        assert sentry_init() is True
        client = sentry_sdk.get_client()
        assert client.is_active() and not client.options.get("send_default_pii")
        assert {"django", "celery"} <= set(client.integrations)
    finally:
        sentry_sdk.init(dsn=None)
