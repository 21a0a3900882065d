"""A model-call limit shared by every worker of a Celery deployment, kept in Redis.

Each HTTP request to the model server (the SDK's own retries included) goes through ``SharedLimitTransport``:

* it waits while the shared pause is on: a 429 answered with ``Retry-After`` pauses every worker until
  then (``hocvu:model:pause_until``), not only the one that got it;
* it takes a slot among ``concurrency`` slots in flight across all workers (a sorted set of slot tokens
  scored by when they were taken; a slot older than ``slot_ttl`` is a dead worker's and is dropped);
* with ``rate`` > 0, it takes a place in this second's window of ``rate`` requests;
* with ``rpm`` / ``tpm`` > 0 (``HOCVU_MODEL_RPM`` / ``HOCVU_MODEL_TPM``, the settings the in-process
  limit of ``generator.drafting.ratelimit`` takes), it takes a request and its estimated tokens from
  leaky buckets shared in Redis (``hocvu:model:bucket:*``, one second's share each, as in-process); the
  tokens are estimated from the request's size before it leaves and settled with the usage in the
  answer (given back when the server billed less, or refused it).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

PAUSE_KEY = "hocvu:model:pause_until"
SLOTS_KEY = "hocvu:model:inflight"
RATE_KEY = "hocvu:model:rate:"
BUCKET_KEY = "hocvu:model:bucket:"
#: Longest wait asked by one Retry-After that is honoured (seconds).
MAX_PAUSE = 300.0

# Take a slot atomically: drop dead ones, count, add ours when there is room.
_TAKE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], ARGV[3], ARGV[4])
  return 1
end
return 0
"""

# A leaky bucket (as aiolimiter's, in Redis): drain by the time passed, then take ARGV[4] when it fits
# under the capacity (or always, with ARGV[5] = 1: a settlement, negative when giving back). Returns the
# seconds to wait before it would fit ("0": taken), as a string (Lua numbers come back as integers).
_BUCKET = """
local now, rate, cap, amount = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local level = tonumber(redis.call('HGET', KEYS[1], 'level') or '0')
local last = tonumber(redis.call('HGET', KEYS[1], 'last') or ARGV[1])
level = math.max(0, level - math.max(0, now - last) * rate)
local wait = 0
if ARGV[5] == '1' or level + amount <= cap then
  level = math.max(0, level + amount)
else
  wait = (level + amount - cap) / rate
end
redis.call('HSET', KEYS[1], 'level', tostring(level), 'last', ARGV[1])
redis.call('EXPIRE', KEYS[1], 3600)
return tostring(wait)
"""


