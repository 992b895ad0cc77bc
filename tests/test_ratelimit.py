"""Rate limits: the same contract on both stores, counts shared through Redis, failing open, and the 429 page.

Redis is taken from TEST_REDIS_URL, by default the CI machine's server at 127.0.0.1:6379; each test uses its own key
prefix and deletes its keys. Where no Redis answers, the Redis variants are skipped with that reason.
"""

import logging
import os
import time
import uuid
from collections.abc import Callable, Iterator

import pytest
import redis
from fastapi.testclient import TestClient
from sqlmodel import Session

from app import ratelimit
from app.config import get_settings
from app.errors import TooManyRequests
from app.ratelimit import MemoryStore, RateLimiter, RateLimitStore, RedisStore, limiter
from app.routers import account
from tests.factories import csrf
from tests.html import parse, validate_page

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
UNREACHABLE_REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1


def _redis_or_skip() -> redis.Redis:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
    try:
        client.ping()
    except redis.RedisError as error:
        print(f"Redis is not reachable at {REDIS_URL}: {error}")
        pytest.skip(f"Redis is not reachable at {REDIS_URL} (set TEST_REDIS_URL to test on it): {error}")
    return client


@pytest.fixture
def prefix() -> Iterator[str]:
    """A key prefix of this test's own; its keys are deleted afterwards."""
    value = f"test-ratelimit:{uuid.uuid4().hex}:"
    yield value
    try:
        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
        names = list(client.scan_iter(match=value + "*"))
        if names:
            client.delete(*names)
    except redis.RedisError:
        pass


@pytest.fixture
def redis_store_factory(prefix: str) -> Callable[[], RedisStore]:
    """New RedisStore objects (each with its own connection pool, like another worker) sharing this test's prefix."""
    _redis_or_skip()
    return lambda: RedisStore.from_url(REDIS_URL, prefix=prefix)


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest) -> RateLimitStore:
    if request.param == "memory":
        return MemoryStore()
    factory: Callable[[], RedisStore] = request.getfixturevalue("redis_store_factory")
    return factory()


@pytest.fixture
def global_store() -> Iterator[None]:
    """Tests that swap the store of the one `limiter` the routes use get the settings' store back afterwards."""
    yield
    limiter.use(None)
    limiter.reset()


# The store contract: both stores must pass every test below.


def test_attempts_up_to_the_limit_are_allowed_then_refused(store: RateLimitStore) -> None:
    for _ in range(3):
        assert store.hit("k", limit=3, window_seconds=60) is None
    retry_after = store.hit("k", limit=3, window_seconds=60)
    assert retry_after is not None and 1 <= retry_after <= 60
    assert store.hit("k", limit=3, window_seconds=60) is not None  # still refused


def test_keys_are_counted_separately(store: RateLimitStore) -> None:
    assert store.hit("a", limit=1, window_seconds=60) is None
    assert store.hit("a", limit=1, window_seconds=60) is not None
    assert store.hit("b", limit=1, window_seconds=60) is None


def test_the_window_slides_and_refused_attempts_do_not_count(store: RateLimitStore) -> None:
    assert store.hit("k", limit=2, window_seconds=1) is None
    time.sleep(0.6)
    assert store.hit("k", limit=2, window_seconds=1) is None
    assert store.hit("k", limit=2, window_seconds=1) == 1  # the first attempt is still in the window
    time.sleep(0.5)  # the first attempt has left the window, the second has not
    assert store.hit("k", limit=2, window_seconds=1) is None
    assert store.hit("k", limit=2, window_seconds=1) is not None
    time.sleep(1.1)  # all gone; the refused attempts were never counted
    assert store.hit("k", limit=2, window_seconds=1) is None
    assert store.hit("k", limit=2, window_seconds=1) is None


def test_retry_after_is_the_time_until_the_oldest_attempt_leaves_the_window(store: RateLimitStore) -> None:
    assert store.hit("k", limit=1, window_seconds=900) is None
    retry_after = store.hit("k", limit=1, window_seconds=900)
    assert retry_after is not None and 895 <= retry_after <= 900


