"""The ``celery`` executor: a build's drafts and renders fanned out as Celery tasks over Redis.

    hocvu build spec.yaml  /  a job's coordinator           hocvu worker --executor celery (any number)
      BatchRunner (cache, checks, versions, store)            a Celery worker (thread pool) taking tasks
        └─ CeleryExecutor ──task hocvu.draft / hocvu.render──▶  from the queue ``hocvu-lessons``
                          ◀──reply list hocvu:reply:<build>──    one library, backends and event loop
                                                                 per process, reused by every task

The runner is the same as for the ``local`` executor: the store and the version folders stay with the
build's process, so the store still decides every number. Each task is keyed by the lesson's cache key
(a render also by its staging folder) and is idempotent: under the key's lock in Redis it looks for the
key's result, and when it is there (a task sent twice, or again after a takeover) it only answers with it,
so a finished model call is never repeated. Tasks are acknowledged late (``acks_late``,
``reject_on_worker_lost``); besides, the executor watches the lock of every task it waits for: a task
that started (its lock seen held, or its started marker set) and whose lock expired without an answer
(its worker was killed) is sent again at once,
without waiting for the broker's visibility timeout. A draft whose model server was unavailable is
retried ``HOCVU_TASK_RETRIES`` times with backoff; model calls of every worker share the limit in Redis
(``generator.jobs.ratelimit``), which honours Retry-After for everyone.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any

from generator.errors import BackendError, ConfigError, HocvuError, RenderError

if TYPE_CHECKING:
    from generator.batch.executor import DraftJob, ExecutorContext, Limiter, RenderJob
    from generator.drafting.backend import DraftResult
    from generator.jobs.settings import JobSettings
    from generator.render import RenderResult

QUEUE = "hocvu-lessons"
TASKS = {"draft": "hocvu.draft", "render": "hocvu.render"}
#: How long results and replies stay in Redis (seconds): a takeover within it reuses finished drafts.
KEEP = 24 * 3600
#: A task's lock lapses this long after its worker stopped renewing it (killed): its task is sent again.
LOCK_TTL = 15.0
#: How often the executor looks at the locks of the tasks it waits for (seconds).
WATCH_EVERY = 1.0
#: Longest wait, when a build stops, for renders already running to end (their folders are then removed).
RENDER_WAIT = 30.0


def result_key(kind: str, key: str, tag: str = "") -> str:
    """Redis key of a task's result (the task's answer, JSON)."""
    return f"hocvu:{kind}:{key}:{tag}"


def lock_key(kind: str, key: str, tag: str = "") -> str:
    """Redis key of a task's lock, held (and renewed) while a worker runs it."""
    return f"hocvu:lock:{kind}:{key}:{tag}"


def started_key(kind: str, key: str, tag: str = "") -> str:
    """Redis key set when a worker takes a task's lock, and dropped when it lets go: a task whose lock is
    gone while this is still there was lost with its worker, however briefly it ran."""
    return f"hocvu:started:{kind}:{key}:{tag}"


def reply_key(build: str) -> str:
    """Redis list the tasks of one build answer into."""
    return f"hocvu:reply:{build}"


def stop_key(build: str) -> str:
    """Set when a build stops: its tasks not yet started answer 'cancelled' at once."""
    return f"hocvu:stop:{build}"


def folder_tag(folder: str) -> str:
    """A render task's tag: the same lesson rendered into another staging folder is another task."""
    return hashlib.sha256(folder.encode()).hexdigest()[:12]


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
    """The Celery app over Redis, with the draft and render tasks registered."""
    from celery import Celery

    from generator.jobs import celery_tasks

    url = job_settings.redis_url
    app = Celery("hocvu", broker=url, set_as_current=False)
    app.conf.update(
        task_acks_late=True, task_reject_on_worker_lost=True, worker_prefetch_multiplier=1,
        task_default_queue=QUEUE, task_serializer="json", accept_content=["json"], task_ignore_result=True,
        broker_transport_options={"visibility_timeout": job_settings.celery_visibility},
        broker_connection_retry_on_startup=True, worker_hijack_root_logger=False,
        worker_send_task_events=False, task_send_sent_event=False,
    )
    for kind, name in TASKS.items():
        app.task(name=name, acks_late=True, reject_on_worker_lost=True)(celery_tasks.TASK_FUNCTIONS[kind])
    return app


