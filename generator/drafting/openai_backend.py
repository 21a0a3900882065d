"""The ``openai`` backend: langchain-openai ChatOpenAI with structured output into the lesson schema.

Any OpenAI-compatible server works (OpenAI, Ollama, vLLM, llama.cpp server): set OPENAI_BASE_URL.
The structured-output method is decided before a batch's lessons go out: the one remembered for this
server and model in the workspace (``generator.drafting.structured``), else found on the first call —
json_schema first, then function calling, then JSON mode — while the other lessons wait for the answer,
which is then remembered. Every prompt is rendered for that method: the schema is written into the
prompt only in JSON mode (json_schema and function calling send it alongside). The decision rests on the
response, never on words in an error message: a 400 or 422 to a method means the server lacks it, and a
reply in prose (no JSON object, no tool call) means the server ignored ``response_format``. When the
server says otherwise mid-batch (a remembered method refused or ignored), the lesson that hears it moves
the backend on to the next method and forgets the old answer; lessons already drafted are never asked
again, and a refused request was never billed. Transport retries (429, 5xx,
connection errors, with backoff honouring Retry-After) are the OpenAI SDK's own; every request has a
total deadline that a slow or trickling server cannot stretch, and every request and its tokens are
counted (``backend.Meter``), failed ones included, and waits its turn under the settings' requests and
tokens per minute (``generator.drafting.ratelimit``). Replies are validated and checked in a helper
thread, so the event loop keeps dispatching calls; the checks' results travel with the draft. A reply
that fails validation or the quality checks is sent back with the errors and asked again, a bounded
number of times.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from generator.drafting.backend import (
    Backend,
    DraftRequest,
    DraftResult,
    RevisionRequest,
    current_meter,
    metering,
)
from generator.drafting.prompts import LANGUAGE_NAMES, PromptSet, fence
from generator.drafting.ratelimit import ModelRateLimit, usage_of
from generator.drafting.structured import METHODS, MethodMemory, server_of
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
    from collections.abc import Callable
    from pathlib import Path

    from generator.config import Settings
    from generator.frameworks import Library

KEY_HELP = (
    "the openai backend needs an API key: export OPENAI_API_KEY=sk-... "
    "(for a local OpenAI-compatible server such as Ollama also export OPENAI_BASE_URL=http://localhost:11434/v1 "
    "and any non-empty key), or use --backend offline"
)


class _MethodRefused(Exception):  # noqa: N818 - a signal inside the backend, never shown
    """The server refused a structured-output method (400/422) that was chosen, not forced."""


class ChecksFailedError(ValueError):
    """A schema-valid draft that fails quality checks (the model is re-asked with the messages)."""

    def __init__(self, draft: LessonDraft, message: str, checks: list[Any] | None = None) -> None:
        super().__init__(message)
        self.draft = draft
        self.checks = checks


def lesson_schema() -> dict[str, Any]:
    """JSON schema of the drafted part of a lesson, as sent to the model (a fresh copy each call)."""
    return json.loads(_schema_json())


@lru_cache(maxsize=1)
def _schema_json() -> str:
    schema = LessonDraft.model_json_schema()
    schema["title"] = "lesson"
    schema["description"] = "One concise digital-skills lesson."
    return json.dumps(schema, ensure_ascii=False)


#: Statuses by which a server refuses a structured-output method it lacks (OpenAI and vLLM say 400,
#: servers with strict request schemas such as llama.cpp's or TGI's say 422).
REFUSED = (400, 422)

FORMAT_HELP = ("set HOCVU_STRUCTURED_OUTPUT=json_mode (the server seems to ignore response_format), "
               "or try another model")


def _ignored(out: dict[str, Any], method: str) -> bool:
    """Did the server answer without the structure ``method`` asks for (prose instead of JSON)?"""
    if out.get("parsing_error") is None and out.get("parsed") is not None:
        return False
    raw = out.get("raw")
    if method == "function_calling":
        return not getattr(raw, "tool_calls", None)
    return not str(getattr(raw, "content", "") or "").lstrip().startswith("{")


def call_deadline(settings: Settings) -> float:
    """The longest one model call can take, retries and their waits included (shown in the build plan).

    Each request has ``timeout`` seconds in all; between tries the SDK waits at most 8 s, or what the
    server asks in Retry-After (the SDK obeys at most 60 s); 5 s more lets a request's own deadline speak
    first."""
    return settings.timeout * (settings.max_retries + 1) + 60.0 * settings.max_retries + 5.0


class _DeadlineTransport:
    """An httpx transport that counts every request and gives each one a total deadline (headers and
    body), so a server that sends a byte now and then cannot stretch a call past ``seconds``."""

    def __init__(self, inner: Any, seconds: float) -> None:
        self.inner = inner
        self.seconds = seconds

    async def handle_async_request(self, request: Any) -> Any:
        """Send one request and read its whole answer before the deadline."""
        import httpx

        meter = current_meter()
        if meter is not None:
            meter.requests += 1
        try:
            async with asyncio.timeout(self.seconds):
                response = await self.inner.handle_async_request(request)
                try:
                    body = b"".join([chunk async for chunk in response.stream])
                finally:
                    await response.aclose()
        except TimeoutError as exc:
            raise httpx.ReadTimeout(f"no complete answer within {self.seconds:g} s", request=request) from exc
        return httpx.Response(response.status_code, headers=response.headers, stream=httpx.ByteStream(body),
                              extensions=response.extensions)

    async def aclose(self) -> None:
        """Close the connections."""
        await self.inner.aclose()


class _RateLimitTransport:
    """An httpx transport that sends each request when the requests- and tokens-per-minute limit allows,
    and settles its tokens with the usage in the answer (see ``generator.drafting.ratelimit``)."""

    def __init__(self, inner: Any, limit: ModelRateLimit) -> None:
        self.inner = inner
        self.limit = limit

    async def handle_async_request(self, request: Any) -> Any:
        """Wait for the limit, send, settle."""
        size = len(request.content)
        taken = await self.limit.acquire(size)
        usage = None
        try:
            response = await self.inner.handle_async_request(request)
            if response.status_code == 200:
                usage = usage_of(await response.aread())
        finally:
            self.limit.settle(taken, size, usage)
        return response

    async def aclose(self) -> None:
        """Close the connections."""
        await self.inner.aclose()


class OpenAIBackend(Backend):
    """Drafts through any OpenAI-compatible chat-completions server."""

    name = "openai"
    uses_limiter = True
    prompt_source = "the prompt templates"

    def __init__(self, settings: Settings, model: str | None = None, chat: Any = None) -> None:
        """``chat``: a langchain chat model to use instead of the ChatOpenAI client (tests pass a fake)."""
        if settings.openai_api_key is None or not settings.openai_api_key.get_secret_value():
            raise MissingKeyError(KEY_HELP)
        self.settings = settings
        self.model = model or settings.model
        self.prompts = PromptSet.load(settings.workspace)
        self._chat: Any = chat
        self._runnables: dict[str, Any] = {}
        #: Set by a batch build to bound the model calls in flight across all its lessons (and to stop
        #: sending when its circuit breaker opens: entering the limiter then raises).
        self.limiter: AbstractAsyncContextManager[Any] | None = None
        #: Wraps the HTTP transport before the client is made: a distributed executor puts its limit
        #: shared by every worker there (each request, SDK retries included, waits its turn).
        self.transport_wrapper: Callable[[Any], Any] | None = None
        self._forced = settings.structured_output != "auto"
        #: Where the structured-output method is remembered between builds (per server and model).
        self.memory = MethodMemory.of(settings)
        self._method: str | None = settings.structured_output if self._forced else None
        self._how = "HOCVU_STRUCTURED_OUTPUT" if self._forced else ""
        if not self._forced and (known := self.memory.get(server_of(settings), self.model)) is not None:
            self._method, self._how = known.method, f"remembered from {known.found}"
        self._detecting: asyncio.Lock | None = None
        self._judges: Any = None  # the helper thread that validates and checks replies
        #: Requests and tokens per minute from the settings (None: no limit).
        self.rate_limit = ModelRateLimit.from_settings(settings)

    # -- what it is, before one exists -----------------------------------------------------------
    @classmethod
    def create(cls, settings: Settings, library: Library, model: str | None) -> OpenAIBackend:
        """A backend for the configured server (MissingKeyError without an API key)."""
        return cls(settings, model)

    @classmethod
    def prompt_hash(cls, workspace: Path | None, task: str = "lesson") -> str:
        """The hash of the system prompt and the task's template."""
        return PromptSet.load(workspace).hash("system", task)

    @classmethod
    def estimator(cls, settings: Settings, library: Library) -> Callable[[DraftRequest], int]:
        """The prompt size of a draft call, from the templates as they are now."""
        import importlib
        import threading

        # The client library takes about a second to import: let that overlap with planning.
        threading.Thread(target=importlib.import_module, args=("langchain_openai",), daemon=True).start()
        prompts = PromptSet.load(settings.workspace)
        return lambda req: estimate_prompt_tokens(prompts, req, settings.link_allow)

    @classmethod
    def call_deadline(cls, settings: Settings) -> float:
        """See ``call_deadline``."""
        return call_deadline(settings)

    @classmethod
    def planned_method(cls, settings: Settings, model: str) -> str:
        """How the structured-output method will be chosen, as the plan shows it (no call is made)."""
        if settings.structured_output != "auto":
            return f"{settings.structured_output} (HOCVU_STRUCTURED_OUTPUT)"
        known = MethodMemory.of(settings).get(server_of(settings), model)
        if known is not None:
            return known.describe()
        return "found on the first call (json_schema, else function calling, else JSON mode), then remembered"

    def method_in_use(self) -> str:
        """The structured-output method in use and how it was chosen ('' before it is known). Unless this
        backend chose it itself, the workspace's memory is read again: when a build's lessons are drafted
        elsewhere (the Celery executor's workers), they find or replace the method there."""
        if not self._forced and not (self._method and not self._how.startswith("remembered")):
            known = self.memory.get(server_of(self.settings), self.model)
            if known is not None:
                return known.describe()
        return f"{self._method} ({self._how})" if self._method else ""

    # -- plumbing -------------------------------------------------------------------------------
    def chat(self) -> Any:
        """The shared ChatOpenAI client (created on first use)."""
        if self._chat is None:
            import httpx
            from langchain_openai import ChatOpenAI

            s = self.settings
            transport: Any = _DeadlineTransport(httpx.AsyncHTTPTransport(), s.timeout)
            if self.transport_wrapper is not None:  # a deployment's shared limit replaces this process's
                transport = self.transport_wrapper(transport)
            elif self.rate_limit is not None:
                transport = _RateLimitTransport(transport, self.rate_limit)
            self._chat = ChatOpenAI(
                model=self.model,
                api_key=s.openai_api_key,
                base_url=s.openai_base_url,
                timeout=s.timeout,
                max_retries=s.max_retries,
                temperature=s.temperature,
                http_async_client=httpx.AsyncClient(transport=transport, timeout=s.timeout),  # type: ignore[arg-type]
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
        if isinstance(exc, TimeoutError):
            return BackendUnavailableError(
                "the model server at {where} did not finish one call within {call_deadline:g} s "
                "({max_retries} retries of {timeout:g} s each, with waits); check the server, or use "
                "--backend offline",
                where=where, call_deadline=call_deadline(s), max_retries=s.max_retries, timeout=s.timeout,
            )
        if isinstance(exc, openai.APITimeoutError):
            return BackendUnavailableError(
                "the model server at {where} did not answer within {timeout:g} s "
                "({max_retries} retries); check the server, raise HOCVU_TIMEOUT, or use --backend offline",
                where=where, timeout=s.timeout, max_retries=s.max_retries,
            )
        if isinstance(exc, openai.APIConnectionError):
            return BackendUnavailableError(
                "cannot reach the model server at {where}: check OPENAI_BASE_URL and that the server is "
                "running, or use --backend offline",
                where=where,
            )
        if isinstance(exc, openai.AuthenticationError):
            return ConfigError("the model server at {where} refused the API key (401); check OPENAI_API_KEY",
                               where=where)
        if isinstance(exc, openai.RateLimitError):
            return BackendUnavailableError(
                "the model server at {where} kept answering 429 (rate limit) after {max_retries} retries; "
                "wait a little, lower --concurrency, or raise HOCVU_MAX_RETRIES",
                where=where, max_retries=s.max_retries,
            )
        if isinstance(exc, openai.NotFoundError):
            return NotFoundError("the model server at {where} has no model {model!r}; set --model or HOCVU_MODEL",
                                 where=where, model=self.model)
        if isinstance(exc, openai.APIStatusError):
            if exc.status_code >= 500:
                return BackendUnavailableError(
                    "the model server at {where} failed ({status_code}) after {max_retries} retries; "
                    "try again later",
                    where=where, status_code=exc.status_code, max_retries=s.max_retries,
                )
            return BackendError("the model server at {where} refused the request ({status_code}): {message_}",
                                where=where, status_code=exc.status_code, message_=exc.message)
        return BackendError("the model call failed: {exc}", exc=exc)

    async def _invoke(self, messages: list[Any], method: str) -> dict[str, Any]:
        """One structured call (SDK retries included) within its total deadline; tokens are counted."""
        if method not in self._runnables:
            self._runnables[method] = self.chat().with_structured_output(lesson_schema(), method=method,
                                                                         include_raw=True)
        if self.limiter is None:
            out = await self._bounded(messages, method)
        else:
            async with self.limiter:  # bounds the calls in flight, not the work around them
                out = await self._bounded(messages, method)
        meta = getattr(out.get("raw"), "usage_metadata", None) or {}
        meter = current_meter()
        if meter is not None:
            meter.input_tokens += meta.get("input_tokens", 0)
            meter.output_tokens += meta.get("output_tokens", 0)
        return out

    async def _bounded(self, messages: list[Any], method: str) -> dict[str, Any]:
        async with asyncio.timeout(call_deadline(self.settings)):
            return await self._runnables[method].ainvoke(messages)  # type: ignore[no-any-return]

    async def _call(self, messages: list[Any], method: str) -> dict[str, Any]:
        """One structured call with a known method; errors translated onto hocvu's tree (a refusal of a
        method the server may lack is ``_MethodRefused``, for the lesson to move on to the next)."""
        import openai

        try:
            return await self._invoke(messages, method)
        except (openai.OpenAIError, TimeoutError) as exc:
            if self._refused(exc, method):
                raise _MethodRefused(method) from exc
            raise self._translate(exc) from exc

    async def _send(self, prompt: Any, method: str, extra: list[Any],
                    refused: str | None = None) -> tuple[str, list[Any], dict[str, Any]]:
        """One call of a lesson with the backend's method (``extra``: the re-ask turns so far). When the
        server refuses the method (or ``refused``, whose reply ignored the format), the backend moves on
        to the next method and the call goes again with the prompt rendered for it. Returns the method,
        the prompt's messages and the reply."""
        while True:
            if refused is not None:
                method, out = await self._detect(prompt, refused)
                refused = None
                if out is not None:  # detection's own call answered
                    return method, _messages(*prompt(_hint(method))), out
            base = _messages(*prompt(_hint(method)))
            try:
                return method, base, await self._call(base + extra, method)
            except _MethodRefused:
                refused = method

    async def _first(self, prompt: Any) -> tuple[str, dict[str, Any] | None]:
        """The structured-output method: the configured or remembered one, else detected on the first
        call of this backend (see ``_detect``). Returns the method and, when detection made a call, its
        reply (the first attempt of the lesson)."""
        if self._method:
            return self._method, None
        return await self._detect(prompt, None)

    async def _detect(self, prompt: Any, refused: str | None) -> tuple[str, dict[str, Any] | None]:
        """Find the method, one lesson at a time (the others wait and use its answer), trying the methods
        after ``refused`` (all of them when None): a 400/422 or a reply that ignores the format moves on to
        the next. The answer is remembered for this server and model. Returns it with the reply, when a
        call was made."""
        import openai

        if self._detecting is None:
            self._detecting = asyncio.Lock()
        async with self._detecting:
            if self._method and self._method != refused:  # another lesson found it meanwhile
                return self._method, None
            if refused is not None:  # the server says otherwise: the old answer goes
                self._method = None
                self.memory.forget(server_of(self.settings), self.model)
            methods = METHODS[METHODS.index(refused) + 1:] if refused else METHODS
            last: Exception | None = None
            for i, method in enumerate(methods):
                try:
                    out = await self._invoke(_messages(*prompt(_hint(method))), method)
                except openai.APIStatusError as exc:
                    if exc.status_code in REFUSED and i + 1 < len(methods):
                        last = exc
                        continue
                    raise self._translate(exc) from exc
                except (openai.OpenAIError, TimeoutError) as exc:
                    raise self._translate(exc) from exc
                if _ignored(out, method) and i + 1 < len(methods):
                    continue
                self._method = method
                self._how = "found on the first call" if refused is None else f"{refused} refused mid-build"
                self.memory.put(server_of(self.settings), self.model, method)
                return method, out
            raise self._translate(last or BackendError("no structured-output method worked"))  # pragma: no cover

    def _can_move_on(self, method: str) -> bool:
        """May the backend leave ``method`` for another: it was not forced, and another is left to try."""
        return not self._forced and method != METHODS[-1]

    def _switchable(self, out: dict[str, Any], method: str) -> bool:
        """Did a reply ignore a method the backend may move on from?"""
        return self._can_move_on(method) and _ignored(out, method)

    def _refused(self, exc: Exception, method: str) -> bool:
        """Is ``exc`` the server refusing a method the backend may move on from?"""
        import openai

        return self._can_move_on(method) and isinstance(exc, openai.APIStatusError) and exc.status_code in REFUSED

    def _cost(self, usage: Usage) -> float:
        price = self.settings.price(self.model)
        return (usage.input_tokens * price.get("input", 0.0) + usage.output_tokens * price.get("output", 0.0)) / 1e6

    # -- the re-ask loop ------------------------------------------------------------------------
    async def _structured(self, prompt: Any, limits: Limits,
                          accept: Any = None) -> tuple[LessonDraft, Usage, int, list[Any] | None]:
        """Call, validate against the schema and the limits and the quality checks, and re-ask with the
        errors (bounded). ``prompt(schema_hint)`` gives the system and user messages; ``accept(draft)``
        returns the draft and its checks' results or raises. A lesson that is valid but still fails checks
        after the last re-ask is returned as it is: it is recorded with its failing checks, never lost.
        The usage counts every request, failed and retried ones included."""
        with metering() as meter:
            draft, attempt, checks = await self._ask(prompt, limits, accept)
        return draft, meter.usage(), attempt, checks

    async def _judge(self, data: Any, limits: Limits, accept: Any) -> tuple[LessonDraft, list[Any] | None]:
        """Validate a reply and run the checks in a helper thread: they cost tens of milliseconds of CPU
        that the event loop needs to keep 64 calls in flight."""

        def judge() -> tuple[LessonDraft, list[Any] | None]:
            draft = LessonDraft.model_validate(data, context=limits.context())
            return accept(draft) if accept is not None else (draft, None)  # type: ignore[no-any-return]

        if self._judges is None:
            from concurrent.futures import ThreadPoolExecutor

            # One thread: the checks hold the GIL anyway, and each pool thread costs a malloc arena.
            self._judges = ThreadPoolExecutor(1, thread_name_prefix="hocvu-checks")
        return await asyncio.get_running_loop().run_in_executor(self._judges, judge)

    async def _ask(self, prompt: Any, limits: Limits, accept: Any) -> tuple[LessonDraft, int, list[Any] | None]:
        from langchain_core.messages import AIMessage, HumanMessage

        method, out = await self._first(prompt)
        base = _messages(*prompt(_hint(method)))
        extra: list[Any] = []  # the re-ask turns
        attempts: list[dict[str, object]] = []
        ignored = 0
        for attempt in range(1, self.settings.max_reasks + 2):
            if out is None:
                method, base, out = await self._send(prompt, method, extra)
            if attempt == 1 and self._switchable(out, method):  # the server ignores a method it took before
                method, base, out = await self._send(prompt, method, extra, refused=method)
            raw = out.get("raw")
            ignored += _ignored(out, method)
            data, error = out.get("parsed"), out.get("parsing_error")
            out = None
            reply = _reply_text(raw, data)
            if error is None and data is not None:
                try:
                    draft, checks = await self._judge(data, limits, accept)
                    return draft, attempt, checks
                except (ValidationError, ValueError) as exc:
                    error = exc
            problem = _problems(error)
            attempts.append({"attempt": attempt, "error": problem, "reply": reply[:2000]})
            if isinstance(error, ChecksFailedError) and attempt == self.settings.max_reasks + 1:
                return error.draft, attempt, error.checks
            extra += [
                AIMessage(reply or "(empty reply)"),
                HumanMessage(
                    f"That reply is not yet a lesson these learners can use: {problem}\nReply again with the "
                    f"complete corrected lesson as JSON only, keeping within the limits."
                ),
            ]
        if ignored == len(attempts) and method != "json_mode":
            advice = FORMAT_HELP
        elif ignored == len(attempts):
            advice = "the model does not answer in JSON even in JSON mode; try another model"
        else:
            advice = "try another model, or raise HOCVU_MAX_REASKS"
        raise InvalidOutputError(
            "the model's reply failed validation {n_attempts} times (last: {attempts}); "
            "{advice}",
            attempts,
            n_attempts=len(attempts), attempts=str(attempts[-1]['error'])[:300], advice=advice,
        )

    def _prompt(self, req: DraftRequest, template: str, **extra: Any) -> Any:
        """``schema_hint -> (system, user)`` for a request and a user template."""

        def render(hint: str) -> tuple[str, str]:
            values = prompt_values(req, self.settings.link_allow, hint)
            values.update(extra)
            return self.prompts.render("system", **values), self.prompts.render(template, **values)

        return render

    def _fitness(self, req: DraftRequest) -> Any:
        """A validator that refuses a draft failing the quality checks, with their messages; an accepted
        draft comes with every check's result (the build records them without running them again)."""
        from generator.drafting.checks import draft_checks

        def accept(draft: LessonDraft) -> tuple[LessonDraft, list[Any]]:
            checks = draft_checks(draft, req, self.settings.link_allow)
            failed = [c for c in checks if not c.passed]
            if failed:
                raise ChecksFailedError(draft, "; ".join(f"check '{c.name}' failed: {c.message}" for c in failed),
                                        checks)
            return draft, checks

        return accept

    async def adraft(self, request: DraftRequest) -> DraftResult:
        """Draft one lesson through the model."""
        draft, usage, attempts, checks = await self._structured(self._prompt(request, "lesson"), request.limits,
                                                                self._fitness(request))
        return DraftResult(draft=draft, backend=self.name, model=self.model,
                           prompt_hash=self.prompts.hash("system", "lesson"), usage=usage,
                           cost_usd=self._cost(usage), attempts=attempts, checks=checks)

    async def arevise(self, request: RevisionRequest) -> DraftResult:
        """Regenerate one section (or all) following the comments; other sections stay byte-identical."""
        req = request.request
        prompt = self._prompt(req, "revise",
                              lesson_json=json.dumps(request.lesson.draft_part(), ensure_ascii=False, indent=1),
                              comments=request.comments, section=request.section)
        keep = request.lesson.draft_part()

        fitness = self._fitness(req)

        def accept(draft: LessonDraft) -> tuple[LessonDraft, list[Any]]:
            if request.section != "all":
                merged = dict(keep)
                merged[request.section] = draft.draft_part()[request.section]
                draft = LessonDraft.model_validate(merged, context=req.limits.context())
            return fitness(draft)  # type: ignore[no-any-return]

        draft, usage, attempts, checks = await self._structured(prompt, req.limits, accept)
        return DraftResult(draft=draft, backend=self.name, model=self.model,
                           prompt_hash=self.prompts.hash("system", "revise"), usage=usage,
                           cost_usd=self._cost(usage), attempts=attempts, checks=checks)


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


def _hint(method: str) -> str:
    """The schema written into the prompt: only JSON mode needs it (the others send it alongside)."""
    return _schema_json() if method == "json_mode" else ""


def _messages(system: str, user: str) -> list[Any]:
    from langchain_core.messages import HumanMessage, SystemMessage

    return [SystemMessage(system), HumanMessage(user)]


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
