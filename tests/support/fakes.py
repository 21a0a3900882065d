"""Fakes for the seams (a silent TTS, a chat model that records its prompts): fast and deterministic."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import BaseMessage
from pydantic import Field

from generator.fsutil import write_bytes_atomic
from generator.lesson import count_words


class FakeTTS:
    """A silent TTS: writes valid MP3 silence as long as the text would take to say (or ``seconds``
    when given, for tests that only need a playable file); records its calls."""

    name = "fake"

    def __init__(self, seconds: float | None = None) -> None:
        self.seconds = seconds
        self.calls: list[tuple[str, str, int]] = []

    def synthesize(self, text: str, lang: str, rate_wpm: int, out_path: Path) -> None:
        """Write ``count_words(text) / rate_wpm`` minutes (or ``seconds``) of silence as MP3."""
        import lameenc

        self.calls.append((text, lang, rate_wpm))
        seconds = self.seconds if self.seconds is not None else 60.0 * count_words(text) / rate_wpm
        enc = lameenc.Encoder()
        enc.set_bit_rate(32)
        enc.set_in_sample_rate(16000)
        enc.set_channels(1)
        enc.set_quality(7)
        data = enc.encode(bytes(2 * int(16000 * seconds))) + enc.flush()
        write_bytes_atomic(out_path, data)


class RecordingChatModel(GenericFakeChatModel):
    """langchain's generic fake chat model, answering with ``messages`` in turn, that keeps every prompt
    it was sent (``prompts``: one list of messages per call) for assertions.

    ``with_structured_output`` answers as langchain's own does with ``include_raw=True`` — the raw
    message, the parsed JSON object (or None) and the parsing error — so a backend that asks for
    structured output runs against it unchanged, with no server.
    """

    prompts: list[list[BaseMessage]] = Field(default_factory=list)

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None, run_manager: Any = None,
                  **kwargs: Any) -> Any:
        self.prompts.append(list(messages))
        return super()._generate(messages, stop=stop, run_manager=run_manager, **kwargs)

    def with_structured_output(self, schema: Any, *, include_raw: bool = False, **kwargs: Any) -> Any:  # type: ignore[override]
        from langchain_core.runnables import RunnableLambda

        def parse(message: Any) -> dict[str, Any]:
            try:
                parsed = json.loads(message.content)
                if not isinstance(parsed, dict):
                    raise ValueError("the reply is not a JSON object")
            except ValueError as exc:
                return {"raw": message, "parsed": None, "parsing_error": exc}
            return {"raw": message, "parsed": parsed, "parsing_error": None}

        chain = self | RunnableLambda(parse)
        return chain if include_raw else chain | RunnableLambda(lambda out: out["parsed"])
