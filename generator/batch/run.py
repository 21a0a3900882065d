"""Run a batch plan: each lesson's stages in order (draft → check → render → submit), drafting and
rendering done by the build's executor (``generator.batch.executor``), the version made by
``generator.versions.make_version`` as for every other version, failures recorded per lesson,
resumable after any crash.

Resume: every finished draft is cached atomically under ``outputs/builds/cache/<draft-key>.json`` before
rendering, so a rerun never repeats a finished LLM call; a version folder appears only whole (see
``generator.versions``). Staging folders whose owner is gone are removed; a live build's or draft's are
never touched, so builds with overlapping plans can run at once.

Flat memory: a lesson waits for room before it is drafted — at most ``concurrency`` model calls plus a
short queue of drafted lessons waiting to be rendered — so drafting never runs ahead of rendering, and
nothing of a lesson but its outcome is kept once its version is recorded; outcomes are streamed to the
report as they come (``generator.batch.report``).

Truth in reporting: a model-drafted lesson still failing its checks after the last re-ask is 'failed_checks' (it is
rendered and submitted, so a reviewer sees it with its failures, but it is not a cache hit: the next run
asks again); every request of a lesson, failed and retried ones included, is counted with its tokens;
and a circuit breaker stops sending after ``stop_after`` lessons in a row failed with the same
unavailable-server error, marking the rest 'not_attempted'.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import json
import shutil
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from generator import heap
from generator.batch.executor import DraftJob, Executor, ExecutorContext, RenderJob, make_executor
from generator.batch.plan import Plan, PlannedLesson
from generator.batch.report import BuildReport, LessonOutcome, ReportStream
from generator.drafting.backend import DraftRequest, DraftResult, LLMBackend, Meter, SourcePassage, metering
from generator.drafting.checks import CheckResult
from generator.drafting.service import Drafted, assemble, build_request, checks_of
from generator.errors import BackendUnavailableError, HocvuError
from generator.fsutil import remove_stale_staging, write_text_atomic
from generator.lesson import Lesson
from generator.versions import NewVersion, lesson_dir, make_version

if TYPE_CHECKING:
    from generator.config import Settings
    from generator.frameworks import Library
    from generator.render import RenderResult
    from generator.review.store import ReviewStore
    from generator.schema import TargetGroup

STAGES = ("draft", "render", "submit")
#: How often a version thread waiting for its render looks whether the build is stopping (seconds).
STOP_POLL = 0.25
#: Fewest version threads (see ``BatchRunner.render_slots``).
VERSION_THREADS = 8
#: The main process gives freed heap memory back after every this many finished lessons (a trim walks
#: every arena: a few milliseconds on the event loop, not worth paying per lesson).
TRIM_EVERY = 16


class Progress(Protocol):
    """Receives stage events (the CLI shows them); may be called from the build's worker threads."""

    def stage(self, name: str, lesson_id: str, event: str) -> None:
        """``event`` is 'start', 'done' or 'fail'."""
        ...


class _NoProgress:
    def stage(self, name: str, lesson_id: str, event: str) -> None:
        pass


class BuildStopped(Exception):  # noqa: N818 - a signal inside the runner, never shown as an error
    """Raised when a lesson would send a model call after the circuit breaker opened."""


@dataclass
class Breaker:
    """Opens after ``limit`` lessons in a row failed with the same unavailable-server error (0: never)."""

    limit: int = 5
    streak: int = 0
    last: str = ""
    reason: str = ""

    def record(self, error: Exception | None) -> None:
        """A lesson's model calls ended: with success (None) or an error."""
        if not isinstance(error, BackendUnavailableError):
            self.streak, self.last = 0, ""
            return
        message = str(error)
        self.streak = self.streak + 1 if message == self.last else 1
        self.last = message
        if self.limit and self.streak >= self.limit and not self.reason:
            self.reason = (f"stopped after {self.streak} lessons in a row failed with the same error "
                           f"({message}); the rest were not attempted: fix the server and run the build again")


class Gate:
    """The build's bound on model calls in flight, closed for good once the breaker opens."""

    def __init__(self, concurrency: int, breaker: Breaker) -> None:
        self.sem = asyncio.Semaphore(concurrency)
        self.breaker = breaker

    async def __aenter__(self) -> Gate:
        if self.breaker.reason:
            raise BuildStopped(self.breaker.reason)
        await self.sem.acquire()
        if self.breaker.reason:  # it opened while this lesson waited its turn
            self.sem.release()
            raise BuildStopped(self.breaker.reason)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.sem.release()


def draft_key(cache_key: str) -> str:
    """Key of the draft cache entry (the LLM part of the work)."""
    return hashlib.sha256(("draft:" + cache_key).encode()).hexdigest()[:24]