def test_reset_forgets_every_count(store: RateLimitStore) -> None:
    for key in ("a", "b"):
        store.hit(key, limit=1, window_seconds=60)
        assert store.hit(key, limit=1, window_seconds=60) is not None
    store.reset()
    assert store.hit("a", limit=1, window_seconds=60) is None
    assert store.hit("b", limit=1, window_seconds=60) is None


def test_the_limiter_raises_too_many_requests_with_the_message(store: RateLimitStore) -> None:
    rate = RateLimiter(store)
    rate.hit("k", limit=1, window_seconds=60, message="Slow down")
    with pytest.raises(TooManyRequests) as raised:
        rate.hit("k", limit=1, window_seconds=60, message="Slow down")
    assert raised.value.message == "Slow down" and 1 <= raised.value.retry_after <= 60


# Redis only: shared counts, keys that expire, failing open.


def test_two_limiters_share_the_count_through_redis(redis_store_factory: Callable[[], RedisStore]) -> None:
    first, second = RateLimiter(redis_store_factory()), RateLimiter(redis_store_factory())
    for rate in (first, second, first):
        rate.hit("sign-in:email:x@harrow.gov.uk", limit=3, window_seconds=60, message="Too many")
    with pytest.raises(TooManyRequests):
        second.hit("sign-in:email:x@harrow.gov.uk", limit=3, window_seconds=60, message="Too many")
    # Two in-process limiters, by contrast, each let all four through.
    memory = [RateLimiter(MemoryStore()), RateLimiter(MemoryStore())]
    for rate in (*memory, *memory):
        rate.hit("sign-in:email:x@harrow.gov.uk", limit=3, window_seconds=60, message="Too many")


def test_redis_keys_carry_the_prefix_and_expire_with_the_window(
    redis_store_factory: Callable[[], RedisStore], prefix: str
) -> None:
    store = redis_store_factory()
    store.hit("k", limit=5, window_seconds=30)
    ttl = store.client.pttl(prefix + "k")
    assert 0 < ttl <= 30_000
    assert store.client.zcard(prefix + "k") == 1


def test_reset_deletes_only_its_own_prefix(redis_store_factory: Callable[[], RedisStore], prefix: str) -> None:
    store = redis_store_factory()
    other = RedisStore.from_url(REDIS_URL, prefix=prefix + "other*")  # a glob character in a prefix is literal
    store.hit("k", limit=1, window_seconds=60)
    other.hit("k", limit=1, window_seconds=60)
    other.reset()
    assert store.hit("k", limit=1, window_seconds=60) is not None
    assert other.hit("k", limit=1, window_seconds=60) is None


def test_when_redis_does_not_answer_requests_go_through_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    rate = RateLimiter(RedisStore.from_url(UNREACHABLE_REDIS_URL, prefix="unreachable:"))
    with caplog.at_level(logging.WARNING, logger="app.ratelimit"):
        started = time.monotonic()
        for _ in range(20):
            rate.hit("k", limit=1, window_seconds=60, message="Too many")  # never refused: fail open
        elapsed = time.monotonic() - started
        rate.reset()
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1  # once, not once per request
    assert "Rate limits are not being applied" in warnings[0].getMessage()
    assert elapsed < 2  # after the first failure Redis is not asked again for a while


def test_when_redis_comes_back_the_limits_apply_again(prefix: str) -> None:
    _redis_or_skip()
    store = RedisStore.from_url(REDIS_URL, prefix=prefix, backoff_seconds=0)
    rate = RateLimiter(store)
    working = store.client
    store.client = redis.Redis.from_url(UNREACHABLE_REDIS_URL, socket_connect_timeout=0.5)  # the connection is lost
    for _ in range(3):
        rate.hit("k", limit=1, window_seconds=60, message="Too many")
    store.client = working  # and comes back: nothing was counted meanwhile, and the limit applies again
    rate.hit("k", limit=1, window_seconds=60, message="Too many")
    with pytest.raises(TooManyRequests):
        rate.hit("k", limit=1, window_seconds=60, message="Too many")


