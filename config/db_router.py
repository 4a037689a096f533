"""Reads that may lag a moment go to the PostgreSQL streaming replica (DATABASE_REPLICA_URL).

``ReplicaReadsMiddleware`` marks a request as replica-readable when it only reads and shows
what the books were a moment ago: GET and HEAD of the reports (``/reports/``, the collection
sheet), the auditor's pages (``/audit/``) and any export (``?format=xlsx|csv``). Inside such a
request ``ReplicaRouter`` sends reads to the replica, except

- every write, always on the primary (``db_for_write``), and every read after the request wrote
  something, so that a request sees its own writes;
- every read inside a transaction on the primary (``select_for_update``, a service's atomic
  block): what a transaction reads must be what it writes against;
- the session and the signed-in user, read before the request is marked (a session opened a
  moment ago may not have reached the replica yet).

Everything else (every page that changes something, the API, the tasks) reads from the primary.
Without ``DATABASE_REPLICA_URL`` the router is not installed and all of this is inert.
"""

from __future__ import annotations

from contextvars import ContextVar

from django.db import connections

REPLICA = "replica"
REPLICA_PATHS = ("/reports/", "/audit/", "/collections/sheet.pdf")
EXPORT_FORMATS = {"xlsx", "csv"}

_reads_on_replica: ContextVar[bool] = ContextVar("trovon_reads_on_replica", default=False)
_wrote: ContextVar[bool] = ContextVar("trovon_request_wrote", default=False)


def replica_readable(request) -> bool:
    if request.method not in ("GET", "HEAD"):
        return False
    path = request.path_info
    if path.startswith(REPLICA_PATHS):
        return True
    return (request.GET.get("format") or "").lower() in EXPORT_FORMATS


class ReplicaReadsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if REPLICA not in connections.databases or not replica_readable(request):
            return self.get_response(request)
        # The session and the user from the primary first.
        getattr(getattr(request, "user", None), "is_authenticated", None)
        reads = _reads_on_replica.set(True)
        wrote = _wrote.set(False)
        try:
            return self.get_response(request)
        finally:
            _wrote.reset(wrote)
            _reads_on_replica.reset(reads)


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        if not _reads_on_replica.get() or _wrote.get():
            return "default"
        if connections["default"].in_atomic_block:
            return "default"
        return REPLICA

    def db_for_write(self, model, **hints):
        if _reads_on_replica.get():
            _wrote.set(True)
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"
