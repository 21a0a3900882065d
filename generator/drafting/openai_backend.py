"""The ``openai`` backend: langchain-openai ChatOpenAI with structured output into the lesson schema.

Any OpenAI-compatible server works (OpenAI, Ollama, vLLM, llama.cpp server): set OPENAI_BASE_URL.
Structured output tries json_schema first and falls back to function calling, then JSON mode, when a
server says it lacks one. Transport retries (429, 5xx, connection errors, with backoff honouring
Retry-After) are the OpenAI SDK's own; a reply that fails validation is sent back with the errors and
asked again, a bounded number of times.
"""

from __future__ import annotations

import asyncio
import json
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from generator.drafting.backend import (
    DraftRequest,
    DraftResult,
    RevisionRequest,
    register_backend,
)
from generator.drafting.prompts import LANGUAGE_NAMES, PromptSet, fence
from generator.errors import (
    BackendError,
    BackendUnavailableError,
    ConfigError,
    InvalidOutputError,
    MissingKeyError,
    NotFoundError,
)
from generator.lesson import LessonDraft, Limits, Usage

if TYPE_CHECKING:
    from generator.config import Settings
    from generator.frameworks import Library

METHODS = ("json_schema", "function_calling", "json_mode")
KEY_HELP = (
    "the openai backend needs an API key: export OPENAI_API_KEY=sk-... "
    "(for a local OpenAI-compatible server such as Ollama also export OPENAI_BASE_URL=http://localhost:11434/v1 "
    "and any non-empty key), or use --backend offline"
)


class ChecksFailedError(ValueError):
    """A schema-valid draft that fails quality checks (the model is re-asked with the messages)."""

    def __init__(self, draft: LessonDraft, message: str) -> None:
        super().__init__(message)
        self.draft = draft


def lesson_schema() -> dict[str, Any]:
    """JSON schema of the drafted part of a lesson, as sent to the model (a fresh copy each call)."""
    return json.loads(_schema_json())


@lru_cache(maxsize=1)
def _schema_json() -> str:
    schema = LessonDraft.model_json_schema()
    schema["title"] = "lesson"
    schema["description"] = "One concise digital-skills lesson."
    return json.dumps(schema, ensure_ascii=False)


def _unsupported(exc: Exception) -> bool:
    """Did the server refuse a structured-output mode (so another should be tried)?"""
    text = str(exc).lower()
    return any(w in text for w in ("response_format", "json_schema", "tool", "function", "not supported"))


