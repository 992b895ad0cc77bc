"""Rate limits: one limiter, two stores that count attempts in the same way.

Each limit is a sliding window: at most `limit` attempts for a key in any `window_seconds`. Refused attempts do not
count, so someone who waits is let in again.

- Without REDIS_URL the counts live in this process (enough for one worker: `supplier-intel serve` runs one).
- With REDIS_URL they live in Redis, so every worker and every instance of the service shares them. One small Lua
  script trims the window, counts and records the attempt atomically, using the Redis server's clock so that
  instances with different clocks agree.

When Redis does not answer, the limiter lets the attempt through and logs a warning (fail open): a Redis outage must
not lock every officer out of signing in, and the limits guard against abuse, not against a breach. After a failure
the limiter stops asking Redis for a few seconds, so an outage adds no delay to each request.
"""

import logging
import math
import secrets
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from typing import Protocol, TypeVar

import redis

from app.config import get_settings
from app.errors import TooManyRequests

log = logging.getLogger(__name__)
T = TypeVar("T")

REDIS_KEY_PREFIX = "supplier-intel:ratelimit:"
REDIS_TIMEOUT_SECONDS = 0.5  # a slow Redis must not slow every request down
REDIS_BACKOFF_SECONDS = 5.0  # after a failure, how long to let requests through without asking Redis
WARNING_INTERVAL_SECONDS = 60.0  # at most one warning a minute while Redis is down

# KEYS[1]: the key; ARGV: limit, window in milliseconds, a unique member for this attempt.
# Returns -1 when the attempt is counted, otherwise the milliseconds until the oldest attempt leaves the window.
SLIDING_WINDOW_SCRIPT = """
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return tonumber(oldest[2]) + window - now
end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], window)
return -1
"""


class StoreUnavailable(Exception):
    """The shared store did not answer."""


class RateLimitStore(Protocol):
    """Where attempts are counted. Both stores keep the same contract (tests/test_ratelimit.py)."""

    def hit(self, key: str, *, limit: int, window_seconds: int) -> int | None:
        """Count one attempt; None if allowed, or the whole seconds to wait when `limit` is already reached."""
        ...

    def reset(self) -> None:
        """Forget every count."""
        ...


class MemoryStore:
    """Counts in this process only."""

    SWEEP_EVERY = 1024  # attempts between sweeps of keys whose window has passed

    def __init__(self) -> None:
        self._hits: dict[str, deque[float]] = defaultdict(deque)
        self._windows: dict[str, int] = {}
        self._lock = threading.Lock()
        self._since_sweep = 0

    def hit(self, key: str, *, limit: int, window_seconds: int) -> int | None:
        now = time.monotonic()
        with self._lock:
            self._sweep(now)
            hits = self._hits[key]
            self._windows[key] = window_seconds
            while hits and hits[0] <= now - window_seconds:
                hits.popleft()
            if len(hits) >= limit:
                return max(1, math.ceil(hits[0] + window_seconds - now))
            hits.append(now)
            return None

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()
            self._windows.clear()

    def _sweep(self, now: float) -> None:
        """Drop keys with no attempt left in their window, so that many one-off keys do not pile up."""
        self._since_sweep += 1
        if self._since_sweep < self.SWEEP_EVERY:
            return
        self._since_sweep = 0
        for key in [k for k, hits in self._hits.items() if not hits or hits[-1] <= now - self._windows.get(k, 0)]:
            del self._hits[key]
            self._windows.pop(key, None)


