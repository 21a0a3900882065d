"""The worker side of the ``celery`` executor: the draft and render tasks, and what a worker process keeps.

A task's fixed costs are paid once per worker process, not per task: one library (read again only when a
task names a framework or group it does not know, e.g. a group saved in the web app since), one backend
per (name, model) with the shared model limit on its transport, one event loop in a thread for every
model call, the render settings read once, and one thread that renews the locks of the running tasks.
Workers never open the review store: the build that sent the task records the version.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from generator.errors import BackendUnavailableError, ConfigError, HocvuError, NotFoundError
from generator.jobs.celery_executor import (
    KEEP,
    LOCK_TTL,
    QUEUE,
    lock_key,
    make_app,
    make_redis,
    reply_key,
    result_key,
    started_key,
    stop_key,
)

if TYPE_CHECKING:
    from generator.config import Settings
    from generator.jobs.settings import JobSettings


@dataclass
class WorkerContext:
    """What the tasks of this process share (set up once by ``configure``)."""

    settings: Settings
    job_settings: JobSettings
    redis: Any
    app: Any = None
    _library: Any = None
    _backends: dict[tuple[str, str], Any] = field(default_factory=dict)
    _loop: asyncio.AbstractEventLoop | None = None
    _held: dict[int, Any] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def library(self, reload: bool = False) -> Any:
        """The workspace's library, read once (again with ``reload``)."""
        from generator.frameworks import Library

        with self._lock:
            if self._library is None or reload:
                self._library = Library(self.settings.workspace)
                self._backends.clear()  # a backend may hold the library it was made with
            return self._library

    def backend(self, name: str, model: str) -> Any:
        """One backend per (name, model) for every task of this process, its calls under the shared limit."""
        from generator.drafting.backend import make_backend
        from generator.jobs.ratelimit import SharedLimit, SharedLimitTransport

        library = self.library()
        with self._lock:
            backend = self._backends.get((name, model))
            if backend is None:
                backend = make_backend(self.settings, library, name, model)
                if hasattr(backend, "transport_wrapper"):  # it calls a server: the shared limit applies
                    js = self.job_settings
                    limit = SharedLimit.for_settings(self.redis, self.settings, js.model_concurrency, js.model_rate)
                    backend.transport_wrapper = lambda inner: SharedLimitTransport(inner, limit)
                self._backends[(name, model)] = backend
            return backend

    def run(self, coro: Any) -> Any:
        """Run a coroutine on this process's one event loop (started on first use) and wait for it."""
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name="hocvu-celery-loop", daemon=True).start()
                self._loop = loop
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def hold(self, name: str) -> Any:
        """Take the task's lock (waiting while another worker holds it); renewed until ``let_go``."""
        # thread_local=False: the keeper thread renews it (redis-py keeps the token per thread by default,
        # and a renewal from another thread would fail, the lock lapse, and the task be sent again)
        lock = self.redis.lock(name, timeout=LOCK_TTL, blocking_timeout=None, thread_local=False)
        lock.acquire()
        with self._lock:
            self._held[id(lock)] = lock
        return lock

    def let_go(self, lock: Any) -> None:
        """Give the lock back (nothing to do when it lapsed)."""
        with self._lock:
            self._held.pop(id(lock), None)
        try:
            lock.release()
        except Exception:  # noqa: BLE001 - it lapsed: nothing to release
            pass

    def keep_locks(self) -> None:
        """Thread: renew every held lock a few times per ``LOCK_TTL`` (one thread for all tasks)."""
        while True:
            time.sleep(LOCK_TTL / 5)
            with self._lock:
                held = list(self._held.values())
            for lock in held:
                try:
                    lock.reacquire()
                except Exception:  # noqa: BLE001 - lost (Redis restarted): the answer still decides
                    pass


_CONTEXT: WorkerContext | None = None


def configure(settings: Settings, job_settings: JobSettings) -> WorkerContext:
    """Set up this process as a Celery worker of hocvu: Redis, the app, the shared context."""
    global _CONTEXT
    if _CONTEXT is None or _CONTEXT.settings is not settings:
        ctx = WorkerContext(settings, job_settings, make_redis(job_settings.redis_url))
        ctx.app = make_app(job_settings)
        threading.Thread(target=ctx.keep_locks, name="hocvu-keep-locks", daemon=True).start()
        _CONTEXT = ctx
    return _CONTEXT


def _context() -> WorkerContext:
    if _CONTEXT is None:  # pragma: no cover - a task delivered to a process not set up by hocvu
        raise ConfigError("this Celery worker was not started by `hocvu worker --executor celery`")
    return _CONTEXT


def _error(exc: BaseException) -> dict[str, Any]:
    if isinstance(exc, HocvuError):
        return {"type": type(exc).__name__, "msgid": exc.msgid, "params": {k: str(v) for k, v in exc.params.items()}}
    return {"type": type(exc).__name__, "msgid": str(exc)}


def _answer(ctx: WorkerContext, payload: dict[str, Any], message: dict[str, Any], keep: bool) -> None:
    """Store the result (``keep``: it is final) and answer the build that sent the task."""
    message = {"kind": payload["kind"], "key": payload["key"], "tag": payload["tag"], **message}
    raw = json.dumps(message, ensure_ascii=False)
    pipe = ctx.redis.pipeline(transaction=False)
    if keep:
        pipe.set(result_key(payload["kind"], payload["key"], payload["tag"]), raw, ex=KEEP)
    replies = reply_key(payload["build"])
    pipe.rpush(replies, raw)
    pipe.expire(replies, KEEP)
    pipe.execute()


