"""Requests and tokens per minute: counted per window on a virtual clock (no waiting, no timing-based
pass/fail), and held over real HTTP at the loopback server."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from generator.config import load_settings
from generator.drafting.backend import make_backend, run_sync
from generator.drafting.ratelimit import ModelRateLimit, TokenEstimate, usage_of


@pytest.fixture
def virtual_loop() -> Iterator[asyncio.AbstractEventLoop]:
    """An event loop whose clock jumps to the next timer instead of sleeping."""
    loop = asyncio.new_event_loop()
    now = [0.0]
    real_select = loop._selector.select  # type: ignore[attr-defined]

    def select(timeout: float | None = None) -> Any:
        # every turn of the loop takes a microsecond, as a real one does (a limiter that reschedules
        # itself for "now" must see time pass)
        now[0] += max(timeout or 0.0, 1e-6)
        return real_select(0)

    loop.time = lambda: now[0]  # type: ignore[method-assign]
    loop._selector.select = select  # type: ignore[attr-defined]
    yield loop
    loop.close()


def most_in_any_window(times: list[float], window: float, weights: list[float] | None = None) -> float:
    """The largest total (count, or sum of weights) of events within any ``window`` seconds."""
    weights = weights or [1.0] * len(times)
    best, lo, total = 0.0, 0, 0.0
    for hi, t in enumerate(times):
        total += weights[hi]
        while t - times[lo] >= window:
            total -= weights[lo]
            lo += 1
        best = max(best, total)
    return best


def run_calls(loop: asyncio.AbstractEventLoop, limit: ModelRateLimit, n: int, size: int,
              billed: tuple[int, int] | None) -> list[float]:
    """``n`` concurrent requests of ``size`` bytes, each billed ``billed``; the times they were let go."""
    sent: list[float] = []

    async def call() -> None:
        taken = await limit.acquire(size)
        sent.append(loop.time())
        await asyncio.sleep(1.0)  # the server's latency
        limit.settle(taken, size, billed)

    async def main() -> None:
        await asyncio.gather(*(call() for _ in range(n)))

    loop.run_until_complete(main())
    return sent


def test_requests_per_minute_hold_in_every_minute(virtual_loop: asyncio.AbstractEventLoop) -> None:
    sent = run_calls(virtual_loop, ModelRateLimit(rpm=600), 1500, 4000, (1000, 500))
    assert len(sent) == 1500
    # at most a minute's share plus the bucket's one second of burst, in any minute
    assert most_in_any_window(sent, 60.0) <= 600 + 10
    assert most_in_any_window(sent, 1.0) <= 2 * 10  # an even pace, not a minute's worth at once
    assert sent[-1] >= (1500 - 10) / 10 * 0.99


def test_tokens_per_minute_follow_the_usage_the_server_reports(virtual_loop: asyncio.AbstractEventLoop) -> None:
    limit = ModelRateLimit(tpm=60_000)
    # each call is billed 2,000 tokens: at most ~30 calls a minute, whatever the first estimate was
    sent = run_calls(virtual_loop, limit, 120, 8_000, (1_500, 500))
    billed = [2_000.0] * len(sent)
    assert most_in_any_window(sent, 60.0, billed) <= 60_000 + 1_000 + 2 * 2_000
    assert sent[-1] >= (120 * 2_000 - 60_000) / 1_000  # it did wait
    assert limit.tokens.bytes_per_token == pytest.approx(8_000 / 1_500)  # learned from the usage
    assert limit.tokens.reply_tokens == pytest.approx(500)


def test_a_refused_request_gives_its_tokens_back(virtual_loop: asyncio.AbstractEventLoop) -> None:
    limit = ModelRateLimit(tpm=6_000)
    refused = run_calls(virtual_loop, limit, 40, 400, None)  # every one refused: nothing billed
    start = virtual_loop.time()
    billed = run_calls(virtual_loop, ModelRateLimit(tpm=6_000), 40, 400, (100, 1_500))
    assert billed[-1] - start >= (40 * 1_600 - 6_000) / 100  # billed: ~1,600 tokens each at 100 a second
    assert refused[-1] < (billed[-1] - start) / 4  # refused: each estimate given back to the next request


def test_usage_is_read_from_an_answer() -> None:
    assert usage_of(b'{"usage": {"prompt_tokens": 12, "completion_tokens": 5}}') == (12, 5)
    assert usage_of(b"not json") is None
    est = TokenEstimate()
    est.learn(4_000, 1_000, 300)
    assert est.estimate(8_000) == 2_000 + 300


def test_no_limit_unless_the_settings_ask(monkeypatch: pytest.MonkeyPatch) -> None:
    assert ModelRateLimit.from_settings(load_settings()) is None
    monkeypatch.setenv("HOCVU_MODEL_RPM", "500")
    monkeypatch.setenv("HOCVU_MODEL_TPM", "200000")
    limit = ModelRateLimit.from_settings(load_settings())
    assert limit is not None and (limit.rpm, limit.tpm) == (500, 200_000)


def test_the_openai_backend_holds_the_rate_at_the_server(openai_env, library, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from generator.drafting.service import build_request

    monkeypatch.setenv("HOCVU_MODEL_RPM", "120")  # two a second, bursts of two
    monkeypatch.setenv("HOCVU_STRUCTURED_OUTPUT", "json_schema")
    backend = make_backend(load_settings(), library)
    req = build_request(library, "vn-dcf-2025", "4.2", 1, "elderly", "vi")

    async def eight() -> None:
        await asyncio.gather(*(backend.adraft(req) for _ in range(8)))

    run_sync(eight())
    arrivals = sorted(openai_env.arrivals)
    assert len(arrivals) == 8
    # counted at the server: never more than the bucket (2) plus one second's share (2) within a second
    assert most_in_any_window(arrivals, 1.0) <= 4
    assert arrivals[-1] - arrivals[0] >= (8 - 2) * 0.5 * 0.9


# -- the same limits shared in Redis by a Celery deployment's workers ---------------------------------
from tests.test_jobs_celery import REDIS, redis_server, redis_url  # noqa: E402, F401 - the Redis fixtures

needs_redis = pytest.mark.skipif(REDIS is None, reason="redis-server is missing (apt-get install redis-server)")


@needs_redis
def test_the_shared_limit_holds_requests_per_minute_across_workers(redis_url) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    import time

    import redis

    from generator.jobs.ratelimit import SharedLimit

    workers = [SharedLimit(redis.Redis.from_url(redis_url), rpm=600) for _ in range(2)]  # 10 a second
    sent: list[float] = []

    async def calls(limit: SharedLimit) -> None:
        for _ in range(15):
            limit.release(await limit.acquire())
            sent.append(time.time())

    async def both() -> None:
        await asyncio.gather(*(calls(w) for w in workers))

    asyncio.run(both())
    sent.sort()
    assert most_in_any_window(sent, 1.0) <= 10 + 10  # the bucket plus one second's share, both workers
    assert sent[-1] - sent[0] >= (30 - 10) / 10 * 0.9


@needs_redis
def test_the_shared_token_bucket_is_settled_with_the_usage(redis_url, monkeypatch) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    import redis

    from generator.config import load_settings
    from generator.jobs.ratelimit import BUCKET_KEY, SharedLimit

    monkeypatch.setenv("HOCVU_MODEL_TPM", "6000")  # 100 a second, a bucket of 100
    client = redis.Redis.from_url(redis_url)
    limit = SharedLimit.for_settings(client, load_settings())
    limit.tokens.reply_tokens = 0

    def level() -> float:
        return float(client.hget(BUCKET_KEY + "tokens", "level") or 0)

    taken = asyncio.run(limit.take_tokens(400))  # 400 bytes ≈ 100 tokens: fits at once
    assert taken == 100 and level() == pytest.approx(100, abs=20)
    limit.settle_tokens(taken, 400, (300, 200))  # billed 500: the other 400 are owed
    assert level() == pytest.approx(500, abs=20)
    limit.settle_tokens(400, 400, None)  # a refused request gives its estimate back
    assert level() == pytest.approx(100, abs=20)
