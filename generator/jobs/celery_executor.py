"""The Celery executor: a job fanned out into one task per lesson, run by Celery workers over Redis.

    hocvu worker --executor celery   (any number, on any machine sharing the store and the outputs folder)
      ├─ a Celery worker (thread pool) consuming lesson tasks from the queue ``hocvu-lessons``
      └─ a coordinator thread: claims a celery job from the store, plans it, sends one task per lesson to
         generate, and writes the job's progress from Redis until every lesson has an outcome

A lesson task is keyed by the lesson's cache key and is idempotent: under the lesson's lock in Redis it
looks the key up in the store and does nothing when a version with it exists. Tasks are acknowledged
late (``acks_late``, ``reject_on_worker_lost``), so a worker killed mid-lesson has its task delivered again
after ``HOCVU_CELERY_VISIBILITY`` seconds; the draft cache means a finished model call is not repeated,
and a version folder appears only whole and recorded once. A task whose model server was unavailable is
retried ``HOCVU_TASK_RETRIES`` times with backoff. Model calls of all workers share one limit in Redis
(``generator.jobs.ratelimit``), which honours Retry-After for everyone.

Outcomes go to a Redis hash per job (first outcome per lesson wins), stage events to another: the
coordinator needs no result backend. A coordinator that dies leaves its job silent; another worker takes
it over after ``HOCVU_STALE_AFTER`` seconds and sends the tasks of lessons without an outcome again.

What this module needs from the batch build (the seam ``generator.batch`` exposes at merge): a runner that
takes a plan of lessons and objects (library, settings, backend, sink, retrieve, progress) and runs them —
today ``BatchRunner(...).arun(plan, concurrency)`` with ``write_report`` overridable — plus ``plan_build``,
``StoreSink.statuses`` and ``make_backend``. Nothing else.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from generator.batch.run import BatchRunner, BuildReport, LessonOutcome
from generator.errors import ConfigError, HocvuError

if TYPE_CHECKING:
    from collections.abc import Iterator

    from generator.config import Settings
    from generator.jobs.queue import Job, JobQueue
    from generator.jobs.settings import JobSettings
    from generator.jobs.worker import JobRunner
    from generator.review.store import ReviewStore

QUEUE = "hocvu-lessons"
TASK = "hocvu.build_lesson"
#: How long the job's keys stay in Redis after their last write (seconds).
KEEP = 7 * 24 * 3600
LOCK_TTL = 30


def outcomes_key(job_id: int) -> str:
    """Redis hash: cache key -> the lesson's outcome (JSON)."""
    return f"hocvu:job:{job_id}:outcomes"


def stages_key(job_id: int) -> str:
    """Redis hash: '<stage>.<event>' -> count."""
    return f"hocvu:job:{job_id}:stages"


def cancel_key(job_id: int) -> str:
    """Set while the job is being cancelled: tasks not yet started end at once."""
    return f"hocvu:job:{job_id}:cancel"


@dataclass
class _Context:
    """What the tasks of this process run with (set by ``configure``)."""

    settings: Settings
    job_settings: JobSettings
    app: Any
    redis: Any
    store: ReviewStore | None = None
    #: The library each recent job's tasks use, read once per job and process (frameworks, groups and
    #: content are a few MB of YAML: reading them per lesson would cost more than drafting it).
    libraries: dict[int, Any] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def library(self, job_id: int) -> Any:
        from generator.frameworks import Library

        with self.lock:
            if job_id not in self.libraries:
                while len(self.libraries) >= 4:
                    self.libraries.pop(next(iter(self.libraries)))
                self.libraries[job_id] = Library(self.settings.workspace)
            return self.libraries[job_id]

    def review_store(self) -> ReviewStore:
        if self.store is None:
            from generator.review.store import ReviewStore

            self.store = ReviewStore.open(self.settings)
        return self.store


_CONTEXT: _Context | None = None


