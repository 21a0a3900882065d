"""``hocvu worker``: run the generation jobs queued in the review store (from the web app's "Soạn bài"
page), on this machine or fanned out to Celery workers."""

from __future__ import annotations

import signal
import threading
from typing import Annotated, Any, Optional

import typer

from generator.cli.common import State, err_console


def worker(
    executor: Annotated[Optional[str], typer.Option(  # noqa: UP045 - typer needs Optional here
        "--executor", "-e", help="Where jobs run: local (this process, the default) or celery (lessons fanned "
        "out to Celery workers over Redis; also starts a Celery worker here). Default: HOCVU_EXECUTOR, "
        "else local.")] = None,
    once: Annotated[bool, typer.Option("--once", help="Run the queued jobs, then exit when the queue is "
                                       "empty (local executor).")] = False,
    concurrency: Annotated[int, typer.Option("--concurrency", min=1, max=64, help="Celery only: draft and "
                                             "render tasks this machine runs at once.")] = 2,
    parent: Annotated[Optional[int], typer.Option(  # noqa: UP045
        "--parent-pid", hidden=True, help="Stop when this process ends (hocvu serve sets it).")] = None,
) -> None:
    """Run generation jobs from the queue until stopped (Ctrl+C puts a running job back for the next worker)."""
    from generator.jobs.queue import JobQueue
    from generator.jobs.settings import executor_names, load_job_settings
    from generator.jobs.worker import local_runner, work
    from generator.review.store import ReviewStore

    job_settings = load_job_settings()
    chosen = executor or job_settings.executor
    if chosen not in executor_names():
        err_console().print(f"error: unknown executor {chosen!r}; choose one of: {', '.join(executor_names())}")
        raise typer.Exit(2)
    settings = State.settings()
    store = ReviewStore.open(settings)
    queue = JobQueue(store.engine)
    stop = threading.Event()

    def request_stop(signum: int, frame: object) -> None:
        stop.set()

    if chosen == "celery":
        _celery(settings, store, queue, job_settings, concurrency, once, parent, stop)
        return
    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    err_console().print(f"hocvu worker (local) on {settings.workspace}; waiting for jobs"
                        + ("" if once else "; stop with Ctrl+C"))
    try:
        n = work(queue, local_runner(settings, store), job_settings, stop=stop, once=once, parent=parent,
                 on_job=_said)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        store.close()
    err_console().print(f"worker stopped after {n} job{'s' if n != 1 else ''}")


def _said(job: Any, state: str) -> None:
    err_console().print(f"job {job.id} {job.name}: {state}")


def _celery(settings: Any, store: Any, queue: Any, job_settings: Any, concurrency: int, once: bool,
            parent: int | None, stop: threading.Event) -> None:
    """A Celery worker for draft and render tasks in the main thread (it handles the signals) and, in a
    thread beside it, a job coordinator: it claims celery jobs and runs their batch build, whose
    executor sends the lessons' tasks to every Celery worker. When the Celery worker stops, so does
    the coordinator (its job goes back to the queue for another worker)."""
    from generator.jobs.celery_tasks import run_celery_worker
    from generator.jobs.queue import worker_name
    from generator.jobs.worker import local_runner, work

    run = local_runner(settings, store)
    coordinator = threading.Thread(
        target=work, args=(queue, run, job_settings),
        kwargs={"executor": "celery", "stop": stop, "once": once, "parent": parent, "on_job": _said},
        name="hocvu-coordinator", daemon=True)
    coordinator.start()
    err_console().print(f"hocvu worker (celery, {concurrency} lesson tasks at once) on {settings.workspace}, "
                        f"broker {job_settings.redis_url}; stop with Ctrl+C")
    try:
        run_celery_worker(settings, job_settings, concurrency, f"hocvu-{worker_name()}")
    finally:
        stop.set()
        coordinator.join()
        store.close()


def register(app: typer.Typer) -> None:
    """Add ``worker`` to the root command."""
    app.command("worker")(worker)