class OpenAIBackend:
    """Drafts through any OpenAI-compatible chat-completions server."""

    name = "openai"

    def __init__(self, settings: Settings, model: str | None = None) -> None:
        if settings.openai_api_key is None or not settings.openai_api_key.get_secret_value():
            raise MissingKeyError(KEY_HELP)
        self.settings = settings
        self.model = model or settings.model
        self.prompts = PromptSet.load(settings.workspace)
        self._chat: Any = None
        self._runnables: dict[str, Any] = {}
        #: Set by a batch build to bound the model calls in flight across all its lessons.
        self.limiter: asyncio.Semaphore | None = None
        self._method: str | None = None if settings.structured_output == "auto" else settings.structured_output

    # -- plumbing -------------------------------------------------------------------------------
    def chat(self) -> Any:
        """The shared ChatOpenAI client (created on first use)."""
        if self._chat is None:
            from langchain_openai import ChatOpenAI

            s = self.settings
            self._chat = ChatOpenAI(
                model=self.model,
                api_key=s.openai_api_key,
                base_url=s.openai_base_url,
                timeout=s.timeout,
                max_retries=s.max_retries,
                temperature=s.temperature,
            )
        return self._chat

    def warm_up(self) -> None:
        """Import the client libraries and build the client before the first call (batch builds)."""
        self.chat()

    def _where(self) -> str:
        return self.settings.openai_base_url or "https://api.openai.com/v1"

    def _translate(self, exc: Exception) -> Exception:
        """Map openai SDK errors onto hocvu's tree."""
        import openai

        where, s = self._where(), self.settings
        if isinstance(exc, openai.APITimeoutError):
            return BackendUnavailableError(
                f"the model server at {where} did not answer within {s.timeout:g} s "
                f"({s.max_retries} retries); check the server, raise HOCVU_TIMEOUT, or use --backend offline"
            )
        if isinstance(exc, openai.APIConnectionError):
            return BackendUnavailableError(
                f"cannot reach the model server at {where}: check OPENAI_BASE_URL and that the server is "
                f"running, or use --backend offline"
            )
        if isinstance(exc, openai.AuthenticationError):
            return ConfigError(f"the model server at {where} refused the API key (401); check OPENAI_API_KEY")
        if isinstance(exc, openai.RateLimitError):
            return BackendUnavailableError(
                f"the model server at {where} kept answering 429 (rate limit) after {s.max_retries} retries; "
                f"wait a little, lower --concurrency, or raise HOCVU_MAX_RETRIES"
            )
        if isinstance(exc, openai.NotFoundError):
            return NotFoundError(f"the model server at {where} has no model {self.model!r}; set --model or HOCVU_MODEL")
        if isinstance(exc, openai.APIStatusError):
            if exc.status_code >= 500:
                return BackendUnavailableError(
                    f"the model server at {where} failed ({exc.status_code}) after {s.max_retries} retries; "
                    f"try again later"
                )
            return BackendError(f"the model server at {where} refused the request ({exc.status_code}): {exc.message}")
        return BackendError(f"the model call failed: {exc}")

    async def _invoke(self, messages: list[Any], method: str) -> dict[str, Any]:
        if method not in self._runnables:
            self._runnables[method] = self.chat().with_structured_output(lesson_schema(), method=method,
                                                                         include_raw=True)
        if self.limiter is None:
            return await self._runnables[method].ainvoke(messages)  # type: ignore[no-any-return]
        async with self.limiter:  # bounds the calls in flight, not the work around them
            return await self._runnables[method].ainvoke(messages)  # type: ignore[no-any-return]

    async def _call(self, messages: list[Any]) -> dict[str, Any]:
        """One structured call, falling back across methods when the server lacks one."""
        import openai

        methods = [self._method] if self._method else list(METHODS)
        for i, method in enumerate(methods):
            try:
                out = await self._invoke(messages, method)
                self._method = method
                return out
            except openai.BadRequestError as exc:
                if i + 1 < len(methods) and _unsupported(exc):
                    continue
                raise self._translate(exc) from exc
            except openai.OpenAIError as exc:
                raise self._translate(exc) from exc
        raise BackendError("no structured-output method worked")  # pragma: no cover

    def _cost(self, usage: Usage) -> float:
        price = self.settings.price(self.model)
        return (usage.input_tokens * price.get("input", 0.0) + usage.output_tokens * price.get("output", 0.0)) / 1e6

    # -- the re-ask loop ------------------------------------------------------------------------
    async def _structured(self, system: str, user: str, limits: Limits,
                          accept: Any = None) -> tuple[LessonDraft, Usage, int]:
        """Call, validate against the schema and the limits and the quality checks, and re-ask with the
        errors (bounded). A lesson that is valid but still fails checks after the last re-ask is returned
        as it is: it is recorded with its failing checks, never lost."""
        from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

        messages: list[Any] = [SystemMessage(system), HumanMessage(user)]
        usage = Usage()
        attempts: list[dict[str, object]] = []
        for attempt in range(1, self.settings.max_reasks + 2):
            out = await self._call(messages)
            raw = out.get("raw")
            meta = getattr(raw, "usage_metadata", None) or {}
            usage = usage.add(Usage(calls=1, input_tokens=meta.get("input_tokens", 0),
                                    output_tokens=meta.get("output_tokens", 0)))
            data, error = out.get("parsed"), out.get("parsing_error")
            reply = _reply_text(raw, data)
            if error is None and data is not None:
                try:
                    draft = LessonDraft.model_validate(data, context=limits.context())
                    if accept is not None:
                        draft = accept(draft)
                    return draft, usage, attempt
                except (ValidationError, ValueError) as exc:
                    error = exc
            problem = _problems(error)
            attempts.append({"attempt": attempt, "error": problem, "reply": reply[:2000]})
            if isinstance(error, ChecksFailedError) and attempt == self.settings.max_reasks + 1:
                return error.draft, usage, attempt
            messages += [
                AIMessage(reply or "(empty reply)"),
                HumanMessage(
                    f"That reply is not yet a lesson these learners can use: {problem}\nReply again with the "
                    f"complete corrected lesson as JSON only, keeping within the limits."
                ),
            ]
        raise InvalidOutputError(
            f"the model's reply failed validation {len(attempts)} times (last: {str(attempts[-1]['error'])[:300]}); "
            f"try another model, or raise HOCVU_MAX_REASKS",
            attempts,
        )

    def _schema_hint(self) -> str:
        return _schema_json() if self._method in (None, "json_mode") else ""

    def _common(self, req: DraftRequest) -> dict[str, Any]:
        return prompt_values(req, self.settings.link_allow, self._schema_hint())

    def _fitness(self, req: DraftRequest) -> Any:
        """A validator that refuses a draft failing the quality checks, with their messages."""
        from generator.drafting.checks import draft_failures

        def accept(draft: LessonDraft) -> LessonDraft:
            failed = draft_failures(draft, req, self.settings.link_allow)
            if failed:
                raise ChecksFailedError(draft, "; ".join(f"check '{c.name}' failed: {c.message}" for c in failed))
            return draft

        return accept

    async def adraft(self, request: DraftRequest) -> DraftResult:
        """Draft one lesson through the model."""
        values = self._common(request)
        system = self.prompts.render("system", **values)
        user = self.prompts.render("lesson", **values)
        draft, usage, attempts = await self._structured(system, user, request.limits, self._fitness(request))
        return DraftResult(draft=draft, backend=self.name, model=self.model,
                           prompt_hash=self.prompts.hash("system", "lesson"), usage=usage,
                           cost_usd=self._cost(usage), attempts=attempts)

    async def arevise(self, request: RevisionRequest) -> DraftResult:
        """Regenerate one section (or all) following the comments; other sections stay byte-identical."""
        req = request.request
        values = self._common(req)
        values.update(lesson_json=json.dumps(request.lesson.draft_part(), ensure_ascii=False, indent=1),
                      comments=request.comments, section=request.section)
        system = self.prompts.render("system", **values)
        user = self.prompts.render("revise", **values)
        keep = request.lesson.draft_part()

        fitness = self._fitness(req)

        def accept(draft: LessonDraft) -> LessonDraft:
            if request.section != "all":
                merged = dict(keep)
                merged[request.section] = draft.draft_part()[request.section]
                draft = LessonDraft.model_validate(merged, context=req.limits.context())
            return fitness(draft)  # type: ignore[no-any-return]

        draft, usage, attempts = await self._structured(system, user, req.limits, accept)
        return DraftResult(draft=draft, backend=self.name, model=self.model,
                           prompt_hash=self.prompts.hash("system", "revise"), usage=usage,
                           cost_usd=self._cost(usage), attempts=attempts)


