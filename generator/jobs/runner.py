"""Run one claimed job on this machine: plan it, run the batch build, and keep the job row current.

A watcher thread writes the progress to the row every ``beat`` seconds (that is also the worker's
heartbeat) and reads the cancel flag. Cancelling stops the build the way Ctrl+C does: lessons in
flight are cancelled, and a version appears only whole (``place_and_record`` renames a finished staging
folder and records it in one step that a cancel cannot split), so a cancelled job leaves every finished
version and no half one. The staging folders of the cancelled lessons are removed once the render
threads have stopped.
"""

from __future__ import annotations

import asyncio
import shutil
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from generator.errors import HocvuError
from generator.fsutil import STAGING_PREFIX, owner_tag
from generator.jobs.progress import JobProgress

if TYPE_CHECKING:
    from generator.batch.plan import Plan
    from generator.config import Settings
    from generator.frameworks import Library
    from generator.jobs.queue import Job, JobQueue
    from generator.review.store import ReviewStore


@dataclass
class _Stopper:
    """Cancels the build's event loop from the watcher thread (the loop is learnt from the first event)."""

    loop: asyncio.AbstractEventLoop | None = None
    wanted: bool = False
    reason: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def seen(self, loop: asyncio.AbstractEventLoop) -> None:
        with self.lock:
            first = self.loop is None
            self.loop = loop
        if first and self.wanted:
            self._cancel()

    def stop(self, reason: str) -> None:
        with self.lock:
            if self.wanted:
                return
            self.wanted, self.reason = True, reason
        if self.loop is not None:
            self._cancel()

    def _cancel(self) -> None:
        loop = self.loop
        assert loop is not None

        def cancel_all() -> None:
            for task in asyncio.all_tasks(loop):
                task.cancel()

        try:
            loop.call_soon_threadsafe(cancel_all)
        except RuntimeError:  # the loop has closed: the build is over anyway
            pass


class _WatchedProgress(JobProgress):
    """JobProgress that also tells the stopper which event loop runs the build."""

    def __init__(self, plan: Plan, stopper: _Stopper) -> None:
        super().__init__(plan)
        self.stopper = stopper

    def stage(self, name: str, lesson_id: str, event: str) -> None:
        if self.stopper.loop is None:
            self.stopper.seen(asyncio.get_running_loop())
        super().stage(name, lesson_id, event)


def report_dict(report: Any) -> dict[str, Any]:
    """A BuildReport as stored on the job: totals, and every lesson with its outcome and stage."""
    import json

    data: dict[str, Any] = json.loads(report.to_json())
    data["path"] = str(report.path) if report.path else ""
    data["ok"] = report.ok
    return data


def run_job(job: Job, queue: JobQueue, settings: Settings, library: Library, store: ReviewStore,
            stop: threading.Event | None = None, beat: float = 0.5) -> str:
    """Run ``job`` (claimed by this process) to its end; returns the state it ended in. ``stop`` set by
    the worker (it is shutting down) puts the job back in the queue for another worker to resume."""
    from generator.batch.build import plan_build, run_build

    stop = stop or threading.Event()
    try:
        plan = plan_build(job.spec, library, settings, store)
    except HocvuError as exc:
        queue.finish(job.id, "failed", error=f"plan: {exc}")
        return "failed"
    stopper = _Stopper()
    progress = _WatchedProgress(plan, stopper)
    done = threading.Event()
    cancelled_by_user = threading.Event()

    def watch() -> None:
        # Every beat: the progress and the heartbeat in one write, and the cancel flag read back.
        while not done.wait(beat):
            try:
                asked = queue.progress(job.id, progress.snapshot())
            except HocvuError:  # the store is busy for a moment: the next beat writes again
                continue
            if asked:
                cancelled_by_user.set()
                stopper.stop("cancelled")
            elif stop.is_set():
                stopper.stop("worker stopping")

    watcher = threading.Thread(target=watch, name=f"hocvu-job-{job.id}", daemon=True)
    if queue.cancel_requested(job.id):
        queue.finish(job.id, "cancelled", progress=progress.snapshot())
        return "cancelled"
    watcher.start()
    try:
        report = run_build(plan, library, settings, store, job.created_by, job.spec.concurrency, progress,
                           render_workers=_render_workers(job.executor), executor=job.executor)
    except (asyncio.CancelledError, KeyboardInterrupt):
        done.set()
        watcher.join()
        _remove_own_staging(settings, plan)
        if cancelled_by_user.is_set() or not stop.is_set():
            queue.finish(job.id, "cancelled", report=_partial(progress), progress=progress.snapshot())
            return "cancelled"
        queue.release(job.id)
        return "queued"
    except Exception as exc:  # noqa: BLE001 - any crash of the build is the job's failure, recorded
        done.set()
        watcher.join()
        _remove_own_staging(settings, plan)
        message = str(exc) if isinstance(exc, HocvuError) else f"{type(exc).__name__}: {exc}"
        queue.finish(job.id, "failed", error=message, progress=progress.snapshot())
        return "failed"
    done.set()
    watcher.join()
    data = report_dict(report)
    state = "done" if report.ok else "failed"
    error = report.stopped or (None if report.ok else _failures_line(data))
    queue.finish(job.id, state, report=data, error=error, progress=progress.snapshot())
    return state


def _render_workers(executor: str) -> int:
    """Render processes of a local job (0: a thread of the worker, as before); for another executor, the
    renders kept out at its workers at once (the runner allows two per render worker)."""
    if executor == "local":
        return 0
    from generator.jobs.settings import load_job_settings

    return max(1, load_job_settings().remote_renders // 2)


def _partial(progress: JobProgress) -> dict[str, Any]:
    snap = progress.snapshot()
    return {"cancelled": True, "totals": {"planned": snap.get("planned", 0), "finished": snap["finished"],
                                          "cached": snap.get("cached", 0)}, "lessons": [], "ok": False}


def _failures_line(report: dict[str, Any]) -> str:
    t = report.get("totals", {})
    return (f"{t.get('failed', 0)} failed, {t.get('failed_checks', 0)} failed their checks, "
            f"{t.get('not_attempted', 0)} not attempted")


def _remove_own_staging(settings: Settings, plan: Plan) -> None:
    """Remove the staging folders this process made for the plan's lessons (the build was cancelled and
    its render threads have stopped, so nothing writes into them any more)."""
    from generator.versions import lesson_dir as draft_dir

    mine = f"{STAGING_PREFIX}{owner_tag()}-"
    for p in plan.lessons:
        base = draft_dir(settings.outputs_dir, p.id)
        if base.is_dir():
            for folder in base.glob(f"{mine}*"):
                shutil.rmtree(folder, ignore_errors=True)
