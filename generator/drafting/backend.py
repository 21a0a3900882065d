"""The LLM backend protocol, the requests it takes and the results it returns, and the ``Backend`` base
whose classes ``generator.registry.backends`` holds."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import AbstractAsyncContextManager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from generator.lesson import LessonDraft, Limits, Usage
from generator.schema import Competence, Descriptor, Framework, TargetGroup

if TYPE_CHECKING:
    from generator.config import Settings
    from generator.drafting.checks import CheckResult
    from generator.frameworks import Library


@dataclass(frozen=True)
class SourcePassage:
    """A retrieved passage handed to a backend, fenced as data."""

    id: str
    text: str
    title: str = ""
    file: str = ""
    page: int | None = None
    section: str = ""
    page_label: str = ""

    def citation(self) -> dict[str, object]:
        """The fields a lesson's SourceCitation keeps of this passage."""
        return {"id": self.id, "title": self.title, "file": self.file, "page": self.page, "text": self.text,
                "section": self.section, "page_label": self.page_label}


@dataclass
class DraftRequest:
    """Everything a backend needs to draft one lesson."""

    framework: Framework
    competence: Competence
    level: int
    group: TargetGroup
    lang: str
    descriptors: list[Descriptor]
    limits: Limits
    passages: list[SourcePassage] = field(default_factory=list)

    @property
    def tier(self) -> str:
        """The level's tier name in the lesson language."""
        return self.framework.level(self.level).tier.get(self.lang)


@dataclass
class RevisionRequest:
    """Revise ``section`` (or 'all') of ``lesson`` following ``comments``."""

    request: DraftRequest
    lesson: LessonDraft
    section: str
    comments: list[str]


@dataclass
class DraftResult:
    """A validated draft and what it cost."""

    draft: LessonDraft
    backend: str
    model: str
    prompt_hash: str
    usage: Usage = field(default_factory=Usage)
    cost_usd: float = 0.0
    attempts: int = 1
    notes: list[str] = field(default_factory=list)
    #: The quality checks' results on this draft when the backend already ran them (to re-ask the model):
    #: the caller uses them instead of running every check a second time. None: not run.
    checks: list[CheckResult] | None = None


@runtime_checkable
class LLMBackend(Protocol):
    """Drafts and revises lessons, and says what the rest of hocvu needs to know about it.

    The capabilities are asked, never inferred from the backend's name: ``uses_content_library`` (its
    drafts are composed from ``frameworks/content``, so they go stale when that entry changes),
    ``uses_limiter`` (it enters ``limiter`` itself around each model call, so a batch build bounds the
    calls in flight rather than the whole draft), and ``warm_up`` (prepare before the first call).
    What is needed before any backend is built (its model, prompt hash, cost estimate) is asked of the
    registered class: see ``Backend``.
    """

    name: str
    model: str
    uses_content_library: bool
    uses_limiter: bool
    limiter: AbstractAsyncContextManager[Any] | None

    async def adraft(self, request: DraftRequest) -> DraftResult:
        """Draft one lesson."""
        ...

    async def arevise(self, request: RevisionRequest) -> DraftResult:
        """Revise one section of a lesson."""
        ...

    def warm_up(self) -> None:
        """Import and connect what the first call needs (a batch build calls it before the first lesson)."""
        ...


