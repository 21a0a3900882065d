"""The executor seam of builds: the runner sends drafting and rendering to the executor registered by
name, keyed by each lesson's cache key, takes the results back, and cancels what is out when it stops."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from generator.batch.build import plan_build, run_build
from generator.batch.executor import (
    DraftJob,
    ExecutorContext,
    LocalExecutor,
    RenderJob,
    make_executor,
    register_executor,
)
from generator.batch.run import BatchRunner
from generator.batch.spec import load_spec
from generator.config import load_settings
from generator.drafting.backend import make_backend
from generator.errors import NotFoundError
from generator.frameworks import Library
from generator.registry import executors
from generator.review.store import ReviewStore
from generator.versions import CONTENT_FILES

SPEC = """\
name: ex
framework: vn-dcf-2025
groups: [elderly]
competences: ["4.2", "6.1"]
levels: [1]
formats: [page]
backend: offline
"""


class RecordingExecutor(LocalExecutor):
    """The local executor, keeping the keys of the work it was given (a test fake around the real one)."""

    def __init__(self, ctx: ExecutorContext) -> None:
        super().__init__(ctx)
        self.drafts: list[str] = []
        self.renders: list[str] = []
        self.cancelled: list[str] = []
        self.closed = False

    async def draft(self, job: DraftJob) -> Any:
        self.drafts.append(job.key)
        return await super().draft(job)

    async def render(self, job: RenderJob) -> Any:
        self.renders.append(job.key)
        json.loads(job.lesson_json)  # plain data, as another machine would need it
        return await super().render(job)

    def cancel(self, key: str) -> None:
        self.cancelled.append(key)
        super().cancel(key)

    async def close(self) -> None:
        self.closed = True
        await super().close()


class StuckExecutor(RecordingExecutor):
    """Drafts like the local one, but its renders never come back (a worker that hangs)."""

    async def render(self, job: RenderJob) -> Any:
        self.renders.append(job.key)
        await asyncio.Event().wait()


@pytest.fixture
def recording():  # type: ignore[no-untyped-def]
    made: list[RecordingExecutor] = []

    def factory(ctx: ExecutorContext) -> RecordingExecutor:
        made.append(RecordingExecutor(ctx))
        return made[-1]

    register_executor("recording")(factory)
    yield made
    executors.unregister("recording")


def _plan(workspace: Path, store: ReviewStore):  # type: ignore[no-untyped-def]
    (workspace / "spec.yaml").write_text(SPEC, encoding="utf-8")
    settings, library = load_settings(workspace), Library(workspace)
    return settings, library, plan_build(load_spec(workspace / "spec.yaml"), library, settings, store)


def test_a_registered_executor_gets_each_lessons_work_by_its_cache_key(workspace, recording):
    with ReviewStore.open(load_settings(workspace)) as store:
        settings, library, plan = _plan(workspace, store)
        report = run_build(plan, library, settings, store, "bot", 2, executor="recording")
        [ex] = recording
        keys = sorted(p.cache_key for p in plan.lessons)
        assert sorted(ex.drafts) == keys and sorted(ex.renders) == keys and ex.closed
        assert report.count("generated") == 2 and report.ok
        for p in plan.lessons:
            v = store.get_version(p.id)
            assert v.cache_key == p.cache_key and set(v.artifacts) == {*CONTENT_FILES, "index.html"}


def test_an_unknown_executor_names_the_registered_ones(workspace):
    settings, library = load_settings(workspace), Library(workspace)
    ctx = ExecutorContext(library, settings, make_backend(settings, library, "offline"))
    with pytest.raises(NotFoundError, match="local"):
        make_executor("celery-typo", ctx)


def test_celery_is_registered_like_local_and_says_what_to_do_without_redis(workspace, monkeypatch):
    from generator.errors import ConfigError
    from generator.jobs.celery_executor import CeleryExecutor

    assert {"local", "celery"} <= set(executors.names())
    monkeypatch.setenv("HOCVU_REDIS_URL", "redis://127.0.0.1:9/0")  # nothing listens on the discard port
    settings, library = load_settings(workspace), Library(workspace)
    runs = make_executor("celery", ExecutorContext(library, settings, make_backend(settings, library, "offline")))
    assert isinstance(runs, CeleryExecutor)

    async def start() -> None:
        await runs.start(asyncio.Semaphore(1))

    with pytest.raises(ConfigError, match="redis-server or set HOCVU_REDIS_URL"):
        asyncio.run(start())


def test_a_stopped_build_cancels_its_work_at_the_executor_and_leaves_no_staging(workspace):
    with ReviewStore.open(load_settings(workspace)) as store:
        settings, library, plan = _plan(workspace, store)
        backend = make_backend(settings, library, "offline")
        stuck = StuckExecutor(ExecutorContext(library, settings, backend))
        runner = BatchRunner(library, settings, backend, store, "bot", executor=stuck)

        async def build_then_stop() -> None:
            build = asyncio.ensure_future(runner.arun(plan, 2))
            for _ in range(400):  # until both lessons are waiting for their renders
                await asyncio.sleep(0.025)
                if len(stuck.renders) == 2:
                    break
            build.cancel()
            with pytest.raises(asyncio.CancelledError):
                await build

        asyncio.run(build_then_stop())
        assert len(stuck.renders) == 2 and sorted(stuck.cancelled) == sorted(p.cache_key for p in plan.lessons)
        assert stuck.closed
        drafts = settings.outputs_dir / "drafts"
        assert not list(drafts.glob("*/.incoming-*")) and not list(drafts.glob("*/v*"))
        [path] = (settings.outputs_dir / "builds").glob("ex-*.json")
        data = json.loads(path.read_text(encoding="utf-8"))
        assert data["interrupted"] and data["totals"]["unfinished"] == 2
