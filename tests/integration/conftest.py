"""A real Celery worker against the real Redis, for integration tests.

The worker is a separate process (`celery -A config worker`) connected to the same PostgreSQL
test database as the test, so tests using it commit for real (transactional) and need
PostgreSQL; the broker is `TROVON_TEST_REDIS_URL` (set by .ci/run), else the local Redis.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from tests.helpers import celery_reconfigure

ROOT = Path(__file__).resolve().parents[2]


def _redis_url() -> str:
    return os.environ["TROVON_TEST_REDIS_URL"]  # conftest.py: this process's own


def _redis_up(url: str) -> bool:
    import redis

    try:
        return redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return False


def _worker_env(url: str, **extra) -> dict:
    from django.conf import settings

    db = connection.settings_dict
    return dict(
        os.environ,
        DEBUG="1",
        # The run's signing key (conftest.py), so that heads the worker signs verify here.
        LEDGER_SIGNING_KEY=settings.LEDGER_SIGNING_KEY,
        LEDGER_HEAD_DIR=settings.LEDGER_HEAD_DIR,
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/"
        f"{db['NAME']}",
        REDIS_URL=url,
        CELERY_BROKER_URL=url,
        CELERY_RESULT_BACKEND=url,
        **extra,
    )


def _start_worker(url: str, name: str, **extra) -> subprocess.Popen:
    """A worker in its own process group (so that a test can kill it whole, children too)."""
    log = ROOT / "test-artifacts" / f"celery-{name}.log"
    log.parent.mkdir(exist_ok=True)
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--loglevel",
            "INFO",
            "--concurrency",
            "2",
            "--pool",
            "prefork",
            "--without-gossip",
            "--without-mingle",
            "-n",
            f"trovon-{name}-{os.getpid()}@%h",
        ],
        cwd=ROOT,
        env=_worker_env(url, **extra),
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _wait_ready(app, proc, name: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"celery worker exited: see test-artifacts/celery-{name}.log")
        try:
            if app.control.ping(timeout=0.5):
                return
        except Exception:  # noqa: BLE001 - broker still starting
            pass
        time.sleep(0.3)
    raise RuntimeError(f"celery worker did not answer a ping in 30 s: see celery-{name}.log")


@pytest.fixture
def celery_worker_factory(purge_ledger_after, settings):
    """start(name, **env) -> a running worker on the real Redis; every one stopped after."""
    from config.celery import app

    if connection.vendor != "postgresql":
        pytest.skip("a real worker needs the shared PostgreSQL test database")
    url = _redis_url()
    if not _redis_up(url):
        pytest.skip(f"Redis is not reachable at {url}")
    import redis

    redis.Redis.from_url(url).flushdb()
    # The app reads Django settings with the CELERY_ namespace, so overrides use those keys.
    keys = ("CELERY_TASK_ALWAYS_EAGER", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND")
    old = {k: app.conf.get(k) for k in keys}
    celery_reconfigure(
        app, CELERY_TASK_ALWAYS_EAGER=False, CELERY_BROKER_URL=url, CELERY_RESULT_BACKEND=url
    )
    settings.CELERY_TASK_ALWAYS_EAGER = False
    started: list[subprocess.Popen] = []

    def start(name: str = "worker", *, wait: bool = True, **extra) -> subprocess.Popen:
        proc = _start_worker(url, name, **extra)
        started.append(proc)
        if wait:
            _wait_ready(app, proc, name)
        return proc

    try:
        yield start
    finally:
        for proc in started:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
        celery_reconfigure(app, **old)


@pytest.fixture
def celery_worker_process(celery_worker_factory):
    """Start a real worker; point this process's Celery app at the same Redis; stop after."""
    return celery_worker_factory("worker")