class Backend:
    """The base of registered backends: the capabilities every backend declares, with their defaults.

    A backend is registered as its class (``generator.registry.backends``, entry-point group
    ``hocvu.backends``); the class methods answer for it before any instance exists, e.g. while a batch
    build is planned without an API key.
    """

    name: str = ""
    model: str = ""
    #: Drafts come from the offline content library (so its entry's hash is part of what made them).
    uses_content_library: bool = False
    #: The backend enters ``limiter`` around each model call itself (a batch build sets it).
    uses_limiter: bool = False
    limiter: AbstractAsyncContextManager[Any] | None = None
    #: What its prompt hash stands for, in the sentence "<this> changed" of outdated detection.
    prompt_source: str = "the prompt"

    @classmethod
    def create(cls, settings: Settings, library: Library, model: str | None) -> LLMBackend:
        """A backend for these settings (``model``: the model asked for, None for the default)."""
        raise NotImplementedError(f"{cls.__name__} does not say how to create it")

    @classmethod
    def model_for(cls, settings: Settings, model: str | None) -> str:
        """The model a backend created with ``model`` will use (recorded in plans and cache keys)."""
        return model or settings.model

    @classmethod
    def prompt_hash(cls, workspace: Path | None, task: str = "lesson") -> str:
        """The hash of what turns a request into a draft for ``task`` ('lesson' or 'revise'), as recorded
        in a draft's provenance; '' when the backend has none to compare."""
        return ""

    @classmethod
    def estimator(cls, settings: Settings, library: Library) -> Callable[[DraftRequest], int] | None:
        """Input tokens one draft call will send, for cost estimates; None when drafting calls no model."""
        return None

    @classmethod
    def call_deadline(cls, settings: Settings) -> float | None:
        """The longest one model call can take, retries included (None: no model call)."""
        return None

    @classmethod
    def planned_method(cls, settings: Settings, model: str) -> str:
        """How the model's structured output will be asked for, as a build's plan shows it ('' when the
        backend sends no structured-output requests); no call is made."""
        return ""

    def method_in_use(self) -> str:
        """The structured-output method in use and how it was chosen ('' when none, or not yet known)."""
        return ""

    async def adraft(self, request: DraftRequest) -> DraftResult:
        """Draft one lesson."""
        raise NotImplementedError

    async def arevise(self, request: RevisionRequest) -> DraftResult:
        """Revise one section of a lesson."""
        raise NotImplementedError

    def warm_up(self) -> None:
        """Nothing to prepare by default."""


@dataclass
class Meter:
    """Requests sent and tokens billed while drafting one lesson, failed and retried requests included.

    A backend counts into the innermost meter of the running task (``current_meter``); a meter that
    closes adds its figures to the one around it, so a batch build's per-lesson meter sees every request
    even when the draft ends in an error.
    """

    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0

    def usage(self) -> Usage:
        """The figures as a lesson's usage (``calls`` is the number of requests)."""
        return Usage(calls=self.requests, input_tokens=self.input_tokens, output_tokens=self.output_tokens)

    def add(self, other: Meter) -> None:
        """Add another meter's figures to this one."""
        self.requests += other.requests
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens


_METER: ContextVar[Meter | None] = ContextVar("hocvu_meter", default=None)


def current_meter() -> Meter | None:
    """The meter of the running task (None when nobody is counting)."""
    return _METER.get()


@contextmanager
def metering() -> Iterator[Meter]:
    """Count the requests and tokens of the code inside; the figures also reach any enclosing meter."""
    outer, meter = _METER.get(), Meter()
    token = _METER.set(meter)
    try:
        yield meter
    finally:
        _METER.reset(token)
        if outer is not None:
            outer.add(meter)


def run_sync(coro):  # type: ignore[no-untyped-def]
    """Run a coroutine from synchronous code."""
    return asyncio.run(coro)


def register_backend(name: str) -> Callable[[type[Backend]], type[Backend]]:
    """Register a ``Backend`` class under ``name`` (what an entry point in ``hocvu.backends`` does)."""
    from generator.registry import backends

    return backends.register(name)


def backend_class(name: str) -> type[Backend]:
    """The class registered as backend ``name``; NotFoundError listing the backends otherwise."""
    from generator.registry import backends

    return backends.get(name)


def uses_content_library(name: str) -> bool:
    """Whether drafts by backend ``name`` are composed from the content library (False when the backend
    is no longer installed: nothing can be said of its drafts)."""
    from generator.registry import backends

    return name in backends and backend_class(name).uses_content_library


def resolve_backend(settings: Settings, name: str | None = None) -> str:
    """The backend name to use: ``name`` unless empty or 'auto', else the settings' choice (checked)."""
    from generator.registry import backends

    chosen = name if name and name != "auto" else settings.effective_backend()
    return backends.check(chosen)


def make_backend(settings: Settings, library: Library, name: str | None = None,
                 model: str | None = None) -> LLMBackend:
    """The backend ``name`` (default: from settings; 'auto' means openai when a key is set)."""
    return backend_class(resolve_backend(settings, name)).create(settings, library, model)
