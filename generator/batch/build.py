"""Plan and run a batch build: the functions the CLI calls."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from generator.batch.plan import Plan, PlannedLesson, Status, make_plan, prompt_hash_for
from generator.batch.report import BuildReport
from generator.batch.run import BatchRunner, Progress
from generator.batch.sink import StoreSink
from generator.batch.spec import BatchSpec
from generator.drafting.backend import SourcePassage, backend_class, make_backend, resolve_backend

if TYPE_CHECKING:
    from generator.config import Settings
    from generator.frameworks import Library
    from generator.review.store import ReviewStore


def resolved_backend(spec: BatchSpec, settings: Settings, backend: str | None = None) -> tuple[str, str]:
    """Backend name and model the build will use (command line > spec > settings)."""
    name = resolve_backend(settings, backend or spec.backend)
    return name, backend_class(name).model_for(settings, spec.model)


def _fingerprint(settings: Settings, collection: str | None) -> str:
    if not collection:
        return ""
    from generator.retrieval.store import make_store

    return make_store(settings).collection_fingerprint(collection)


def plan_build(spec: BatchSpec, library: Library, settings: Settings, store: ReviewStore | None,
               backend: str | None = None, force: bool = False, accept_failed: bool = False,
               retry_failed: bool = False) -> Plan:
    """Expand the spec, key every lesson, and mark the ones whose inputs have not changed as cached
    (a lesson whose version failed its checks is drafted again, unless ``accept_failed``)."""
    name, model = resolved_backend(spec, settings, backend)
    sink = StoreSink(store)
    estimate = None
    tokens = backend_class(name).estimator(settings, library)
    if tokens is not None:
        from generator.drafting.service import build_request

        def estimate(p: PlannedLesson) -> int:
            return tokens(build_request(library, p.framework, p.competence, p.level, p.group, p.lang))

    def current(lessons: list[PlannedLesson]) -> list[Status]:
        return sink.statuses(lessons, accept_failed, retry_failed)

    plan = make_plan(spec, library, name, model, prompt_hash_for(name, settings.workspace),
                     _fingerprint(settings, spec.sources), current, estimate, settings.price(model), force)
    plan.method = backend_class(name).planned_method(settings, model)
    return plan


def run_build(plan: Plan, library: Library, settings: Settings, store: ReviewStore, author: str,
              concurrency: int, progress: Progress | None = None, render_workers: int = 0,
              force: bool = False, accept_failed: bool = False, stop_after: int | None = None,
              executor: str = "local") -> BuildReport:
    """Run the plan: draft, check, render and submit every lesson that is not cached, the work done by the
    executor registered as ``executor``. The build stops sending after ``stop_after`` (default: the
    spec's) lessons in a row failed alike (0: never)."""
    from generator.batch.executor import ExecutorContext, make_executor

    backend = make_backend(settings, library, plan.backend, plan.model)
    retrieve = None
    if plan.spec.sources:
        from generator.pipeline import retrieve_passages
        from generator.retrieval.store import make_store

        collection = plan.spec.sources
        sources = make_store(settings)  # one library and embedder for the whole batch

        def retrieve(p: PlannedLesson) -> tuple[list[SourcePassage], str]:
            return retrieve_passages(settings, library, collection, p.framework, p.competence, p.level,
                                     p.group, p.lang, store=sources)

    runs = make_executor(executor, ExecutorContext(library, settings, backend, render_workers))
    runner = BatchRunner(library, settings, backend, store, author, retrieve=retrieve,
                         render_workers=render_workers, reuse_drafts=not force, accept_failed=accept_failed,
                         stop_after=plan.spec.stop_after if stop_after is None else stop_after, executor=runs)
    if progress is not None:
        runner.progress = progress
    return asyncio.run(runner.arun(plan, concurrency))


def load_build_spec(path: Path) -> tuple[BatchSpec, str | None]:
    """Read a batch spec file: the spec, and the executor it names (``executor: celery``; None when it
    names none). DataError with file, line and field; an unknown executor lists the registered ones."""
    from pydantic import ValidationError

    from generator import registry
    from generator.errors import DataError
    from generator.yamlio import compose_text, describe_validation, read_limited, to_nfc

    if not path.is_file():
        raise DataError("{path}: no such batch spec; give the path of a .yaml file", path=path)
    node, data = compose_text(read_limited(path), str(path))
    if not isinstance(data, dict):
        raise DataError("{path}: a batch spec is a YAML mapping (name, framework, groups, …); see "
                        "generator/batch/demo.yaml", path=path)
    data = dict(data)
    executor = data.pop("executor", None)
    if executor is not None:
        registry.executors.get(str(executor))  # NotFoundError listing the registered executors
    try:
        return BatchSpec.model_validate(to_nfc(data)), executor
    except ValidationError as exc:
        raise DataError(describe_validation(path, node, exc)) from exc


def demo_spec() -> BatchSpec:
    """The demo batch: elderly and farmers × 2.3, 4.2, 6.2 × level 1 × Vietnamese, all formats."""
    from generator.batch.spec import load_spec

    return load_spec(Path(__file__).with_name("demo.yaml"))