class RedisStore:
    """Counts in Redis, shared by every process that uses the same server, database and prefix."""

    def __init__(
        self, client: "redis.Redis", *, prefix: str = REDIS_KEY_PREFIX, backoff_seconds: float = REDIS_BACKOFF_SECONDS
    ) -> None:
        self.client = client
        self.prefix = prefix
        self.backoff_seconds = backoff_seconds
        self._script = client.register_script(SLIDING_WINDOW_SCRIPT)
        self._down_until = 0.0

    @classmethod
    def from_url(
        cls, url: str, *, prefix: str = REDIS_KEY_PREFIX, backoff_seconds: float = REDIS_BACKOFF_SECONDS
    ) -> "RedisStore":
        client = redis.Redis.from_url(
            url, socket_timeout=REDIS_TIMEOUT_SECONDS, socket_connect_timeout=REDIS_TIMEOUT_SECONDS
        )
        return cls(client, prefix=prefix, backoff_seconds=backoff_seconds)

    def hit(self, key: str, *, limit: int, window_seconds: int) -> int | None:
        member = f"{time.time_ns()}-{secrets.token_hex(4)}"
        args: list[int | str] = [limit, window_seconds * 1000, member]
        result = self._call(lambda: self._script(keys=[self.prefix + key], args=args, client=self.client))
        wait_ms = int(result)
        return None if wait_ms < 0 else max(1, math.ceil(wait_ms / 1000))

    def reset(self) -> None:
        def delete_all() -> None:
            batch: list[bytes] = []
            for name in self.client.scan_iter(match=self._escaped_prefix() + "*", count=500):
                batch.append(name)
                if len(batch) >= 500:
                    self.client.delete(*batch)
                    batch.clear()
            if batch:
                self.client.delete(*batch)

        self._call(delete_all)

    def _escaped_prefix(self) -> str:
        return "".join("\\" + c if c in "*?[]\\" else c for c in self.prefix)

    def _call(self, command: Callable[[], T]) -> T:
        if time.monotonic() < self._down_until:
            raise StoreUnavailable("Redis did not answer a moment ago")
        try:
            return command()
        except redis.RedisError as error:
            self._down_until = time.monotonic() + self.backoff_seconds
            raise StoreUnavailable(f"{type(error).__name__}: {error}") from error


class RateLimiter:
    """The limiter every caller uses: `limiter.hit(key, limit=..., window_seconds=..., message=...)`.

    Its store is the one given, or else the one the settings choose (Redis when REDIS_URL is set), looked up on each
    attempt so that a change of settings takes effect.
    """

    def __init__(self, store: RateLimitStore | None = None) -> None:
        self._store = store
        self._memory = MemoryStore()
        self._redis: dict[str, RedisStore] = {}
        self._lock = threading.Lock()
        self._last_warning = -math.inf
        self._let_through = 0

    @property
    def store(self) -> RateLimitStore:
        """The store that counts the next attempt."""
        if self._store is not None:
            return self._store
        url = get_settings().REDIS_URL
        if not url:
            return self._memory
        with self._lock:
            if url not in self._redis:
                self._redis[url] = RedisStore.from_url(url)
            return self._redis[url]

    def use(self, store: RateLimitStore | None) -> None:
        """Count in `store` from now on; None goes back to the store the settings choose."""
        self._store = store
        with self._lock:  # a new store gets its own first warning
            self._last_warning, self._let_through = -math.inf, 0

    def hit(self, key: str, *, limit: int, window_seconds: int, message: str) -> None:
        """Count one attempt for `key`; raise TooManyRequests once `limit` is passed within the window."""
        try:
            retry_after = self.store.hit(key, limit=limit, window_seconds=window_seconds)
        except StoreUnavailable as error:
            self._warn(error)
            return
        if retry_after is not None:
            raise TooManyRequests(message, retry_after=retry_after)

    def reset(self) -> None:
        """Forget every count: in this process, and in the store in use (in Redis, the keys under its prefix)."""
        self._memory.reset()
        try:
            self.store.reset()
        except StoreUnavailable as error:
            self._warn(error)

    def _warn(self, error: StoreUnavailable) -> None:
        with self._lock:
            self._let_through += 1
            now = time.monotonic()
            if now - self._last_warning < WARNING_INTERVAL_SECONDS:
                return
            self._last_warning, count = now, self._let_through
            self._let_through = 0
        log.warning(
            "Rate limits are not being applied: the Redis server at REDIS_URL did not answer (%s). "
            "%d attempt(s) let through since the last warning.",
            error,
            count,
        )


limiter = RateLimiter()
