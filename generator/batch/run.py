"""Run a batch plan: LLM calls concurrently (bounded), rendering in a worker pool, each lesson's stages
in order (draft → check → render → submit), failures recorded per lesson, resumable after any crash.

Resume: every finished draft is cached atomically under ``outputs/builds/cache/<draft-key>.json`` before
rendering, so a rerun never repeats a finished LLM call; a version folder appears only whole (staged in a
hidden folder that names its owning process, then renamed to the number the store gives it, see
``generator.review.versioning``). Staging folders whose owner is gone are removed; a live build's or
draft's are never touched, so builds with overlapping plans can run at once.

Truth in reporting: a model-drafted lesson still failing its checks after the last re-ask is 'failed_checks' (it is
rendered and submitted, so a reviewer sees it with its failures, but it is not a cache hit: the next run
asks again); every request of a lesson, failed and retried ones included, is counted with its tokens;
and a circuit breaker stops sending after ``stop_after`` lessons in a row failed with the same
unavailable-server error, marking the rest 'not_attempted'.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from generator.batch.plan import Plan, PlannedLesson
from generator.drafting.backend import DraftRequest, DraftResult, LLMBackend, Meter, SourcePassage, metering
from generator.drafting.checks import CheckResult
from generator.drafting.service import (
    Drafted,
    assemble,
    build_request,
    check_lesson,
    discard_staging,
    draft_dir,
    fill_version,
)
from generator.errors import BackendUnavailableError, HocvuError
from generator.fsutil import remove_stale_staging, write_text_atomic
from generator.lesson import Lesson
from generator.review.versioning import place_and_record
from generator.review.versioning import stage as stage_version

if TYPE_CHECKING:
    from generator.config import Settings
    from generator.frameworks import Library

STAGES = ("draft", "render", "submit")
#: Outcomes that make a build exit 3.
FAILURES = ("failed", "failed_checks", "not_attempted")


class VersionSink(Protocol):
    """Where finished versions go (the review store)."""

    def submit(self, lesson: Lesson, checks: list[CheckResult], version_dir: Path,
               artifacts: dict[str, Path]) -> str:
        """Record a new version (in review); returns a short status line."""
        ...

    def next_number(self, lesson_id: str) -> int:
        """The number the next version of ``lesson_id`` will get (its folder is ``v<N>``)."""
        ...


class Progress(Protocol):
    """Receives stage events (the CLI shows them with Rich)."""

    def stage(self, name: str, lesson_id: str, event: str) -> None:
        """``event`` is 'start', 'done' or 'fail'."""
        ...


class _NoProgress:
    def stage(self, name: str, lesson_id: str, event: str) -> None:
        pass


@dataclass
class LessonOutcome:
    """What happened to one planned lesson."""

    id: str
    group: str
    status: str  # generated | cached | failed | failed_checks | not_attempted | skipped
    stage: str = ""
    error: str = ""
    version_dir: str = ""
    llm_call: bool = False
    requests: int = 0  # HTTP requests to the model server, SDK retries and failed attempts included
    attempts: int = 0  # replies asked for (1 + re-asks)
    failed_checks: list[str] = field(default_factory=list)
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)


@dataclass
class BuildReport:
    """A batch run's results."""

    name: str
    backend: str
    model: str
    started_at: str
    seconds: float = 0.0
    interrupted: bool = False
    stopped: str = ""  # why the circuit breaker stopped the build ("" when it did not)
    lessons: list[LessonOutcome] = field(default_factory=list)
    path: Path | None = None
    write_error: str = ""  # why the JSON report could not be written (the results are still reported)

    def count(self, status: str) -> int:
        """Lessons with ``status``."""
        return sum(1 for x in self.lessons if x.status == status)

    @property
    def llm_calls(self) -> int:
        """Requests sent to the model server in this run (retries, re-asks and failed ones included)."""
        return sum(x.requests for x in self.lessons)

    @property
    def ok(self) -> bool:
        """True when every planned lesson was generated or cached and passed its checks."""
        return not any(x.status in FAILURES for x in self.lessons)

    def totals(self) -> dict[str, Any]:
        """Summary figures."""
        return {
            "planned": len(self.lessons), "generated": self.count("generated"), "cached": self.count("cached"),
            "failed": self.count("failed"), "failed_checks": self.count("failed_checks"),
            "not_attempted": self.count("not_attempted"), "skipped": self.count("skipped"),
            "llm_calls": self.llm_calls,
            "reasks": sum(max(0, x.attempts - 1) for x in self.lessons),
            "input_tokens": sum(x.input_tokens for x in self.lessons),
            "output_tokens": sum(x.output_tokens for x in self.lessons),
            "cost_usd": round(sum(x.cost_usd for x in self.lessons), 6), "seconds": round(self.seconds, 3),
        }

    def to_json(self) -> str:
        """The JSON report."""
        from dataclasses import asdict

        return json.dumps({"name": self.name, "backend": self.backend, "model": self.model,
                           "started_at": self.started_at, "interrupted": self.interrupted,
                           "stopped": self.stopped,
                           "totals": self.totals(), "lessons": [asdict(x) for x in self.lessons]},
                          ensure_ascii=False, indent=2)


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
    sink: VersionSink
    retrieve: Callable[[PlannedLesson], tuple[list[SourcePassage], str]] | None = None
    progress: Progress = field(default_factory=_NoProgress)
    render_workers: int = 0  # 0: render in a thread of this process
    reuse_drafts: bool = True  # False (--force): every lesson gets a fresh draft
    accept_failed: bool = False  # True: a cached draft that failed its checks is used as it is
    stop_after: int = 5  # the circuit breaker: lessons in a row failing alike before the build stops
    breaker: Breaker = field(default_factory=Breaker)
    _pool: Executor | None = None
    _staged: set[Path] = field(default_factory=set)
    _helper: Executor = field(default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="hocvu-draft"))

    @property
    def outputs(self) -> Path:
        return self.settings.outputs_dir

    @property
    def cache_dir(self) -> Path:
        return self.outputs / "builds" / "cache"

    # -- stages ---------------------------------------------------------------------------------
    async def _draft(self, p: PlannedLesson, gate: Gate, out: LessonOutcome) -> Drafted:
        """Stage 'draft' (with retrieval and checks): from the draft cache, or one backend call."""
        cached = self.cache_dir / f"{draft_key(p.draft_key or p.cache_key)}.json"
        if self.reuse_drafts and cached.exists():
            data = json.loads(cached.read_text(encoding="utf-8"))
            checks = [CheckResult(**c) for c in data["checks"]]
            if self.accept_failed or all(c.passed for c in checks):
                lesson = Lesson.model_validate(data["lesson"])
                lesson.provenance.cache_key = p.cache_key  # the same draft, maybe rendered in other formats
                return Drafted(lesson, checks)
        req = build_request(self.library, p.framework, p.competence, p.level, p.group, p.lang)
        sources_hash = ""
        if self.retrieve is not None:
            loop = asyncio.get_running_loop()
            req.passages, sources_hash = await loop.run_in_executor(self._helper, self.retrieve, p)
        try:
            if self.backend.uses_limiter:  # the backend bounds its own calls in flight
                self.backend.limiter = gate
                result = await self.backend.adraft(req)
            else:
                async with gate:
                    result = await self.backend.adraft(req)
        except Exception as exc:
            self.breaker.record(exc)  # at once, before the next lesson's call can go out
            raise
        self.breaker.record(None)
        out.attempts = result.attempts
        # One helper thread: off the event loop, without a malloc arena per pool thread.
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._helper, self._finish_draft, p, req, result, sources_hash, cached)

    def _finish_draft(self, p: PlannedLesson, req: DraftRequest, result: DraftResult, sources_hash: str,
                      cached: Path) -> Drafted:
        """Assemble, check and cache a draft (in a thread, so the event loop keeps dispatching calls)."""
        lesson = assemble(self.library, req, result, sources_hash)
        lesson.provenance.cache_key = p.cache_key
        drafted = Drafted(lesson, check_lesson(lesson, self.library, self.settings))
        if not drafted.passed and result.usage.calls:
            # Not done: the next run asks the model again (unless it accepts failed lessons). A draft made
            # without a model (the offline composer) would come out the same, so it is kept as before.
            cached.unlink(missing_ok=True)
            return drafted
        write_text_atomic(cached, json.dumps({"lesson": lesson.model_dump(mode="json"),
                                              "checks": [c.to_dict() for c in drafted.checks]},
                                             ensure_ascii=False))
        return drafted

    async def _render(self, p: PlannedLesson, drafted: Drafted, tmp: Path) -> dict[str, Any]:
        """Stage 'render': every format into the staging folder, in the worker pool."""
        from generator.batch.worker import render_into

        s = self.settings
        args = (str(tmp), drafted.lesson.model_dump_json(), self.library.group(p.group).model_dump_json(),
                p.formats, str(s.workspace), {"tts": s.tts, "tts_fallback": s.tts_fallback,
                                              "tts_timeout": s.tts_timeout})
        if self._pool is None:
            return await asyncio.to_thread(render_into, *args)
        return await asyncio.get_running_loop().run_in_executor(self._pool, render_into, *args)

    async def _one(self, p: PlannedLesson, gate: Gate) -> LessonOutcome:
        out = LessonOutcome(id=p.id, group=p.group, status="generated")
        with metering() as meter:
            try:
                return await self._stages(p, gate, out, meter)
            finally:
                self._count(out, meter)

    def _count(self, out: LessonOutcome, meter: Meter) -> None:
        """Every request and token of the lesson, whatever became of it."""
        out.requests, out.llm_call = meter.requests, meter.requests > 0
        out.input_tokens, out.output_tokens = meter.input_tokens, meter.output_tokens
        price = self.settings.price(self.backend.model) if meter.requests else {}
        out.cost_usd = (meter.input_tokens * price.get("input", 0.0)
                        + meter.output_tokens * price.get("output", 0.0)) / 1e6

    async def _stages(self, p: PlannedLesson, gate: Gate, out: LessonOutcome, meter: Meter) -> LessonOutcome:
        start = time.perf_counter()
        stage = "draft"
        tmp: Path | None = None
        try:
            self.progress.stage("draft", p.id, "start")
            t = time.perf_counter()
            drafted = await self._draft(p, gate, out)
            out.timings["draft"] = time.perf_counter() - t
            if not drafted.passed and meter.requests:  # on the model path, a failed check fails the lesson
                out.failed_checks = [c.name for c in drafted.checks if not c.passed]
                out.error = "; ".join(f"{c.name}: {c.message}" for c in drafted.checks if not c.passed)
            self.progress.stage("draft", p.id, "done")

            stage = "render"
            self.progress.stage("render", p.id, "start")
            t = time.perf_counter()
            tmp = stage_version(self.outputs, p.id)
            self._staged.add(tmp)
            rendered = await self._render(p, drafted, tmp)
            if rendered["notes"]:
                drafted.lesson.provenance.notes.extend(rendered["notes"])
            fill_version(tmp, drafted)
            out.timings["render"] = time.perf_counter() - t
            out.timings.update({f"render.{k}": v for k, v in rendered["timings"].items()})
            self.progress.stage("render", p.id, "done")

            stage = "submit"
            self.progress.stage("submit", p.id, "start")
            t = time.perf_counter()
            files = rendered["files"]
            final, _ = place_and_record(
                tmp,
                lambda: self.sink.next_number(p.id),
                lambda final: self.sink.submit(drafted.lesson, drafted.checks, final,
                                               {fmt: final / name for fmt, name in files.items()}),
            )
            out.version_dir = str(final)
            out.timings["submit"] = time.perf_counter() - t
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
        finally:
            if tmp is not None:
                discard_staging(tmp)  # gone already when it was placed
        out.seconds = time.perf_counter() - start
        return out

    # -- the whole plan -------------------------------------------------------------------------
    def clean_stale(self, plan: Plan) -> None:
        """Remove the staging folders of the plan's lessons whose owner (a killed run) is gone."""
        for p in plan.lessons:
            remove_stale_staging(draft_dir(self.outputs, p.id))

    async def arun(self, plan: Plan, concurrency: int) -> BuildReport:
        """Run every lesson of ``plan`` whose status is 'generate'."""
        report = BuildReport(plan.spec.name, plan.backend, plan.model, time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                                     time.gmtime()))
        start = time.perf_counter()
        self.clean_stale(plan)
        self.breaker = Breaker(self.stop_after)
        gate = Gate(concurrency, self.breaker)
        todo = [p for p in plan.lessons if p.status == "generate"]
        report.lessons = [LessonOutcome(id=p.id, group=p.group, status="cached" if p.status == "cached" else "skipped")
                          for p in plan.lessons if p.status != "generate"]
        if self.render_workers and todo:
            import multiprocessing

            from generator.batch.worker import warm_up, watch_parent

            self._pool = ProcessPoolExecutor(self.render_workers, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=watch_parent, initargs=(os.getpid(),))
            loop = asyncio.get_running_loop()
            for _ in range(self.render_workers):  # start the workers now, while the first calls are out
                loop.run_in_executor(self._pool, warm_up)
        if todo:
            await asyncio.get_running_loop().run_in_executor(self._helper, self.backend.warm_up)
        tasks = [asyncio.ensure_future(self._one(p, gate)) for p in todo]
        try:
            await asyncio.gather(*tasks)  # _one records its own failures; only cancellation escapes
        except asyncio.CancelledError:
            report.interrupted = True
            for t in tasks:
                t.cancel()
            raise
        finally:
            report.lessons += [t.result() for t in tasks if t.done() and not t.cancelled() and t.exception() is None]
            if self._pool is not None:
                self._pool.shutdown(wait=True, cancel_futures=True)
                self._pool = None
            # A cancelled lesson drops its staging folder at once, while a worker may still be writing
            # into it; now that the workers have stopped, none of this run's half-made folders is left.
            for tmp in self._staged:
                shutil.rmtree(tmp, ignore_errors=True)
            self._staged.clear()
            report.seconds = time.perf_counter() - start
            report.stopped = self.breaker.reason
            order = {p.id: i for i, p in enumerate(plan.lessons)}
            report.lessons.sort(key=lambda x: order.get(x.id, 0))
            try:
                self.write_report(report)
            except OSError as exc:  # e.g. a full disk: the per-lesson results must still reach the user
                report.write_error = (f"{exc.strerror or exc} ({self.outputs / 'builds'}); "
                                      f"free some space — every finished version is kept")
        return report

    def write_report(self, report: BuildReport) -> Path:
        """Write the JSON report to ``outputs/builds/<name>-<time>.json``."""
        stamp = report.started_at.replace(":", "").replace("-", "")
        path = self.outputs / "builds" / f"{report.name}-{stamp}.json"
        write_text_atomic(path, report.to_json())
        report.path = path
        return path


def render_workers_default() -> int:
    """Worker processes for rendering: one per core, at most two (each holds ~100 MB of libraries)."""
    return min(2, os.cpu_count() or 1)