def remote_error(answer: dict[str, Any], kind: str) -> HocvuError:
    """The error a task answered with, as the same class of hocvu's tree (BackendUnavailableError stays
    one, so the runner's circuit breaker sees it); an unexpected error as BackendError / RenderError."""
    import generator.errors as errors

    err = answer["error"]
    cls = getattr(errors, err.get("type", ""), None)
    if isinstance(cls, type) and issubclass(cls, HocvuError):
        exc = cls.__new__(cls)
        HocvuError.__init__(exc, err["msgid"], **err.get("params", {}))
        return exc
    problem = f"{err.get('type', 'Error')}: {err.get('msgid', '')}"
    if kind == "draft":
        return BackendError("a Celery worker failed to draft the lesson: {problem}", problem=problem)
    return RenderError("a Celery worker failed to render the lesson: {problem}", problem=problem)


class CeleryExecutor:
    """Drafts and renders on Celery workers; answers come back on one Redis list per build."""

    def __init__(self, ctx: ExecutorContext, job_settings: JobSettings | None = None) -> None:
        from generator.jobs.settings import load_job_settings

        self.ctx = ctx
        self.job_settings = job_settings or load_job_settings()
        self.build = uuid.uuid4().hex[:16]
        self._limiter: Limiter | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._app: Any = None
        self._redis: Any = None
        self._futures: dict[tuple[str, str, str], asyncio.Future[dict[str, Any]]] = {}
        self._payloads: dict[tuple[str, str, str], dict[str, Any]] = {}  # out at the workers (thread-safe dict ops)
        self._renders_out: set[tuple[str, str, str]] = set()
        self._stopped = threading.Event()
        self._listener: threading.Thread | None = None
        self._closed = False
        self.resent = 0  # tasks sent again because their worker was lost

    async def start(self, limiter: Limiter) -> None:
        """Connect to Redis (ConfigError when it does not answer) and start listening for answers."""
        self._limiter = limiter
        self._loop = asyncio.get_running_loop()
        self._redis = await asyncio.to_thread(make_redis, self.job_settings.redis_url)
        self._app = make_app(self.job_settings)
        self._listener = threading.Thread(target=self._listen, name=f"hocvu-celery-{self.build[:6]}", daemon=True)
        self._listener.start()

    # -- sending and answering -------------------------------------------------------------------
    def _send(self, ident: tuple[str, str, str], payload: dict[str, Any]) -> None:
        self._app.send_task(TASKS[ident[0]], args=[payload], queue=QUEUE)

    async def _call(self, ident: tuple[str, str, str], payload: dict[str, Any]) -> dict[str, Any]:
        """Send the task (unless its result is there already) and await its answer."""
        if self._closed:
            raise asyncio.CancelledError
        done = self._redis.get(result_key(*ident))
        if done is not None:  # finished before (a takeover): nothing to send
            return json.loads(done)  # type: ignore[no-any-return]
        assert self._loop is not None
        fut: asyncio.Future[dict[str, Any]] = self._loop.create_future()
        self._futures[ident] = fut
        payload = {**payload, "kind": ident[0], "key": ident[1], "tag": ident[2], "build": self.build}
        self._payloads[ident] = payload
        if ident[0] == "render":
            self._renders_out.add(ident)
        self._send(ident, payload)
        try:
            return await fut
        finally:
            if self._futures.get(ident) is fut:
                del self._futures[ident]
            if ident[0] == "draft" or ident not in self._renders_out:
                self._payloads.pop(ident, None)

    def _answer(self, message: dict[str, Any]) -> None:
        """On the event loop: resolve the awaiting future (a second answer for the same task is ignored)."""
        ident = (message["kind"], message["key"], message.get("tag", ""))
        self._renders_out.discard(ident)
        if ident not in self._futures:
            self._payloads.pop(ident, None)
        fut = self._futures.get(ident)
        if fut is not None and not fut.done():
            fut.set_result(message)

    def _listen(self) -> None:
        """Thread: hand each answer to the event loop; every ``WATCH_EVERY`` s send again the tasks whose
        worker was lost (they started, their lock lapsed, and no answer or result came)."""
        redis = make_redis(self.job_settings.redis_url)
        replies = reply_key(self.build)
        started: set[tuple[str, str, str]] = set()
        answered: set[tuple[str, str, str]] = set()
        last = time.monotonic()
        while not self._stopped.is_set():
            try:
                item = redis.blpop([replies], timeout=0.5)
                if item is not None:
                    self._deliver(item[1], answered)
                if time.monotonic() - last >= WATCH_EVERY:
                    last = time.monotonic()
                    self._watch(redis, replies, started, answered)
            except Exception:  # noqa: BLE001 - Redis away for a moment: look again
                time.sleep(0.5)
        redis.close()

    def _deliver(self, raw: bytes, answered: set[tuple[str, str, str]]) -> None:
        message = json.loads(raw)
        answered.add((message["kind"], message["key"], message.get("tag", "")))
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._answer, message)

    def _watch(self, redis: Any, replies: str, started: set[tuple[str, str, str]],
               answered: set[tuple[str, str, str]]) -> None:
        out = [i for i in self._payloads.copy() if i not in answered]  # copy: atomic under the GIL
        if not out:
            return
        pipe = redis.pipeline(transaction=False)
        for ident in out:
            pipe.exists(lock_key(*ident))
            pipe.exists(result_key(*ident))
            pipe.exists(started_key(*ident))
        flags = pipe.execute()
        lapsed = []
        for n, ident in enumerate(out):
            held, has_result, marked = flags[3 * n], flags[3 * n + 1], flags[3 * n + 2]
            if held:
                started.add(ident)
            elif (ident in started or marked) and not has_result:
                # it started (seen holding its lock, or marked: a render can start and die between two
                # looks) and its lock is gone with no answer and no result: its worker was lost
                lapsed.append(ident)
        if not lapsed:
            return
        # A task answers before it lets go of its lock: every answer of a lapsed task is in the list now.
        while (raw := redis.lpop(replies)) is not None:
            self._deliver(raw, answered)
        for ident in lapsed:
            payload = self._payloads.get(ident)
            if ident in answered or payload is None or self._stopped.is_set():
                continue
            started.discard(ident)
            redis.delete(started_key(*ident))  # until the task sent again starts
            self.resent += 1
            self._send(ident, payload)

    # -- the Executor seam -----------------------------------------------------------------------
    async def draft(self, job: DraftJob) -> DraftResult:
        """Draft on a Celery worker, inside the build's bound on model calls."""
        from dataclasses import asdict

        from generator.drafting.backend import Meter, current_meter

        if self._closed:
            raise asyncio.CancelledError
        payload = {"backend": self.ctx.backend.name, "model": self.ctx.backend.model, "framework": job.framework,
                   "competence": job.competence, "level": job.level, "group": job.group, "lang": job.lang,
                   "passages": [asdict(p) for p in job.passages]}
        assert self._limiter is not None
        async with self._limiter:
            answer = await self._call(("draft", job.key, ""), payload)
        meter = current_meter()
        if meter is not None:  # the worker's requests and tokens count in this lesson's meter
            meter.add(Meter(**answer.get("meter", {})))
        if "error" in answer:
            raise remote_error(answer, "draft")
        if answer.get("cancelled"):
            raise asyncio.CancelledError
        return draft_result(answer["data"])

    async def render(self, job: RenderJob) -> RenderResult:
        """Render on a Celery worker into ``job.folder`` (the workers share the outputs folder)."""
        from dataclasses import asdict

        from generator.batch.executor import render_result

        if self._closed:
            raise asyncio.CancelledError
        # The runner has the draft now (cached on disk when it passed its checks): its result in Redis is
        # dropped, so --force, or a draft that failed its checks, asks the model again next time.
        self._redis.delete(result_key("draft", job.key))
        answer = await self._call(("render", job.key, folder_tag(job.folder)), {"job": asdict(job)})
        if "error" in answer:
            raise remote_error(answer, "render")
        if answer.get("cancelled"):
            raise asyncio.CancelledError
        return render_result(job, answer["data"])

    def cancel(self, key: str) -> None:
        """Stop awaiting the lesson's tasks (a draft running at a worker still finishes into its result,
        so a later build reuses it instead of paying again)."""
        for ident, fut in list(self._futures.items()):
            if ident[1] == key:
                fut.cancel()

    async def close(self) -> None:
        """Tell the build's tasks not yet started to end, wait (bounded) for renders still running, stop
        listening."""
        self._closed = True
        if self._redis is not None:
            self._redis.set(stop_key(self.build), "1", ex=KEEP)
        for fut in list(self._futures.values()):
            fut.cancel()
        deadline = time.monotonic() + RENDER_WAIT
        while self._renders_out and self._listener is not None and time.monotonic() < deadline:
            await asyncio.sleep(0.05)  # their folders are removed by the runner once they end
        self._stopped.set()
        if self._listener is not None:
            await asyncio.to_thread(self._listener.join)
            self._listener = None
        if self._redis is not None:
            self._redis.delete(reply_key(self.build))
            self._redis.close()
            self._redis = None


def draft_result(data: dict[str, Any]) -> DraftResult:
    """A draft as a task answers it, back into a ``DraftResult``."""
    from generator.drafting.backend import DraftResult
    from generator.lesson import LessonDraft, Usage

    return DraftResult(LessonDraft.model_validate(data["draft"]), data["backend"], data["model"],
                       data["prompt_hash"], Usage.model_validate(data["usage"]), data["cost_usd"],
                       data["attempts"], list(data["notes"]))


def make_celery(ctx: ExecutorContext) -> CeleryExecutor:
    """The built-in ``celery`` executor (registered in generator.registry)."""
    return CeleryExecutor(ctx)
