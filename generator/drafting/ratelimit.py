"""Requests and tokens per minute to the model server, held in this process (``HOCVU_MODEL_RPM``,
``HOCVU_MODEL_TPM``; 0 means no limit).

Both are leaky buckets (aiolimiter's ``AsyncLimiter``) that hold about one second's share, so calls leave
at an even pace instead of a minute's worth at once, as providers enforce their per-minute limits over
shorter periods. Each HTTP request (the SDK's retries included) takes one request and the tokens it is
expected to cost: its prompt estimated from the request's size before it leaves (bytes per token learned
from the server's own usage figures) plus the mean reply so far; when the answer comes, the difference
between the estimate and the usage the server reports is carried to the next request (a refused request
is billed nothing, so its estimate is given back). A Celery deployment shares the same limits between its
workers in Redis (``generator.jobs.ratelimit``), with the same estimate.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

#: Bytes of a chat-completions request per prompt token before the server has told us (JSON escapes
#: Vietnamese letters, so a request is larger than its text).
BYTES_PER_TOKEN = 4.0
#: Reply tokens expected before the first reply is seen.
FIRST_REPLY_TOKENS = 1500


def usage_of(body: bytes) -> tuple[int, int] | None:
    """(prompt tokens, completion tokens) of a chat-completions answer; None when it has no usage."""
    try:
        usage = json.loads(body).get("usage") or {}
        return int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0)
    except (ValueError, AttributeError, TypeError):
        return None


@dataclass
class TokenEstimate:
    """Tokens a request will cost, learned from the usage servers report."""

    bytes_per_token: float = BYTES_PER_TOKEN
    reply_tokens: float = FIRST_REPLY_TOKENS
    _bytes: int = 0
    _prompt: int = 0
    _replies: int = 0
    _reply_sum: int = 0

    def estimate(self, request_bytes: int) -> int:
        """The prompt and reply tokens a request of ``request_bytes`` is expected to cost."""
        return int(request_bytes / self.bytes_per_token + self.reply_tokens)

    def learn(self, request_bytes: int, prompt_tokens: int, completion_tokens: int) -> None:
        """Take a billed answer into account."""
        if prompt_tokens > 0 and request_bytes > 0:
            self._bytes += request_bytes
            self._prompt += prompt_tokens
            self.bytes_per_token = self._bytes / self._prompt
        self._replies += 1
        self._reply_sum += completion_tokens
        self.reply_tokens = self._reply_sum / self._replies


def _bucket(per_minute: float, period: float) -> Any:
    """A leaky bucket of ``per_minute`` per ``period`` seconds holding about one second's share."""
    from aiolimiter import AsyncLimiter

    capacity = max(1.0, per_minute / period)
    return AsyncLimiter(capacity, capacity * period / per_minute)


class ModelRateLimit:
    """Requests and tokens per minute over this process's model calls (``period``: 60 s; tests shorten it).

    ``acquire(request_bytes)`` waits for a request and its estimated tokens and returns the tokens taken;
    ``settle(taken, request_bytes, usage)`` carries the difference from what the server billed.
    """

    def __init__(self, rpm: int = 0, tpm: int = 0, period: float = 60.0) -> None:
        self.rpm, self.tpm, self.period = rpm, tpm, period
        self.tokens = TokenEstimate()
        self._requests = _bucket(rpm, period) if rpm > 0 else None
        self._tokens = _bucket(tpm, period) if tpm > 0 else None
        self._turn: asyncio.Lock | None = None
        self._debt = 0.0  # tokens billed beyond what was taken (negative: taken beyond what was billed)

    @classmethod
    def from_settings(cls, settings: Any) -> ModelRateLimit | None:
        """The limit the settings ask for (None when neither is set)."""
        rpm, tpm = int(settings.model_rpm), int(settings.model_tpm)
        return cls(rpm, tpm) if rpm or tpm else None

    async def acquire(self, request_bytes: int) -> float:
        """Wait for one request and its tokens; returns the tokens taken for it."""
        if self._requests is not None:
            await self._requests.acquire()
        if self._tokens is None:
            return 0.0
        estimate = float(self.tokens.estimate(request_bytes))
        if self._turn is None:
            self._turn = asyncio.Lock()
        owed = estimate
        async with self._turn:  # first come, first served: a request takes all its tokens before the next
            while True:  # one larger than the bucket waits for it to drain more than once
                owed, self._debt = owed + self._debt, 0.0  # what answers meanwhile billed, or gave back
                if owed <= 0:
                    self._debt = owed  # the rest of the credit goes to the next request
                    break
                take = min(owed, self._tokens.max_rate)
                await self._tokens.acquire(take)
                owed -= take
        return estimate

    def settle(self, taken: float, request_bytes: int, usage: tuple[int, int] | None) -> None:
        """The server answered: learn from its usage and carry the difference (no usage: billed nothing)."""
        prompt, completion = usage or (0, 0)
        if usage is not None and (prompt or completion):
            self.tokens.learn(request_bytes, prompt, completion)
        if self._tokens is not None:
            self._debt += prompt + completion - taken
