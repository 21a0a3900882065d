"""The worker loop: claim a job, run it, look again; what ``hocvu worker`` runs (``hocvu serve`` starts
one as its own process, so jobs never run inside the web process)."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from generator.jobs.queue import JobQueue, worker_name

if TYPE_CHECKING:
    from generator.config import Settings
    from generator.frameworks import Library
    from generator.jobs.queue import Job
    from generator.jobs.settings import JobSettings
    from generator.review.store import ReviewStore

log = logging.getLogger("hocvu.worker")

#: Runs one claimed job to its end; returns the state it ended in.
JobRunner = Callable[["Job", JobQueue, threading.Event], str]


def local_runner(settings: Settings, store: ReviewStore, library: Library | None = None) -> JobRunner:
    """Jobs run through the batch build in this process, on the job's executor (``local``: here;
    ``celery``: its drafts and renders on the Celery workers); the library is read afresh for each job (a
    group saved in the web app since the worker started is known), unless one is given."""
    from generator.frameworks import Library
    from generator.jobs.runner import run_job

    def run(job: Job, queue: JobQueue, stop: threading.Event) -> str:
        return run_job(job, queue, settings, library or Library(settings.workspace), store, stop)

    return run


def work(queue: JobQueue, run: JobRunner, job_settings: JobSettings, *, executor: str = "local",
         stop: threading.Event | None = None, once: bool = False, parent: int | None = None,
         on_job: Callable[[Job, str], None] | None = None) -> int:
    """Claim and run jobs of ``executor`` until ``stop`` is set (or, with ``once``, until the queue is
    empty); returns how many jobs ran. With ``parent``, stop when that process is gone (``hocvu serve``
    was killed)."""
    stop = stop or threading.Event()
    if parent is not None:
        _watch_parent(parent, stop)
    me = worker_name()
    ran = 0
    while not stop.is_set():
        job = queue.claim(me, executor, job_settings.stale_after)
        if job is None:
            if once:
                break
            stop.wait(job_settings.worker_poll)
            continue
        log.info("job %s (%s) claimed by %s", job.id, job.name, me)
        state = run(job, queue, stop)
        ran += 1
        log.info("job %s ended: %s", job.id, state)
        if on_job is not None:
            on_job(job, state)
    return ran


def _watch_parent(parent: int, stop: threading.Event) -> None:
    def watch() -> None:
        while not stop.wait(0.5):
            if os.getppid() != parent:
                stop.set()

    threading.Thread(target=watch, name="hocvu-worker-parent", daemon=True).start()
