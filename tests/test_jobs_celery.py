"""The Celery executor against a real Redis (Debian's redis-server on a free loopback port; `.ci/run` starts
one and passes REDIS_TEST_URL) and real `hocvu worker --executor celery` processes:

* the shared model limit: slots across clients, a Retry-After pause seen by everyone;
* two workers build a 48-lesson job: every lesson has exactly one new version, each drafted by one call;
* `kill -9` of one worker in the middle (the job's coordinator, or the other one): the job still completes,
  every lesson has exactly one version, and no finished lesson's model call is repeated (counted at the
  loopback model server);
* a task sent twice calls the model once; a running task keeps its lock; `hocvu build` with
  `executor: celery` runs on the workers.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from generator.batch.spec import BatchSpec
from tests.support.drafts import REPO

REDIS = shutil.which("redis-server")
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(REDIS is None and not os.environ.get("REDIS_TEST_URL"),
                                 reason="redis-server is missing (apt-get install redis-server)")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Redis URL: the one `.ci/run` started, else a redis-server of our own on a free loopback port."""
    given = os.environ.get("REDIS_TEST_URL")
    if given:
        yield given
        return
    port = _free_port()
    folder = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen([str(REDIS), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(folder)], stdout=subprocess.DEVNULL)
    import redis

    client = redis.Redis(port=port)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(10)


@pytest.fixture
def redis_url(redis_server: str) -> str:
    """The test's Redis, emptied."""
    import redis

    redis.Redis.from_url(redis_server).flushdb()
    return redis_server


def test_the_shared_limit_bounds_calls_across_clients_and_honours_retry_after(redis_url):
    import asyncio

    import redis

    from generator.jobs.ratelimit import SharedLimit, retry_after

    a = SharedLimit(redis.Redis.from_url(redis_url), concurrency=2)
    b = SharedLimit(redis.Redis.from_url(redis_url), concurrency=2)

    async def scenario() -> None:
        t1, t2 = await a.acquire(), await b.acquire()
        assert a.in_flight() == 2
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(a.acquire(), 0.3)  # a third caller waits for a slot
        b.release(t2)
        t3 = await asyncio.wait_for(a.acquire(), 1)
        a.release(t1)
        a.release(t3)
        b.pause_for(0.6)  # one client got 429 with Retry-After: 0.6 → every client waits
        start = time.monotonic()
        a.release(await a.acquire())
        assert time.monotonic() - start >= 0.5

    asyncio.run(scenario())
    assert retry_after({"retry-after": "2"}) == 2.0 and retry_after({}) is None


SPEC = {"name": "celery-job", "framework": "vn-dcf-2025", "groups": ["elderly", "farmers", "teachers", "volunteers"],
        "competences": ["4.1", "4.2", "6.2"], "levels": [1, 2, 3, 4], "languages": ["vi"], "formats": ["page"],
        "backend": "openai", "concurrency": 8}
LESSONS = 48
#: Lesson tasks each worker runs at once: after kill -9, at most this many model calls in flight are lost.
WORKER_TASKS = 4


@pytest.fixture
def slow_model(lesson_templates, lesson_maker):  # type: ignore[no-untyped-def]
    """The loopback model server answering each call after 1 s (so a worker can be killed mid-job)."""
    from tests.openai_server import LessonFactory, OpenAIServer

    with OpenAIServer(LessonFactory(lesson_templates, lesson_maker), latency=1.0) as srv:
        yield srv


def _worker(ws: Path, redis_url: str, model_url: str, log: Path, **extra: str) -> subprocess.Popen[bytes]:
    env = {**extra, **os.environ, "HOCVU_WORKSPACE": str(ws), "PYTHONPATH": str(REPO), "HOCVU_REDIS_URL": redis_url,
           "HOCVU_WORKER_POLL": "0.2", "HOCVU_STALE_AFTER": "5", "HOCVU_CELERY_VISIBILITY": "10",
           "OPENAI_API_KEY": "sk-test-key", "OPENAI_BASE_URL": model_url, "HOCVU_MODEL": "test-model",
           "HOCVU_TIMEOUT": "20", "HOCVU_MAX_RETRIES": "1", **extra}
    return subprocess.Popen([sys.executable, "-m", "generator.cli.main", "worker", "--executor", "celery",
                             "--concurrency", str(WORKER_TASKS)], env=env, cwd=ws, stdout=log.open("ab"),
                            stderr=subprocess.STDOUT, start_new_session=True)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait(queue, job_id: int, timeout: float, until=lambda j: j.final):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = queue.get(job_id)
        if until(job):
            return job
        time.sleep(0.3)
    raise AssertionError(f"job {job_id} did not get there in {timeout:g} s: {queue.get(job_id)}")