@dataclass
class BatchRunner:
    """Runs one plan. Library functions take objects: the CLI builds them from settings."""

    library: Library
    settings: Settings
    backend: LLMBackend
    store: ReviewStore
    author: str
    retrieve: Callable[[PlannedLesson], tuple[list[SourcePassage], str]] | None = None
    progress: Progress = field(default_factory=_NoProgress)
    render_workers: int = 0  # 0: render in a thread of this process
    reuse_drafts: bool = True  # False (--force): every lesson gets a fresh draft
    accept_failed: bool = False  # True: a cached draft that failed its checks is used as it is
    stop_after: int = 5  # the circuit breaker: lessons in a row failing alike before the build stops
    executor: Executor | None = None  # None: the local executor, with ``render_workers`` processes
    queue: int = 0  # drafted lessons that may wait for rendering (0: as many as render slots)
    breaker: Breaker = field(default_factory=Breaker)
    _executor: Executor | None = None
    _versions: ThreadPoolExecutor | None = None
    _stream: ReportStream | None = None
    _staged: set[Path] = field(default_factory=set)
    _stopping: threading.Event = field(default_factory=threading.Event)
    _helper: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="hocvu-draft"))

    def report_stream(self, report: BuildReport, planned: list[str]) -> ReportStream:
        """Where the live report goes (``outputs/builds/<name>-<time>.jsonl``)."""
        return ReportStream(report, self.outputs / "builds", planned)

    @property
    def outputs(self) -> Path:
        return self.settings.outputs_dir

    @property
    def cache_dir(self) -> Path:
        return self.outputs / "builds" / "cache"

    # -- stages ---------------------------------------------------------------------------------
    async def _draft(self, p: PlannedLesson, out: LessonOutcome) -> Drafted:
        """Stage 'draft' (with retrieval and checks): from the draft cache, or the executor's draft."""
        cached = self.cache_dir / f"{draft_key(p.draft_key or p.cache_key)}.json"
        if self.reuse_drafts and cached.exists():
            data = json.loads(cached.read_text(encoding="utf-8"))
            checks = [CheckResult(**c) for c in data["checks"]]
            if self.accept_failed or all(c.passed for c in checks):
                lesson = Lesson.model_validate(data["lesson"])
                lesson.provenance.cache_key = p.cache_key  # the same draft, maybe rendered in other formats
                return Drafted(lesson, checks)
        loop = asyncio.get_running_loop()
        passages: list[SourcePassage] = []
        sources_hash = ""
        if self.retrieve is not None:
            passages, sources_hash = await loop.run_in_executor(self._helper, self.retrieve, p)
        job = DraftJob(p.cache_key, p.framework, p.competence, p.level, p.group, p.lang, tuple(passages))
        assert self._executor is not None
        try:
            result = await self._executor.draft(job)
        except Exception as exc:
            self.breaker.record(exc)  # at once, before the next lesson's call can go out
            raise
        self.breaker.record(None)
        out.attempts = result.attempts
        req = build_request(self.library, p.framework, p.competence, p.level, p.group, p.lang, passages)
        # One helper thread: off the event loop, without a malloc arena per pool thread.
        return await loop.run_in_executor(self._helper, self._finish_draft, p, req, result, sources_hash, cached)

    def _finish_draft(self, p: PlannedLesson, req: DraftRequest, result: DraftResult, sources_hash: str,
                      cached: Path) -> Drafted:
        """Assemble, check and cache a draft (in a thread, so the event loop keeps dispatching calls)."""
        lesson = assemble(self.library, req, result, sources_hash)
        lesson.provenance.cache_key = p.cache_key
        drafted = Drafted(lesson, checks_of(result, lesson, self.library, self.settings))
        if not drafted.passed and result.usage.calls:
            # Not done: the next run asks the model again (unless it accepts failed lessons). A draft made
            # without a model (the offline composer) would come out the same, so it is kept as before.
            cached.unlink(missing_ok=True)
            return drafted
        write_text_atomic(cached, json.dumps({"lesson": lesson.model_dump(mode="json"),
                                              "checks": [c.to_dict() for c in drafted.checks]},
                                             ensure_ascii=False))
        return drafted

    def _render_fn(self, p: PlannedLesson, loop: asyncio.AbstractEventLoop,
                   staged: list[Path]) -> Callable[..., RenderResult]:
        """The render function ``make_version`` calls (in a version thread): it hands the lesson to the
        executor on the event loop and waits for the files (``staged`` learns the folder)."""
        s = self.settings
        assert self._executor is not None
        executor = self._executor

        def render(lesson: Lesson, group: TargetGroup, folder: Path, formats: list[str], settings: Settings,
                   tts: Any = None) -> RenderResult:
            staged.append(folder)
            self._staged.add(folder)
            if self._stopping.is_set():
                raise BuildStopped("the build is stopping")
            job = RenderJob(p.cache_key, str(folder), lesson.model_dump_json(), group.model_dump_json(),
                            tuple(formats), str(s.workspace),
                            {"tts": s.tts, "tts_fallback": s.tts_fallback, "tts_timeout": s.tts_timeout})
            fut = asyncio.run_coroutine_threadsafe(executor.render(job), loop)
            while True:  # an executor that never answers must not hold the build's stop
                try:
                    return fut.result(timeout=STOP_POLL)
                except concurrent.futures.TimeoutError:
                    if self._stopping.is_set():
                        fut.cancel()
                        raise BuildStopped("the build is stopping") from None

        return render

    async def _version(self, p: PlannedLesson, drafted: Drafted, tell: Callable[[str], None],
                       build: str) -> NewVersion:
        """Stages 'render' and 'submit': the one way a version is made, in a version thread (its file
        writes and store commit stay off the event loop), rendering through the executor."""
        import functools

        loop = asyncio.get_running_loop()
        staged: list[Path] = []
        work = functools.partial(
            make_version, drafted, self.library, self.settings, self.store, author=self.author, kind="draft",
            formats=p.formats, render=self._render_fn(p, loop, staged), cache_key=p.cache_key, on_stage=tell,
            note=f"drafted with {drafted.lesson.provenance.backend} (build {build})")
        try:
            new = await loop.run_in_executor(self._versions, work)
        except asyncio.CancelledError:
            raise  # the thread may still hold the folder: the end of the run removes it
        except BaseException:
            self._staged.difference_update(staged)
            raise
        self._staged.difference_update(staged)  # placed or removed by make_version: nothing kept
        return new

    async def _one(self, p: PlannedLesson, room: asyncio.Semaphore, build: str,
                   finished: list[LessonOutcome]) -> None:
        async with room:  # back-pressure: drafting waits while rendering is behind
            out = LessonOutcome(id=p.id, group=p.group, status="generated")
            with metering() as meter:
                try:
                    await self._stages(p, out, meter, build)
                finally:
                    self._count(out, meter)
        finished.append(out)
        if self._stream is not None:
            self._stream.lesson(out)
        if len(finished) % TRIM_EVERY == 0:  # what the lessons' drafts, checks and records freed goes back
            heap.trim()

    def _count(self, out: LessonOutcome, meter: Meter) -> None:
        """Every request and token of the lesson, whatever became of it."""
        out.requests, out.llm_call = meter.requests, meter.requests > 0
        out.input_tokens, out.output_tokens = meter.input_tokens, meter.output_tokens
        price = self.settings.price(self.backend.model) if meter.requests else {}
        out.cost_usd = (meter.input_tokens * price.get("input", 0.0)
                        + meter.output_tokens * price.get("output", 0.0)) / 1e6

    async def _stages(self, p: PlannedLesson, out: LessonOutcome, meter: Meter, build: str) -> None:
        start = time.perf_counter()
        stage = "draft"

        def tell(name: str) -> None:  # from the version thread, as make_version enters a stage
            nonlocal stage
            if name == "submit":
                if self._stopping.is_set():
                    raise BuildStopped("the build is stopping")
                self.progress.stage("render", p.id, "done")
            stage = name
            self.progress.stage(name, p.id, "start")

        try:
            self.progress.stage("draft", p.id, "start")
            t = time.perf_counter()
            drafted = await self._draft(p, out)
            out.timings["draft"] = time.perf_counter() - t
            if not drafted.passed and meter.requests:  # on the model path, a failed check fails the lesson
                out.failed_checks = [c.name for c in drafted.checks if not c.passed]
                out.error = "; ".join(f"{c.name}: {c.message}" for c in drafted.checks if not c.passed)
            self.progress.stage("draft", p.id, "done")
            new = await self._version(p, drafted, tell, build)
            out.version_dir = str(new.path)
            out.timings.update(new.timings)
            self.progress.stage("submit", p.id, "done")
            if out.failed_checks:
                out.status, out.stage = "failed_checks", "check"
        except BuildStopped as exc:
            out.status, out.stage, out.error = ("not_attempted" if meter.requests == 0 else "failed"), stage, str(exc)
            if out.status == "failed":
                self.progress.stage(stage, p.id, "fail")
        except Exception as exc:  # noqa: BLE001 - one lesson's failure must not stop the others
            out.status, out.stage = "failed", stage
            out.error = str(exc) if isinstance(exc, HocvuError) else f"{type(exc).__name__}: {exc}"
            self.progress.stage(stage, p.id, "fail")
        out.seconds = time.perf_counter() - start

    # -- the whole plan -------------------------------------------------------------------------
    def clean_stale(self, plan: Plan) -> None:
        """Remove the staging folders of the plan's lessons whose owner (a killed run) is gone."""
        for p in plan.lessons:
            remove_stale_staging(lesson_dir(self.outputs, p.id))

    def render_slots(self) -> int:
        """Lessons rendered and recorded at once: two per render worker, so a worker never waits, and at
        least ``VERSION_THREADS``: recording a version is mostly waiting on fsync and the store's commit,
        which threads overlap (with 2 slots of ~50 ms each a build records at most ~40 lessons a second,
        below the 64 a second that 64 calls in flight at 1 s latency bring)."""
        return max(2 * max(1, self.render_workers), VERSION_THREADS)

    async def arun(self, plan: Plan, concurrency: int) -> BuildReport:
        """Run every lesson of ``plan`` whose status is 'generate'."""
        report = BuildReport(plan.spec.name, plan.backend, plan.model, time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                                     time.gmtime()))
        start = time.perf_counter()
        heap.tune()  # before the version threads start: two arenas, large blocks given back when freed
        self.clean_stale(plan)
        self.breaker = Breaker(self.stop_after)
        self._stopping.clear()
        gate = Gate(concurrency, self.breaker)
        todo = [p for p in plan.lessons if p.status == "generate"]
        report.lessons = [LessonOutcome(id=p.id, group=p.group, status="cached" if p.status == "cached" else "skipped")
                          for p in plan.lessons if p.status != "generate"]
        stream = self._stream = self.report_stream(report, [p.id for p in todo])
        for x in report.lessons:
            stream.lesson(x)
        self._executor = self.executor or make_executor(
            "local", ExecutorContext(self.library, self.settings, self.backend, self.render_workers))
        slots = self.render_slots()
        self._versions = ThreadPoolExecutor(slots, thread_name_prefix="hocvu-version")
        room = asyncio.Semaphore(concurrency + (self.queue or slots))
        finished: list[LessonOutcome] = []
        tasks: dict[asyncio.Future[None], str] = {}
        try:
            if todo:
                await self._executor.start(gate)
            tasks = {asyncio.ensure_future(self._one(p, room, plan.spec.name, finished)): p.cache_key
                     for p in todo}
            await asyncio.gather(*tasks)  # _one records its own failures; only cancellation escapes
        except asyncio.CancelledError:
            report.interrupted = True
            raise
        finally:
            done = {x.id for x in finished}
            await self._stop(tasks, [p.cache_key for p in todo if p.id not in done])
            done = {x.id for x in finished}
            unfinished = [LessonOutcome(id=p.id, group=p.group, status="unfinished",
                                        error="the build was interrupted before this lesson was recorded")
                          for p in todo if p.id not in done]
            for x in unfinished:
                stream.lesson(x)
            report.lessons += finished + unfinished
            report.seconds = time.perf_counter() - start
            report.stopped = self.breaker.reason
            report.method = self.backend.method_in_use() if hasattr(self.backend, "method_in_use") else ""
            order = {p.id: i for i, p in enumerate(plan.lessons)}
            report.lessons.sort(key=lambda x: order.get(x.id, 0))
            stream.end(report)
            self._stream = None
            try:
                report.write(self.outputs / "builds")
            except OSError as exc:  # e.g. a full disk: the per-lesson results must still reach the user
                report.write_error = (f"{exc.strerror or exc} ({self.outputs / 'builds'}); "
                                      f"free some space — every finished version is kept")
        return report

    async def _stop(self, tasks: dict[asyncio.Future[None], str], unfinished: list[str]) -> None:
        """End the run: lessons still in flight are cancelled (their work at the executor too), its
        workers end, the version threads finish, and no half-made staging folder of this run is left."""
        self._stopping.set()
        if self._executor is not None:
            for key in unfinished:
                self._executor.cancel(key)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._executor is not None:
            await self._executor.close()
            self._executor = None
        if self._versions is not None:
            await asyncio.to_thread(self._versions.shutdown, True, cancel_futures=True)
            self._versions = None
        # A cancelled lesson drops its staging folder at once, while a worker may still be writing
        # into it; now that the workers have stopped, none of this run's half-made folders is left.
        for tmp in list(self._staged):
            shutil.rmtree(tmp, ignore_errors=True)
        self._staged.clear()


def render_workers_default() -> int:
    """Worker processes for rendering: one per core this process may use (``--workers`` overrides)."""
    from generator.machine import cpu_count

    return cpu_count()