def prompt_values(req: DraftRequest, link_allow: list[str], schema_hint: str = "") -> dict[str, Any]:
    """The values the prompt templates are rendered with."""
    return {
        "framework": req.framework, "competence": req.competence, "level": req.level, "tier": req.tier,
        "descriptors": req.descriptors, "group": req.group, "lang": req.lang,
        "language_name": LANGUAGE_NAMES[req.lang], "limits": req.limits, "link_allow": link_allow,
        "passages": [{"id": p.id, "title": fence(p.title), "page": p.page, "text": fence(p.text)}
                     for p in req.passages],
        "schema_hint": schema_hint,
    }


def estimate_prompt_tokens(prompts: PromptSet, req: DraftRequest, link_allow: list[str]) -> int:
    """Rough prompt size of a draft call (about 4 characters a token, plus the schema sent alongside)."""
    values = prompt_values(req, link_allow)
    text = prompts.render("system", **values) + prompts.render("lesson", **values)
    return (len(text) + len(_schema_json())) // 4


def _reply_text(raw: Any, parsed: Any) -> str:
    if raw is not None and getattr(raw, "content", None):
        return str(raw.content)
    calls = getattr(raw, "tool_calls", None) or []
    if calls:
        return json.dumps(calls[0].get("args", {}), ensure_ascii=False)
    return json.dumps(parsed, ensure_ascii=False) if parsed is not None else ""


def _problems(error: Any) -> str:
    if isinstance(error, ValidationError):
        return "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'lesson'}: {e['msg'].removeprefix('Value error, ')}"
            for e in error.errors()[:8]
        )
    return str(error) or type(error).__name__


@register_backend("openai")
def _make(settings: Settings, library: Library, model: str | None) -> OpenAIBackend:
    return OpenAIBackend(settings, model)