def _one_version_each(ws: Path, store) -> None:  # type: ignore[no-untyped-def]
    folders = sorted((ws / "outputs" / "drafts").glob("*/v*"))
    assert len(folders) == LESSONS, [str(f) for f in folders]
    assert {f.name for f in folders} == {"v1"}
    assert not list((ws / "outputs" / "drafts").glob("*/.incoming-*"))
    for f in folders:
        assert [v.number for v in store.versions(f.parent.name)] == [1]


@pytest.mark.parametrize("kill", [None, "coordinator", "other"],
                         ids=["two-workers", "kill-9-mid-way", "kill-9-the-other-worker"])
def test_two_celery_workers_build_a_job(workspace, redis_url, slow_model, tmp_path, kill):  # type: ignore[no-untyped-def]
    from generator.config import load_settings
    from generator.jobs.queue import JobQueue
    from generator.review.store import ReviewStore

    store = ReviewStore.open(load_settings(workspace))
    queue = JobQueue(store.engine)
    job = queue.enqueue(BatchSpec.model_validate(SPEC), by="ed", executor="celery")
    # Killing the other worker (not the job's coordinator), Redis would hand its tasks on only after an
    # hour here: they are sent again because their locks lapse (the executor watches them).
    extra = {"HOCVU_CELERY_VISIBILITY": "3600"} if kill == "other" else {}
    workers = [_worker(workspace, redis_url, slow_model.base_url, tmp_path / f"w{i}.log", **extra) for i in range(2)]
    try:
        if kill:
            running = _wait(queue, job.id, 120, lambda j: j.progress.get("finished", 0) >= LESSONS // 4)
            coordinator = [running.worker is not None and running.worker.endswith(f":{w.pid}") for w in workers]
            victim = workers[coordinator.index(kill == "coordinator")]
            os.killpg(victim.pid, signal.SIGKILL)  # with its draft and render tasks in flight
            victim.wait()
        done = _wait(queue, job.id, 300)
    finally:
        for w in workers:
            _stop(w)
    logs = "\n".join(p.read_text(errors="replace") for p in tmp_path.glob("w*.log"))
    assert done.state == "done", (done.error, logs[-3000:])
    assert done.report is not None and done.report["totals"]["planned"] == LESSONS
    statuses = [x["status"] for x in done.report["lessons"]]
    # a job taken over after kill -9 finds the versions its first coordinator recorded: 'cached'
    assert set(statuses) <= ({"generated", "cached"} if kill == "coordinator" else {"generated"}), statuses
    assert statuses.count("generated") > (0 if kill else LESSONS - 1)
    _one_version_each(workspace, store)
    # one call per lesson; after kill -9 only the drafts in flight in the killed worker may be asked again:
    # a finished draft (its result in Redis, or cached on disk) is never repeated
    assert LESSONS <= slow_model.calls <= LESSONS + (WORKER_TASKS if kill else 0)
    store.close()


def test_a_429_with_retry_after_pauses_every_client_of_the_shared_limit(redis_url):
    import asyncio

    import httpx
    import redis

    from generator.jobs.ratelimit import SharedLimit, SharedLimitTransport, retry_after

    answers = iter([httpx.Response(429, headers={"retry-after-ms": "700"}), httpx.Response(200)])
    limited = SharedLimitTransport(httpx.MockTransport(lambda request: next(answers)),
                                   SharedLimit(redis.Redis.from_url(redis_url)))
    other = SharedLimit(redis.Redis.from_url(redis_url))  # another worker

    async def scenario() -> float:
        async with httpx.AsyncClient(transport=limited) as client:
            assert (await client.get("http://model/v1/chat")).status_code == 429
        start = time.monotonic()
        other.release(await other.acquire())
        return time.monotonic() - start

    assert asyncio.run(scenario()) >= 0.5
    assert other.in_flight() == 0
    assert retry_after(httpx.Headers({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"})) == 0.0


def test_cancelling_a_celery_job_keeps_whole_versions_only(workspace, redis_url, slow_model, tmp_path):  # type: ignore[no-untyped-def]
    from generator.config import load_settings
    from generator.jobs.queue import JobQueue
    from generator.review.store import ReviewStore

    store = ReviewStore.open(load_settings(workspace))
    queue = JobQueue(store.engine)
    job = queue.enqueue(BatchSpec.model_validate(SPEC), by="ed", executor="celery")
    worker = _worker(workspace, redis_url, slow_model.base_url, tmp_path / "w.log")
    try:
        _wait(queue, job.id, 120, lambda j: j.progress.get("finished", 0) >= 2)
        queue.cancel(job.id, "ed")
        ended = _wait(queue, job.id, 120)
    finally:
        _stop(worker)
    assert ended.state == "cancelled", (ended.error, (tmp_path / "w.log").read_text(errors="replace")[-2000:])
    assert (ended.report or {}).get("cancelled") is True  # the same partial report as a local job's
    folders = sorted((workspace / "outputs" / "drafts").glob("*/v*"))
    assert 2 <= len(folders) < LESSONS
    assert not list((workspace / "outputs" / "drafts").glob("*/.incoming-*"))
    for f in folders:
        assert [v.number for v in store.versions(f.parent.name)] == [1]
    store.close()


def _payload(build: str, key: str = "k1") -> dict:  # type: ignore[type-arg]
    return {"kind": "draft", "key": key, "tag": "", "build": build, "backend": "openai", "model": "test-model",
            "framework": "vn-dcf-2025", "competence": "4.2", "level": 1, "group": "elderly", "lang": "vi",
            "passages": []}


def test_a_draft_task_sent_twice_calls_the_model_once_and_answers_both(workspace, redis_url, openai_env):  # type: ignore[no-untyped-def]
    import json

    import redis

    from generator.config import load_settings
    from generator.jobs import celery_tasks
    from generator.jobs.celery_executor import draft_result, reply_key, stop_key
    from generator.jobs.settings import JobSettings

    celery_tasks.configure(load_settings(workspace), JobSettings(redis_url=redis_url))
    draft = celery_tasks.TASK_FUNCTIONS["draft"]
    assert draft(_payload("b1")) == "done"
    assert draft(_payload("b1")) == "done before"  # redelivered after a worker was lost, or a takeover's
    assert openai_env.calls == 1
    client = redis.Redis.from_url(redis_url)
    answers = [json.loads(raw) for raw in client.lrange(reply_key("b1"), 0, -1)]
    assert len(answers) == 2 and answers[0]["data"] == answers[1]["data"]
    assert answers[0]["meter"]["requests"] == 1  # the requests count in the build's report, like local ones
    assert draft_result(answers[0]["data"]).draft.title
    client.set(stop_key("b2"), "1")
    assert draft(_payload("b2", "k2")) == "cancelled"  # the build stopped: a task not yet started does nothing
    assert openai_env.calls == 1


def test_hocvu_build_with_executor_celery_in_the_spec_runs_on_the_workers(workspace, redis_url, tmp_path):  # type: ignore[no-untyped-def]
    spec = workspace / "spec.yaml"
    spec.write_text("name: on-celery\nframework: vn-dcf-2025\ngroups: [elderly]\ncompetences: ['4.2', '6.2']\n"
                    "levels: [1, 2]\nformats: [page]\nbackend: offline\nexecutor: celery\n", encoding="utf-8")
    env = {**os.environ, "HOCVU_WORKSPACE": str(workspace), "PYTHONPATH": str(REPO), "HOCVU_REDIS_URL": redis_url}
    worker = subprocess.Popen([sys.executable, "-m", "generator.cli.main", "worker", "--executor", "celery",
                               "--concurrency", "2"], env=env, cwd=workspace, stdout=(tmp_path / "w.log").open("ab"),
                              stderr=subprocess.STDOUT, start_new_session=True)
    try:
        result = subprocess.run([sys.executable, "-m", "generator.cli.main", "build", str(spec)], env=env,
                                cwd=workspace, capture_output=True, text=True, timeout=300)
    finally:
        _stop(worker)
    assert result.returncode == 0, result.stdout + result.stderr + (tmp_path / "w.log").read_text(errors="replace")
    assert len(list((workspace / "outputs" / "drafts").glob("*/v1/index.html"))) == 4
    log = (tmp_path / "w.log").read_text(errors="replace")
    assert "Traceback" not in log, log[-2000:]
    # the builder's process drafted nothing itself: a second build finds every lesson cached
    again = subprocess.run([sys.executable, "-m", "generator.cli.main", "build", str(spec), "--dry-run"], env=env,
                           cwd=workspace, capture_output=True, text=True, timeout=120)
    assert "total" in again.stdout and " 0 " in again.stdout.split("total")[1].splitlines()[0]


def test_an_unknown_executor_is_a_one_line_error(workspace):  # type: ignore[no-untyped-def]
    spec = workspace / "spec.yaml"
    spec.write_text("name: x\nframework: vn-dcf-2025\ngroups: [elderly]\ncompetences: ['4.2']\nlevels: [1]\n"
                    "backend: offline\nexecutor: kubernetes\n", encoding="utf-8")
    env = {**os.environ, "HOCVU_WORKSPACE": str(workspace), "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-m", "generator.cli.main", "build", str(spec)], env=env,
                            cwd=workspace, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "kubernetes" in result.stderr + result.stdout and "celery" in result.stderr + result.stdout


def test_a_running_tasks_lock_is_renewed_past_its_ttl_and_lapses_when_let_go(workspace, redis_url, monkeypatch):  # type: ignore[no-untyped-def]
    import redis

    from generator.config import load_settings
    from generator.jobs import celery_tasks
    from generator.jobs.settings import JobSettings

    monkeypatch.setattr(celery_tasks, "LOCK_TTL", 1.0)
    ctx = celery_tasks.configure(load_settings(workspace), JobSettings(redis_url=redis_url))
    client = redis.Redis.from_url(redis_url)
    lock = ctx.hold("hocvu:lock:test")  # taken in this thread, renewed by the keeper thread
    time.sleep(2.5)
    assert client.exists("hocvu:lock:test"), "a task running longer than the lock's TTL lost its lock"
    ctx.let_go(lock)
    assert not client.exists("hocvu:lock:test")


def test_a_task_lost_before_its_lock_was_ever_seen_is_sent_again_once(redis_url):  # type: ignore[no-untyped-def]
    """A page renders in a fraction of a second: a worker killed mid-render may take and lose its lock between
    two looks of the watcher. The task's started marker still says it started: it is sent again, once; a
    task still queued (no marker) or running (its lock held) is left alone."""
    import threading

    import redis

    from generator.jobs.celery_executor import CeleryExecutor, lock_key, reply_key, started_key

    client = redis.Redis.from_url(redis_url)
    lost, queued, running = (("render", f"k{i}", "t") for i in range(3))
    sent: list[tuple[str, str, str]] = []
    ex = CeleryExecutor.__new__(CeleryExecutor)  # only the watcher's state: no build, no Celery app
    ex._payloads = {i: {"kind": i[0]} for i in (lost, queued, running)}
    ex._stopped, ex._loop, ex.resent = threading.Event(), None, 0
    ex._send = lambda ident, payload: sent.append(ident)  # type: ignore[method-assign]
    client.set(started_key(*lost), "1")  # it started; its worker died and its lock lapsed, never seen held
    client.set(started_key(*running), "1")
    client.set(lock_key(*running), "token")
    started: set[tuple[str, str, str]] = set()
    ex._watch(client, reply_key("b"), started, set())
    assert sent == [lost] and ex.resent == 1
    assert not client.exists(started_key(*lost))  # until the task sent again starts
    ex._watch(client, reply_key("b"), started, set())
    assert sent == [lost]  # not sent again every second
