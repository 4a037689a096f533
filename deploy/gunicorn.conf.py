"""gunicorn's settings for the web service (docker-compose.yml) and the CI smoke test.

Everything comes from the environment: the address, the number of workers, and which proxy
addresses may set X-Forwarded-* headers (the Caddy service; gunicorn believes no one else).
"""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# Sync workers, one request each: the pages are CPU-bound Python, and threads sharing one
# interpreter wait on each other's lock (bench/web.py on two cores, 8 clients: 3 workers of 3
# threads took 23 s for what 5 single-threaded workers did in 14 s). One worker a core and one
# more for the time a worker waits on PostgreSQL, which shares the host: against two a core and
# one, the superior union page's p95 252-270 ms instead of 289-301 ms, and less CPU per request
# (19-22 ms instead of 21-22). WEB_CONCURRENCY overrides.
workers = int(os.environ.get("WEB_CONCURRENCY") or len(os.sched_getaffinity(0)) + 1)
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
# The proxy's address(es), comma-separated; "*" only when nothing else can reach the port.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# The app writes one JSON line per request itself (config/logs.py).
accesslog = None
errorlog = "-"
# Heartbeat files in memory, not on the container's overlay disk.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None


def child_exit(server, worker):
    """A dead worker's metrics files are merged away (prometheus_client's multiprocess mode)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
