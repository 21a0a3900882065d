"""The LLM backend protocol, the requests it takes and the results it returns, and the registry."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from generator.errors import NotFoundError
from generator.lesson import LessonDraft, Limits, Usage
from generator.schema import Competence, Descriptor, Framework, TargetGroup

if TYPE_CHECKING:
    from generator.config import Settings
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


@runtime_checkable
class LLMBackend(Protocol):
    """Drafts and revises lessons."""

    name: str
    model: str

    async def adraft(self, request: DraftRequest) -> DraftResult:
        """Draft one lesson."""
        ...

    async def arevise(self, request: RevisionRequest) -> DraftResult:
        """Revise one section of a lesson."""
        ...


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


BackendFactory = Callable[["Settings", "Library", "str | None"], LLMBackend]
BACKENDS: dict[str, BackendFactory] = {}


def register_backend(name: str) -> Callable[[BackendFactory], BackendFactory]:
    """Register a backend factory under ``name`` (built-ins use this too)."""

    def deco(factory: BackendFactory) -> BackendFactory:
        BACKENDS[name] = factory
        return factory

    return deco


def _load_builtins() -> None:
    from importlib.metadata import entry_points

    import generator.drafting.offline  # noqa: F401
    import generator.drafting.openai_backend  # noqa: F401

    for ep in entry_points(group="hocvu.backends"):
        if ep.name not in BACKENDS:
            BACKENDS[ep.name] = ep.load()


def make_backend(settings: Settings, library: Library, name: str | None = None,
                 model: str | None = None) -> LLMBackend:
    """The backend ``name`` (default: from settings; 'auto' means openai when a key is set)."""
    _load_builtins()
    chosen = name or settings.effective_backend()
    if chosen == "auto":
        chosen = settings.effective_backend()
    if chosen not in BACKENDS:
        raise NotFoundError.unknown("backend", chosen, sorted(BACKENDS))
    return BACKENDS[chosen](settings, library, model)
