"""gunicorn's settings for the web service (docker-compose.yml) and the CI smoke test.

Everything comes from the environment: the address, the number of workers, and which proxy
addresses may set X-Forwarded-* headers (the Caddy service; gunicorn believes no one else).
"""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# Sync workers, one request each: the pages are CPU-bound Python, and threads sharing one
# interpreter wait on each other's lock (measured with bench/web.py on two cores: 3 workers of 3
# threads served 8 clients in 23 s where 5 single-threaded workers took 14 s). Two per core and
# one more, gunicorn's rule, unless WEB_CONCURRENCY says otherwise.
workers = int(os.environ.get("WEB_CONCURRENCY") or 2 * len(os.sched_getaffinity(0)) + 1)
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