def make_redis(url: str) -> Any:
    """A Redis client for ``url``; ConfigError with what to do when Redis does not answer."""
    import redis

    client = redis.Redis.from_url(url, socket_timeout=30, health_check_interval=30)
    try:
        client.ping()
    except redis.RedisError as exc:
        raise ConfigError("cannot reach Redis at {url}: {problem}; start redis-server or set HOCVU_REDIS_URL",
                          url=url, problem=exc) from exc
    return client


def make_app(job_settings: JobSettings) -> Any:
    """The Celery app over Redis, with the lesson task registered."""
    from celery import Celery

    url = job_settings.redis_url
    app = Celery("hocvu", broker=url, set_as_current=False)
    app.conf.update(
        task_acks_late=True, task_reject_on_worker_lost=True, worker_prefetch_multiplier=1,
        task_default_queue=QUEUE, task_serializer="json", accept_content=["json"], task_ignore_result=True,
        broker_transport_options={"visibility_timeout": job_settings.celery_visibility},
        broker_connection_retry_on_startup=True, worker_hijack_root_logger=False,
        worker_send_task_events=False, task_send_sent_event=False,
    )
    app.task(name=TASK, bind=True, acks_late=True, reject_on_worker_lost=True,
             max_retries=job_settings.task_retries)(build_lesson_task)
    return app


def configure(settings: Settings, job_settings: JobSettings) -> _Context:
    """Set up this process for the Celery executor: Redis, the app, the settings tasks run with."""
    global _CONTEXT
    if _CONTEXT is None or _CONTEXT.settings is not settings:
        _CONTEXT = _Context(settings, job_settings, make_app(job_settings), make_redis(job_settings.redis_url))
    return _CONTEXT


def _context() -> _Context:
    if _CONTEXT is None:  # pragma: no cover - a task delivered to a process not set up by hocvu
        raise ConfigError("this Celery worker was not started by `hocvu worker --executor celery`")
    return _CONTEXT


# -- the lesson task ------------------------------------------------------------------------------
class _RedisProgress:
    """Stage events of the job's lessons, counted in Redis for the coordinator."""

    def __init__(self, redis: Any, job_id: int) -> None:
        self.redis = redis
        self.key = stages_key(job_id)

    def stage(self, name: str, lesson_id: str, event: str) -> None:
        self.redis.hincrby(self.key, f"{name}.{event}", 1)
        self.redis.expire(self.key, KEEP)


class _TaskRunner(BatchRunner):
    """A batch runner for one lesson of a job: the job's report is written by its coordinator."""

    def report_stream(self, report: BuildReport, planned: list[str]) -> Any:
        from generator.batch.report import ReportStream

        return ReportStream(report, None, planned)  # no file: the coordinator writes the job's report


@contextmanager
def lesson_lock(redis: Any, cache_key: str) -> Iterator[None]:
    """Hold the lesson's lock across workers while it is built; kept alive while held, gone within
    ``LOCK_TTL`` seconds when its holder dies."""
    lock = redis.lock(f"hocvu:lesson:{cache_key}", timeout=LOCK_TTL, blocking_timeout=None)
    lock.acquire()
    done = threading.Event()

    def keep() -> None:
        while not done.wait(LOCK_TTL / 3):
            try:
                lock.reacquire()
            except Exception:  # noqa: BLE001 - lost (Redis restarted): the store still decides
                return

    keeper = threading.Thread(target=keep, daemon=True, name=f"hocvu-lock-{cache_key[:8]}")
    keeper.start()
    try:
        yield
    finally:
        done.set()
        keeper.join()
        try:
            lock.release()
        except Exception:  # noqa: BLE001 - it expired: nothing to release
            pass


def _record(redis: Any, job_id: int, cache_key: str, outcome: dict[str, Any]) -> None:
    key = outcomes_key(job_id)
    redis.hsetnx(key, cache_key, json.dumps(outcome, ensure_ascii=False))
    redis.expire(key, KEEP)


