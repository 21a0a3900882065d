"""A model-call limit shared by every worker of a Celery deployment, kept in Redis.

Each HTTP request to the model server (the SDK's own retries included) goes through ``SharedLimitTransport``:

* it waits while the shared pause is on: a 429 answered with ``Retry-After`` pauses every worker until
  then (``hocvu:model:pause_until``), not only the one that got it;
* it takes a slot among ``concurrency`` slots in flight across all workers (a sorted set of slot tokens
  scored by when they were taken; a slot older than ``slot_ttl`` is a dead worker's and is dropped);
* with ``rate`` > 0, it takes a place in this second's window of ``rate`` requests.
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


@dataclass
class SharedLimit:
    """The shared limit over one Redis connection (redis-py, synchronous: each call is a loopback
    round trip well under a millisecond, so the event loop is not held up)."""

    redis: Any
    concurrency: int = 64
    rate: float = 0.0
    slot_ttl: float = 600.0
    poll: float = 0.02

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
        token = await self.limit.acquire()
        try:
            response = await self.inner.handle_async_request(request)
        finally:
            self.limit.release(token)
        if response.status_code == 429:
            wait = retry_after(response.headers)
            if wait is not None:
                self.limit.pause_for(wait)
        return response  # type: ignore[no-any-return]

    async def aclose(self) -> None:
        """Close the connections."""
        await self.inner.aclose()