def test_the_redis_url_setting_chooses_the_shared_store(monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(limiter.store, MemoryStore)  # tests run without REDIS_URL
    client = _redis_or_skip()
    monkeypatch.setenv("REDIS_URL", REDIS_URL)
    get_settings.cache_clear()
    key = f"test-ratelimit-setting:{uuid.uuid4().hex}"
    try:
        assert isinstance(limiter.store, RedisStore)
        limiter.hit(key, limit=2, window_seconds=60, message="Too many")
        assert client.zcard(ratelimit.REDIS_KEY_PREFIX + key) == 1
    finally:
        client.delete(ratelimit.REDIS_KEY_PREFIX + key)
        monkeypatch.delenv("REDIS_URL")
        get_settings.cache_clear()
    assert isinstance(limiter.store, MemoryStore)


# Over HTTP: the sign-in limit, its 429 page, and two app instances sharing one count.


def test_the_sixth_sign_in_request_for_an_address_gets_the_429_page(client: TestClient, session: Session) -> None:
    for _ in range(5):
        response = client.post("/sign-in", data={"email": "a@harrow.gov.uk", "csrf_token": csrf(client)})
        assert response.status_code == 200
    limited = client.post("/sign-in", data={"email": "A@Harrow.gov.uk ", "csrf_token": csrf(client)})
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["Retry-After"]) <= 900
    page = validate_page(limited.text)
    assert page.h1.get_text(strip=True) == "Too many requests"
    assert account.SIGN_IN_LIMIT_MESSAGE in page.get_text()
    assert limited.headers["Content-Security-Policy"]  # the error page gets the security headers too
    # htmx gets the same status and header; another address is not affected.
    hx = client.post(
        "/sign-in", data={"email": "a@harrow.gov.uk", "csrf_token": csrf(client)}, headers={"HX-Request": "true"}
    )
    assert hx.status_code == 429 and int(hx.headers["Retry-After"]) >= 1
    other = client.post("/sign-in", data={"email": "b@harrow.gov.uk", "csrf_token": csrf(client)})
    assert other.status_code == 200 and parse(other.text).h1.get_text(strip=True) == "Check your email"


def test_two_app_instances_share_the_sign_in_count_through_redis(
    client: TestClient, session: Session, redis_store_factory: Callable[[], RedisStore], global_store: None
) -> None:
    from app.main import create_app

    with TestClient(create_app(), base_url="http://testserver") as second_client:
        # Each instance has its own limiter and its own connection; only Redis is shared.
        limiter.use(redis_store_factory())
        for _ in range(3):
            assert client.post("/sign-in", data={"email": "a@harrow.gov.uk", "csrf_token": csrf(client)}).is_success
        limiter.use(redis_store_factory())
        for _ in range(2):
            answer = second_client.post(
                "/sign-in", data={"email": "a@harrow.gov.uk", "csrf_token": csrf(second_client)}
            )
            assert answer.is_success
        limited = second_client.post("/sign-in", data={"email": "a@harrow.gov.uk", "csrf_token": csrf(second_client)})
        assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
        limiter.use(redis_store_factory())
        assert client.post("/sign-in", data={"email": "a@harrow.gov.uk", "csrf_token": csrf(client)}).status_code == 429


def test_sign_in_still_works_when_redis_is_down(
    client: TestClient, session: Session, global_store: None, caplog: pytest.LogCaptureFixture
) -> None:
    limiter.use(RedisStore.from_url(UNREACHABLE_REDIS_URL, prefix="unreachable:"))
    with caplog.at_level(logging.WARNING, logger="app.ratelimit"):
        for _ in range(7):  # past the limit of 5: failing open lets them through
            response = client.post("/sign-in", data={"email": "a@harrow.gov.uk", "csrf_token": csrf(client)})
            assert response.status_code == 200
    assert any("Rate limits are not being applied" in r.getMessage() for r in caplog.records)


def test_a_redis_url_that_is_not_one_is_refused_at_start_up() -> None:
    from pydantic import ValidationError

    from app.config import Settings

    with pytest.raises(ValidationError, match="REDIS_URL"):
        Settings(REDIS_URL="localhost:6379")
    assert Settings(REDIS_URL="rediss://cache.internal:6380/2").REDIS_URL == "rediss://cache.internal:6380/2"