def build_lesson_task(task: Any, payload: dict[str, Any]) -> str:
    """Celery task: build one lesson of a job (no-op when a version with its cache key exists)."""
    from generator.batch.plan import PlannedLesson
    from generator.batch.sink import StoreSink

    ctx = _context()
    job_id = int(payload["job"])
    p = PlannedLesson(**payload["lesson"])
    if ctx.redis.exists(cancel_key(job_id)):
        _record(ctx.redis, job_id, p.cache_key, asdict(LessonOutcome(p.id, p.group, "not_attempted",
                                                                     error="the job was cancelled")))
        return "cancelled"
    with lesson_lock(ctx.redis, p.cache_key):
        store = ctx.review_store()
        sink = StoreSink(store)
        if sink.statuses([p])[0] == "cached":
            _record(ctx.redis, job_id, p.cache_key, asdict(LessonOutcome(p.id, p.group, "cached")))
            return "cached"
        outcome, transient = _run_one(ctx, payload, p, store)
    if transient and task.request.retries < (task.max_retries or 0):
        raise task.retry(countdown=min(60, 2 ** (task.request.retries + 1)))
    _record(ctx.redis, job_id, p.cache_key, asdict(outcome))
    return outcome.status


def _run_one(ctx: _Context, payload: dict[str, Any], p: Any, store: Any) -> tuple[LessonOutcome, bool]:
    """Run the batch build's stages for one lesson; (outcome, whether the model server was unavailable)."""
    from generator.batch.plan import Plan
    from generator.batch.spec import BatchSpec
    from generator.drafting.backend import make_backend
    from generator.jobs.ratelimit import SharedLimit, SharedLimitTransport

    settings = ctx.settings
    spec = BatchSpec.model_validate_json(payload["spec"])
    library = ctx.library(int(payload["job"]))
    name, model = payload["backend"], payload["model"]
    backend = make_backend(settings, library, name, model)
    if hasattr(backend, "transport_wrapper"):  # a backend that calls a server: the shared limit applies
        js = ctx.job_settings
        limit = SharedLimit.for_settings(ctx.redis, settings, js.model_concurrency, js.model_rate)
        backend.transport_wrapper = lambda inner: SharedLimitTransport(inner, limit)
    retrieve = None
    if spec.sources:
        from generator.pipeline import retrieve_passages
        from generator.retrieval.store import make_store

        sources, collection = make_store(settings), spec.sources

        def retrieve(q: Any) -> Any:
            return retrieve_passages(settings, library, collection, q.framework, q.competence, q.level, q.group,
                                     q.lang, store=sources)

    runner = _TaskRunner(library, settings, backend, store, payload["author"], retrieve=retrieve,
                         progress=_RedisProgress(ctx.redis, int(payload["job"])), stop_after=1)
    report = asyncio.run(runner.arun(Plan(spec, name, model, [p]), 1))
    return report.lessons[0], bool(report.stopped)


# -- the coordinator ------------------------------------------------------------------------------
def _snapshot(ctx: _Context, job_id: int, summary: dict[str, Any]) -> dict[str, Any]:
    """The job's progress as the job row keeps it, from the two Redis hashes."""
    raw = {k.decode(): int(v) for k, v in ctx.redis.hgetall(stages_key(job_id)).items()}
    stages: dict[str, dict[str, int]] = {}
    for key, n in raw.items():
        stage, _, event = key.partition(".")
        stages.setdefault(stage, {"start": 0, "done": 0, "fail": 0})[event] = n
    outcomes = [json.loads(v) for v in ctx.redis.hvals(outcomes_key(job_id))]
    failed = [{"id": o["id"], "stage": o.get("stage", "")} for o in outcomes
              if o["status"] in ("failed", "failed_checks")][:50]
    return {**summary, "finished": len(outcomes), "stages": stages, "failed": failed}


