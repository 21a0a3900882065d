"""The executor seam: where a build's drafting and rendering work runs.

The runner hands an ``Executor`` two kinds of lesson work, each keyed by the lesson's cache key: a draft
(the model call with its retries and re-asks) and a render (every format into the lesson's staging
folder). It awaits the results and, when the build stops (Ctrl-C, SIGTERM, the circuit breaker),
cancels what is still out. Jobs and results are plain data — names, JSON text, paths — so an executor
may send them to other processes or machines; a renderer elsewhere must see the workspace's
``outputs/`` at the same path. Everything else of a lesson's life (cache, checks, the version folder and
its record in the store) stays with the runner, so the store still decides every number.

``local`` (model calls on this process's event loop, rendering in a pool of worker processes) is
registered like any other executor: in ``generator.registry.executors``, or through the ``hocvu.executors`` entry
point group, whose factories take an ``ExecutorContext``.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from generator.drafting.backend import DraftResult, LLMBackend, SourcePassage

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

    from generator.config import Settings
    from generator.frameworks import Library
    from generator.render import RenderResult

T = TypeVar("T")

#: Bounds the model calls in flight (the runner's gate, which also closes when the breaker opens).
Limiter = AbstractAsyncContextManager[Any]


@dataclass(frozen=True)
class DraftJob:
    """One lesson to draft, by name (an executor elsewhere resolves the names in its own library)."""

    key: str
    framework: str
    competence: str
    level: int
    group: str
    lang: str
    passages: tuple[SourcePassage, ...] = ()


@dataclass(frozen=True)
class RenderJob:
    """One lesson to render: its JSON, its group's JSON, the formats and the folder to write them into."""

    key: str
    folder: str
    lesson_json: str
    group_json: str
    formats: tuple[str, ...]
    workspace: str
    settings: dict[str, Any] = field(default_factory=dict)  # settings the renderers read (TTS engine...)


class Executor(Protocol):
    """Runs a build's lesson work; the runner awaits each result."""

    async def start(self, limiter: Limiter) -> None:
        """Get ready before the first job (start and warm up workers); ``limiter`` bounds model calls."""
        ...

    async def draft(self, job: DraftJob) -> DraftResult:
        """Draft one lesson (the backend's own errors propagate, for the runner to record)."""
        ...

    async def render(self, job: RenderJob) -> RenderResult:
        """Render one lesson into ``job.folder``; the files written, notes and seconds per format."""
        ...

    def cancel(self, key: str) -> None:
        """Drop the lesson's work still out; its awaiting caller sees the cancellation."""
        ...

    async def close(self) -> None:
        """Cancel what is left and stop every worker; returns when no work runs any longer."""
        ...


@dataclass
class ExecutorContext:
    """What an executor factory is given: the build's library, settings and backend, and its workers."""

    library: Library
    settings: Settings
    backend: LLMBackend
    workers: int = 0  # render processes (0: render in a thread of this process)


ExecutorFactory = Callable[[ExecutorContext], Executor]


def register_executor(name: str) -> Callable[[ExecutorFactory], ExecutorFactory]:
    """Register an executor factory under ``name`` in ``generator.registry.executors`` (a plugin may
    instead name it in the ``hocvu.executors`` entry-point group)."""
    from generator.registry import executors

    return executors.register(name)


def make_executor(name: str, ctx: ExecutorContext) -> Executor:
    """The executor ``name`` (built-in or plugin); NotFoundError listing the registered ones otherwise."""
    from generator.registry import executors

    factory: ExecutorFactory = executors.get(name)
    return factory(ctx)


def render_result(job: RenderJob, data: dict[str, Any]) -> RenderResult:
    """A worker's plain answer ({'files': {format: name}, 'notes', 'timings'}) as a ``RenderResult``."""
    from generator.render import RenderResult

    folder = Path(job.folder)
    return RenderResult({fmt: folder / name for fmt, name in data["files"].items()}, list(data["notes"]),
                        dict(data["timings"]))


class LocalExecutor:
    """Model calls on this event loop (bounded by the limiter), rendering in spawned worker processes that
    end as soon as the build does, however it ends."""

    def __init__(self, ctx: ExecutorContext) -> None:
        self.ctx = ctx
        self._limiter: Limiter | None = None
        self._pool: ProcessPoolExecutor | None = None
        self._out: dict[str, set[asyncio.Future[Any]]] = {}
        self._closed = False

    async def start(self, limiter: Limiter) -> None:
        """Start the render workers (warming them up while the first calls are out) and the backend."""
        self._limiter = limiter
        loop = asyncio.get_running_loop()
        if self.ctx.workers:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            from generator.batch.worker import start, warm_up

            self._pool = ProcessPoolExecutor(self.ctx.workers, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=start, initargs=(os.getpid(), self.ctx.workers))
            for _ in range(self.ctx.workers):
                loop.run_in_executor(self._pool, warm_up)
        backend = self.ctx.backend
        await asyncio.to_thread(backend.warm_up)

    async def _tracked(self, key: str, work: Awaitable[T]) -> T:
        """Await ``work`` with a handle on it for ``cancel``. A coroutine runs in the caller's own task
        (the handle is that task), so its outcome reaches the caller with no turn of the loop between:
        the breaker hears of a failed call before another lesson's call can go out."""
        if self._closed:  # the build is stopping: nothing new starts
            if asyncio.iscoroutine(work):
                work.close()
            raise asyncio.CancelledError
        handle: asyncio.Future[Any] | None
        handle = asyncio.current_task() if asyncio.iscoroutine(work) else asyncio.ensure_future(work)
        if handle is not None:
            self._out.setdefault(key, set()).add(handle)
        try:
            return await work
        finally:
            out = self._out.get(key)
            if out is not None:
                out.discard(handle)  # type: ignore[arg-type]
                if not out:
                    del self._out[key]

    async def _adraft(self, job: DraftJob) -> DraftResult:
        from generator.drafting.service import build_request

        c = self.ctx
        req = build_request(c.library, job.framework, job.competence, job.level, job.group, job.lang,
                            list(job.passages))
        limiter = self._limiter
        if limiter is None:
            return await c.backend.adraft(req)
        if c.backend.uses_limiter:  # the backend bounds its own calls in flight
            c.backend.limiter = limiter
            return await c.backend.adraft(req)
        async with limiter:
            return await c.backend.adraft(req)

    async def draft(self, job: DraftJob) -> DraftResult:
        """Draft on this event loop."""
        return await self._tracked(job.key, self._adraft(job))

    async def render(self, job: RenderJob) -> RenderResult:
        """Render in a worker process (or a thread, without workers)."""
        from generator.batch.worker import render_job

        if self._closed:
            raise asyncio.CancelledError
        loop = asyncio.get_running_loop()
        data = await self._tracked(job.key, loop.run_in_executor(self._pool, render_job, job))
        return render_result(job, data)

    def cancel(self, key: str) -> None:
        """Cancel the lesson's draft and render futures (work not yet begun in a worker never starts)."""
        for fut in list(self._out.get(key, ())):
            fut.cancel()

    async def close(self) -> None:
        """Cancel every job still out and wait for the workers to stop (the event loop keeps running)."""
        self._closed = True
        for key in list(self._out):
            self.cancel(key)
        pool, self._pool = self._pool, None
        if pool is not None:
            await asyncio.to_thread(pool.shutdown, True, cancel_futures=True)


def make_local(ctx: ExecutorContext) -> Executor:
    """The built-in ``local`` executor (registered in generator.registry)."""
    return LocalExecutor(ctx)
