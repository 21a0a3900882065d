"""Generation jobs: the queue's states and atomic claims, a job run by a worker through the batch build
(offline backend, page format), cancel leaving no half version, and ``hocvu worker``."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from generator.batch.spec import BatchSpec
from generator.errors import TransitionError
from generator.jobs.queue import JobQueue
from generator.jobs.settings import JobSettings
from generator.jobs.spec import SpecError, dump_job_spec, load_job_spec_text
from generator.jobs.worker import local_runner, work

SPEC = {"name": "web-job", "framework": "vn-dcf-2025", "groups": ["elderly"], "competences": ["4.2", "6.2"],
        "levels": [1, 2], "languages": ["vi"], "formats": ["page"], "backend": "offline", "concurrency": 2}


@pytest.fixture
def settings(workspace: Path):  # type: ignore[no-untyped-def]
    from generator.config import load_settings

    return load_settings(workspace)


@pytest.fixture
def store(settings):  # type: ignore[no-untyped-def]
    from generator.review.store import ReviewStore

    s = ReviewStore.open(settings)
    yield s
    s.close()


@pytest.fixture
def queue(store) -> JobQueue:  # type: ignore[no-untyped-def]
    return JobQueue(store.engine)


def _versions(settings) -> list[Path]:  # type: ignore[no-untyped-def]
    return sorted((settings.outputs_dir / "drafts").glob("*/v*"))


def _leftovers(settings) -> list[Path]:  # type: ignore[no-untyped-def]
    return sorted((settings.outputs_dir / "drafts").glob("*/.incoming-*"))


def test_a_claim_is_taken_once_and_a_silent_workers_job_is_taken_over(queue):
    job = queue.enqueue(BatchSpec.model_validate(SPEC), by="ed")
    assert queue.claim("w1") is not None
    assert queue.claim("w2") is None  # running, its worker alive
    assert queue.claim("w2", stale_after=-1).worker == "w2"  # type: ignore[union-attr]
    assert queue.claim("w3", executor="celery") is None
    finished = queue.finish(job.id, "done", report={"ok": True})
    assert finished.final and finished.report == {"ok": True}
    with pytest.raises(TransitionError, match="already ended"):
        queue.cancel(job.id, "ed")


def test_claims_from_many_threads_give_each_job_to_one_worker(queue):
    jobs = [queue.enqueue(BatchSpec.model_validate(SPEC | {"name": f"j{i}"}), by="ed").id for i in range(6)]
    got: list[int] = []
    lock = threading.Lock()

    def claim(name: str) -> None:
        while (job := queue.claim(name)) is not None:
            with lock:
                got.append(job.id)

    threads = [threading.Thread(target=claim, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got) == jobs


def test_a_queued_job_cancelled_never_runs(queue):
    job = queue.enqueue(BatchSpec.model_validate(SPEC), by="ed")
    assert queue.cancel(job.id, "ed").state == "cancelled"
    assert queue.claim("w1") is None


def test_spec_file_errors_are_per_field_and_a_spec_round_trips():
    with pytest.raises(SpecError) as caught:
        load_job_spec_text("name: bad name\nframework: vn-dcf-2025\nlevels: [9]\nexecutor: magic\n")
    assert set(caught.value.fields) == {"name", "groups", "competences", "levels", "executor"}
    spec, executor = load_job_spec_text(dump_job_spec(BatchSpec.model_validate(SPEC), "celery"))
    assert spec == BatchSpec.model_validate(SPEC) and executor == "celery"
    with pytest.raises(SpecError, match="line 2: malformed YAML"):
        load_job_spec_text("name: [unclosed\n")


def test_a_worker_runs_a_job_to_its_end_with_progress_and_report(queue, store, settings, library):
    job = queue.enqueue(BatchSpec.model_validate(SPEC), by="ed")
    ran = work(queue, local_runner(settings, store, library), JobSettings(), once=True)
    assert ran == 1
    done = queue.get(job.id)
    assert done.state == "done", done.error
    assert done.progress["finished"] == done.progress["total"] == 4
    assert done.progress["stages"]["submit"]["done"] == 4
    assert done.report is not None and done.report["totals"]["generated"] == 4
    assert {x["status"] for x in done.report["lessons"]} == {"generated"}
    assert len(_versions(settings)) == 4 and not _leftovers(settings)
    assert all(store.lesson_state(x["id"]).status == "in_review" for x in done.report["lessons"])
    # the same job again: every lesson is cached, no new version
    again = queue.enqueue(BatchSpec.model_validate(SPEC), by="ed")
    work(queue, local_runner(settings, store, library), JobSettings(), once=True)
    assert queue.get(again.id).report["totals"]["cached"] == 4  # type: ignore[index]
    assert len(_versions(settings)) == 4


def test_cancelling_a_running_job_keeps_whole_versions_and_leaves_no_half_one(queue, store, settings, library):
    from generator.jobs.runner import run_job

    spec = BatchSpec.model_validate(SPEC | {"competences": ["4.*", "6.*"], "levels": [1, 2, 3], "concurrency": 1})
    job = queue.enqueue(spec, by="ed")
    claimed = queue.claim("w1")
    assert claimed is not None

    def cancel_after_first_version() -> None:
        while not _versions(settings):
            threading.Event().wait(0.02)
        queue.cancel(job.id, "ed")

    canceller = threading.Thread(target=cancel_after_first_version)
    canceller.start()
    state = run_job(claimed, queue, settings, library, store, beat=0.05)
    canceller.join()
    assert state == "cancelled"
    ended = queue.get(job.id)
    assert ended.state == "cancelled" and "cancelled by ed" in (ended.error or "")
    versions = _versions(settings)
    assert 1 <= len(versions) < ended.progress["total"]
    assert not _leftovers(settings)
    for folder in versions:  # every version folder is whole and recorded
        assert (folder / ".files.json").exists()
        assert store.get_version(folder.parent.name, int(folder.name[1:])) is not None


def test_migration_0006_adds_the_job_tables_and_goes_back(tmp_path):
    from alembic import command
    from sqlalchemy import create_engine, inspect

    from generator.review.db import _alembic_config, migrate

    engine = create_engine(f"sqlite:///{tmp_path / 'm.db'}")
    migrate(engine)
    assert {"jobs", "workspace_events"} <= set(inspect(engine).get_table_names())
    with engine.begin() as conn:
        command.downgrade(_alembic_config(conn), "0004")
    assert not {"jobs", "workspace_events"} & set(inspect(engine).get_table_names())
    assert migrate(engine) == "0006"
