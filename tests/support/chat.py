"""A fake chat model that records its prompts, built on langchain's own fake."""

from __future__ import annotations

import json
from typing import Any

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import BaseMessage
from pydantic import Field


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