def run_job(job: Job, queue: JobQueue, ctx: _Context, stop: threading.Event, beat: float = 0.5) -> str:
    """Coordinate one claimed job: plan, fan out a task per lesson without an outcome, follow the
    outcomes until every lesson has one; returns the state the job ended in."""
    from generator.batch.build import plan_build
    from generator.frameworks import Library
    from generator.jobs.progress import plan_summary
    from generator.jobs.runner import report_dict

    settings = ctx.settings
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    try:
        plan = plan_build(job.spec, Library(settings.workspace), settings, ctx.review_store())
    except HocvuError as exc:
        queue.finish(job.id, "failed", error=f"plan: {exc}")
        return "failed"
    summary = plan_summary(plan)
    todo = {p.cache_key: p for p in plan.lessons if p.status == "generate"}
    known = {k.decode() for k in ctx.redis.hkeys(outcomes_key(job.id))}
    # after a takeover, lessons this job made already look cached: they count as the job's own
    summary["total"] = len(todo) + sum(1 for p in plan.lessons if p.status != "generate" and p.cache_key in known)
    keys = list(todo)
    spec_json = job.spec.model_dump_json()
    for key, p in todo.items():
        if key in known:  # a takeover: this lesson has its outcome already
            continue
        payload = {"job": job.id, "spec": spec_json, "backend": plan.backend, "model": plan.model,
                   "author": job.created_by, "lesson": asdict(p)}
        ctx.app.send_task(TASK, args=[payload], queue=QUEUE, task_id=f"hocvu-{job.id}-{key}")
    cancelling = False
    while True:
        snap = _snapshot(ctx, job.id, summary)
        try:
            asked = queue.progress(job.id, snap)
        except HocvuError:
            asked = False
        if asked and not cancelling:
            cancelling = True
            ctx.redis.set(cancel_key(job.id), "1", ex=KEEP)
        if not keys or all(v is not None for v in ctx.redis.hmget(outcomes_key(job.id), keys)):
            break
        if stop.wait(beat):
            queue.release(job.id)  # the lesson tasks go on; the next coordinator follows them
            return "queued"
    outcomes = {k.decode(): json.loads(v) for k, v in ctx.redis.hgetall(outcomes_key(job.id)).items()}
    report = BuildReport(job.spec.name, plan.backend, plan.model, started)
    for p in plan.lessons:
        data = outcomes.get(p.cache_key)
        if data is not None:
            report.lessons.append(LessonOutcome(**data))
        else:
            report.lessons.append(LessonOutcome(p.id, p.group, "cached" if p.status == "cached" else "skipped"))
    data = report_dict(report)
    _write_report(settings, report)
    if cancelling:
        queue.finish(job.id, "cancelled", report=data, progress=snap)
        return "cancelled"
    state = "done" if report.ok else "failed"
    error = None if report.ok else (f"{report.count('failed')} failed, {report.count('failed_checks')} failed "
                                    f"their checks, {report.count('not_attempted')} not attempted")
    queue.finish(job.id, state, report=data, error=error, progress=snap)
    return state


def _write_report(settings: Settings, report: BuildReport) -> None:
    from generator.fsutil import write_text_atomic

    stamp = report.started_at.replace(":", "").replace("-", "")
    path = settings.outputs_dir / "builds" / f"{report.name}-{stamp}.json"
    try:
        write_text_atomic(path, report.to_json())
        report.path = path
    except OSError as exc:
        report.write_error = str(exc)


def celery_runner(settings: Settings, store: ReviewStore, job_settings: JobSettings) -> JobRunner:
    """The worker loop's runner for celery jobs (this process coordinates, the Celery workers build)."""
    ctx = configure(settings, job_settings)
    ctx.store = store

    def run(job: Job, queue: JobQueue, stop: threading.Event) -> str:
        return run_job(job, queue, ctx, stop)

    return run


def run_celery_worker(settings: Settings, job_settings: JobSettings, concurrency: int, name: str) -> None:
    """Run a Celery worker for lesson tasks in this process (blocks until it is told to stop)."""
    ctx = configure(settings, job_settings)
    argv = ["worker", f"--concurrency={concurrency}", "--pool=threads", f"--queues={QUEUE}",
            "--loglevel=WARNING", f"--hostname={name}", "--without-gossip", "--without-mingle",
            "--without-heartbeat"]
    try:
        ctx.app.worker_main(argv)
    except SystemExit as exc:
        if exc.code not in (0, None):
            raise