def _task(work: Callable[[WorkerContext, dict[str, Any]], dict[str, Any]]) -> Callable[[dict[str, Any]], str]:
    """A task around ``work``: no-op when the build stopped or the result is there, else run under the
    key's lock and answer."""

    def task(payload: dict[str, Any]) -> str:
        ctx = _context()
        kind, key, tag = payload["kind"], payload["key"], payload["tag"]
        if ctx.redis.exists(stop_key(payload["build"])):
            _answer(ctx, payload, {"cancelled": True}, keep=False)
            return "cancelled"
        lock = ctx.hold(lock_key(kind, key, tag))
        ctx.redis.set(started_key(kind, key, tag), "1", ex=KEEP)
        try:
            done = ctx.redis.get(result_key(kind, key, tag))
            if done is not None:  # done before (a task sent twice): answer with it, call nothing
                _answer(ctx, payload, {k: v for k, v in json.loads(done).items()
                                       if k not in ("kind", "key", "tag")}, keep=False)
                return "done before"
            message = work(ctx, payload)
            _answer(ctx, payload, message, keep="error" not in message)
        finally:
            ctx.let_go(lock)  # after the answer: a lapsed lock without one means a lost worker
            ctx.redis.delete(started_key(kind, key, tag))
        return "failed" if "error" in message else "done"

    task.__name__ = work.__name__
    return task


def _draft(ctx: WorkerContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Draft one lesson (retried with backoff while the model server is unavailable)."""
    from generator.drafting.backend import Meter, SourcePassage, metering
    from generator.drafting.service import build_request

    passages = [SourcePassage(**p) for p in payload["passages"]]
    total = Meter()
    args = (payload["framework"], payload["competence"], payload["level"], payload["group"], payload["lang"])
    try:
        try:
            request = build_request(ctx.library(), *args, passages)
        except NotFoundError:  # a group or framework added since this worker read the library
            request = build_request(ctx.library(reload=True), *args, passages)
        backend = ctx.backend(payload["backend"], payload["model"])
    except HocvuError as exc:
        return {"error": _error(exc), "meter": total.__dict__}

    async def draft() -> tuple[Any, Meter]:
        with metering() as meter:
            try:
                return await backend.adraft(request), meter
            except BaseException as exc:
                exc.meter = meter  # type: ignore[attr-defined]
                raise

    retries = ctx.job_settings.task_retries
    for attempt in range(retries + 1):
        try:
            result, meter = ctx.run(draft())
        except Exception as exc:  # noqa: BLE001 - every failure is answered, with what it cost
            total.add(getattr(exc, "meter", Meter()))
            if isinstance(exc, BackendUnavailableError) and attempt < retries:
                time.sleep(min(30.0, 2.0 ** attempt))
                continue
            return {"error": _error(exc), "meter": total.__dict__}
        total.add(meter)
        return {"data": draft_data(result), "meter": total.__dict__}
    raise AssertionError("unreachable")  # pragma: no cover


def draft_data(result: Any) -> dict[str, Any]:
    """A ``DraftResult`` as plain JSON data (``celery_executor.draft_result`` reads it back)."""
    return {"draft": result.draft.model_dump(mode="json"), "backend": result.backend, "model": result.model,
            "prompt_hash": result.prompt_hash, "usage": result.usage.model_dump(mode="json"),
            "cost_usd": result.cost_usd, "attempts": result.attempts, "notes": list(result.notes)}


def _render(ctx: WorkerContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Render one lesson into the build's staging folder (in this task's thread)."""
    from generator.batch.executor import RenderJob
    from generator.batch.worker import render_job

    data = dict(payload["job"])
    data["formats"] = tuple(data["formats"])
    try:
        return {"data": render_job(RenderJob(**data))}
    except Exception as exc:  # noqa: BLE001 - answered to the build, which records it for the lesson
        return {"error": _error(exc)}


TASK_FUNCTIONS: dict[str, Callable[[dict[str, Any]], str]] = {"draft": _task(_draft), "render": _task(_render)}


#: How often the worker's event loop wakes up (seconds); see ``_wake_the_hub``.
HUB_TICK = 0.05


def _wake_the_hub(sender: Any = None, **_: Any) -> None:
    """Celery's thread pool hands a finished task's acknowledgement to the worker's event loop, which sleeps
    until a network event or its timer: with prefetch 1 the next task waited up to ~10 s for it (measured:
    one round trip in three took 10 s instead of 10 ms). A no-op timer every ``HUB_TICK`` s bounds the wait
    (the workaround of celery/celery#6941, still open)."""
    if sender is not None and getattr(sender, "timer", None) is not None:
        sender.timer.call_repeatedly(HUB_TICK, lambda *a, **k: None)


def run_celery_worker(settings: Settings, job_settings: JobSettings, concurrency: int, name: str) -> None:
    """Run a Celery worker for draft and render tasks in this process (blocks until told to stop)."""
    from celery.signals import worker_ready

    ctx = configure(settings, job_settings)
    worker_ready.connect(_wake_the_hub, weak=False)
    argv = ["worker", f"--concurrency={concurrency}", "--pool=threads", f"--queues={QUEUE}",
            "--loglevel=WARNING", f"--hostname={name}", "--without-gossip", "--without-mingle",
            "--without-heartbeat"]
    try:
        ctx.app.worker_main(argv)
    except SystemExit as exc:
        if exc.code not in (0, None):
            raise
