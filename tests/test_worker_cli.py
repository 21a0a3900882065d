"""``hocvu worker`` and the worker process ``hocvu serve`` starts beside the web app."""

from __future__ import annotations

import time

from generator.batch.spec import BatchSpec

SPEC = {"name": "cli-job", "framework": "vn-dcf-2025", "groups": ["farmers"], "competences": ["4.2"],
        "levels": [1], "formats": ["page"], "backend": "offline"}


def _queue(workspace):  # type: ignore[no-untyped-def]
    from generator.config import load_settings
    from generator.jobs.queue import JobQueue
    from generator.review.store import ReviewStore

    store = ReviewStore.open(load_settings(workspace))
    return store, JobQueue(store.engine)


def test_worker_once_runs_the_queued_jobs_and_exits(cli, workspace):  # type: ignore[no-untyped-def]
    store, queue = _queue(workspace)
    job = queue.enqueue(BatchSpec.model_validate(SPEC), by="ed")
    result = cli("worker", "--once")
    assert result.exit_code == 0, result.output
    assert f"job {job.id} cli-job: done" in result.stderr
    assert queue.get(job.id).state == "done"
    store.close()


def test_worker_refuses_an_unknown_executor(cli):  # type: ignore[no-untyped-def]
    result = cli("worker", "--executor", "magic")
    assert result.exit_code == 2 and "unknown executor 'magic'" in result.stderr


def test_serve_starts_a_worker_process_that_runs_jobs_and_stops_with_it(workspace):  # type: ignore[no-untyped-def]
    from generator.cli.serve_cmd import start_worker, stop_worker

    store, queue = _queue(workspace)
    job = queue.enqueue(BatchSpec.model_validate(SPEC), by="ed")
    proc = start_worker(workspace)
    try:
        deadline = time.monotonic() + 120
        while not queue.get(job.id).final and time.monotonic() < deadline:
            time.sleep(0.2)
        assert queue.get(job.id).state == "done"
        assert queue.get(job.id).worker == f"{__import__('socket').gethostname()}:{proc.pid}"
    finally:
        stop_worker(proc, grace=30)
    assert proc.returncode == 0
    store.close()


def test_the_worker_ends_when_the_process_that_started_it_is_gone(workspace):  # type: ignore[no-untyped-def]
    import os
    import subprocess
    import sys

    # a parent that starts the worker (as hocvu serve does) and is then killed with -9
    code = ("import os, subprocess, sys, time; "
            "p = subprocess.Popen([sys.executable, '-m', 'generator.cli.main', 'worker', '--parent-pid', "
            "str(os.getpid())]); print(p.pid, flush=True); time.sleep(600)")
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, env=os.environ.copy())
    assert parent.stdout is not None
    worker_pid = int(parent.stdout.readline())
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            os.kill(worker_pid, 0)
        except ProcessLookupError:
            break
        try:
            with open(f"/proc/{worker_pid}/stat") as f:  # a zombie (reaped by init later) has ended too
                if f.read().split(") ")[1].startswith("Z"):
                    break
        except FileNotFoundError:
            break
        time.sleep(0.2)
    else:
        os.kill(worker_pid, 9)
        raise AssertionError("the worker outlived its parent")
