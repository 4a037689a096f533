"""A Redis cache that a Redis outage does not turn into errors.

The cache holds nothing that cannot be recomputed (the login throttle's counts, cached
figures), so when Redis does not answer, a read is a miss and a write is dropped, with a
warning in the log, instead of a 500 on every page. The connection and read timeouts are short
(settings.CACHES) so that a page does not wait for a Redis that is down.
"""

from __future__ import annotations

import logging
import time

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger("trovon.cache")

UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, OSError)


# After a failure Redis is not asked again for this long (per process): a page that reads the
# cache ten times does not wait ten connection timeouts.
RETRY_AFTER_SECONDS = 5.0


def _tolerant(name: str, fallback):
    def method(self, *args, **kwargs):
        if time.monotonic() < self._down_until:
            return fallback(*args, **kwargs) if callable(fallback) else fallback
        try:
            return getattr(RedisCache, name)(self, *args, **kwargs)
        except UNAVAILABLE as exc:
            self._down_until = time.monotonic() + RETRY_AFTER_SECONDS
            logger.warning("cache: Redis unavailable during %s: %s", name, exc)
            return fallback(*args, **kwargs) if callable(fallback) else fallback

    method.__name__ = name
    return method


class TolerantRedisCache(RedisCache):
    """Django's Redis cache; every operation survives a Redis that is down."""

    _down_until = 0.0

    get = _tolerant("get", lambda key, default=None, version=None: default)
    get_many = _tolerant("get_many", lambda *a, **k: {})
    set = _tolerant("set", None)
    set_many = _tolerant("set_many", lambda data, *a, **k: list(data))
    add = _tolerant("add", False)
    touch = _tolerant("touch", False)
    delete = _tolerant("delete", False)
    delete_many = _tolerant("delete_many", None)
    has_key = _tolerant("has_key", False)
    clear = _tolerant("clear", False)
    get_or_set = _tolerant(
        "get_or_set",
        lambda key, default, timeout=None, version=None: (
            default() if callable(default) else default
        ),
    )

    def incr(self, key, delta=1, version=None):
        if time.monotonic() < self._down_until:
            return delta
        try:
            return super().incr(key, delta, version)
        except UNAVAILABLE as exc:
            self._down_until = time.monotonic() + RETRY_AFTER_SECONDS
            logger.warning("cache: Redis unavailable during incr: %s", exc)
            # The caller (a counter) starts again from this request.
            return delta

    def decr(self, key, delta=1, version=None):
        return self.incr(key, -delta, version)