@dataclass
class SharedLimit:
    """The shared limit over one Redis connection (redis-py, synchronous: each call is a loopback
    round trip well under a millisecond, so the event loop is not held up)."""

    redis: Any
    concurrency: int = 64
    rate: float = 0.0
    slot_ttl: float = 600.0
    poll: float = 0.02
    rpm: int = 0
    tpm: int = 0

    def __post_init__(self) -> None:
        from generator.drafting.ratelimit import TokenEstimate

        self.tokens = TokenEstimate()  # bytes per token and reply size, learned by this worker

    @classmethod
    def for_settings(cls, redis: Any, settings: Any, concurrency: int = 64, rate: float = 0.0) -> SharedLimit:
        """The shared limit with the settings' requests and tokens per minute."""
        return cls(redis, concurrency, rate, rpm=int(settings.model_rpm), tpm=int(settings.model_tpm))

    def _bucket(self, name: str, per_minute: int, amount: float, settle: bool = False) -> float:
        """Take ``amount`` from the shared bucket ``name`` (seconds to wait when it does not fit yet)."""
        capacity = max(1.0, per_minute / 60)
        script = self.redis.register_script(_BUCKET)
        wait = script(keys=[BUCKET_KEY + name],
                      args=[f"{time.time():.6f}", per_minute / 60, capacity, amount, "1" if settle else "0"])
        return float(wait)

    async def _take(self, name: str, per_minute: int, amount: float) -> None:
        capacity = max(1.0, per_minute / 60)
        while amount > 0:  # a request larger than the bucket waits for it to drain more than once
            part = min(amount, capacity)
            wait = self._bucket(name, per_minute, part)
            if wait > 0:
                await asyncio.sleep(min(wait, 1.0))
                continue
            amount -= part

    async def take_tokens(self, request_bytes: int) -> float:
        """Wait for a request's estimated tokens (tpm); returns the estimate taken (0 without a limit)."""
        if self.tpm <= 0:
            return 0.0
        estimate = float(self.tokens.estimate(request_bytes))
        await self._take("tokens", self.tpm, estimate)
        return estimate

    def settle_tokens(self, taken: float, request_bytes: int, usage: tuple[int, int] | None) -> None:
        """Carry the difference between what was taken and what the server billed (none when refused)."""
        prompt, completion = usage or (0, 0)
        if prompt or completion:
            self.tokens.learn(request_bytes, prompt, completion)
        if self.tpm > 0 and prompt + completion != taken:
            self._bucket("tokens", self.tpm, prompt + completion - taken, settle=True)

    def pause_left(self) -> float:
        """Seconds until the shared pause ends (0: none)."""
        raw = self.redis.get(PAUSE_KEY)
        return max(0.0, float(raw) - time.time()) if raw else 0.0

    def pause_for(self, seconds: float) -> None:
        """Pause every worker for ``seconds`` (a later end already set is kept)."""
        until = time.time() + min(max(seconds, 0.0), MAX_PAUSE)
        current = self.redis.get(PAUSE_KEY)
        if current is None or float(current) < until:
            self.redis.set(PAUSE_KEY, f"{until:.3f}", ex=int(MAX_PAUSE) + 5)

    async def acquire(self) -> str:
        """Wait for the pause, a slot and the rate; returns the slot's token."""
        token = uuid.uuid4().hex
        take = self.redis.register_script(_TAKE)
        while True:
            wait = self.pause_left()
            if wait:
                await asyncio.sleep(min(wait, 1.0))
                continue
            now = time.time()
            if take(keys=[SLOTS_KEY], args=[now - self.slot_ttl, self.concurrency, now, token]):
                break
            await asyncio.sleep(self.poll)
        while self.rate > 0:
            second = int(time.time())
            key = f"{RATE_KEY}{second}"
            n = self.redis.incr(key)
            if n == 1:
                self.redis.expire(key, 5)
            if n <= self.rate:
                break
            await asyncio.sleep(max(0.0, second + 1 - time.time()))
        if self.rpm > 0:
            await self._take("requests", self.rpm, 1.0)
        return token

    def release(self, token: str) -> None:
        """Give the slot back."""
        self.redis.zrem(SLOTS_KEY, token)

    def in_flight(self) -> int:
        """Slots taken now (for tests and monitoring)."""
        return int(self.redis.zcard(SLOTS_KEY))


def retry_after(headers: Any) -> float | None:
    """Seconds asked by ``retry-after-ms`` (OpenAI's) or ``Retry-After`` (a number or an HTTP date); None
    when absent or unreadable."""
    if headers is None:
        return None
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


class SharedLimitTransport(httpx.AsyncBaseTransport):
    """An httpx async transport that sends each request under the shared limit (see the module)."""

    def __init__(self, inner: Any, limit: SharedLimit) -> None:
        self.inner = inner
        self.limit = limit

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send one request when the shared limit allows; a 429 with Retry-After pauses every worker."""
        from generator.drafting.ratelimit import usage_of

        token = await self.limit.acquire()
        size = len(request.content)
        usage = None
        try:
            taken = await self.limit.take_tokens(size)
        except BaseException:
            self.limit.release(token)
            raise
        try:
            response = await self.inner.handle_async_request(request)
            if response.status_code == 200 and self.limit.tpm > 0:
                usage = usage_of(await response.aread())
        finally:
            self.limit.release(token)
            self.limit.settle_tokens(taken, size, usage)
        if response.status_code == 429:
            wait = retry_after(response.headers)
            if wait is not None:
                self.limit.pause_for(wait)
        return response  # type: ignore[no-any-return]

    async def aclose(self) -> None:
        """Close the connections."""
        await self.inner.aclose()
