"""Job benchmarks (issue 14), against a Redis of our own (Debian's redis-server on a free loopback port):

1. The same 96-lesson offline job (2 groups × 24 competences × 2 levels, handout + page) through the local
   worker, one Celery worker and two Celery workers (``--tasks`` draft/render tasks at once each, 2).
2. A simulated national batch: 1,008 lessons (``--national-groups`` 3 × 24 competences × 7 levels × vi/en)
   against the loopback model server answering each call after 2 s, 64 calls in flight shared across
   2 Celery workers (32 task threads each): wall time against the ideal lessons × 2 s ÷ 64.

Each run: fresh workspace, workers started and warmed up by a one-lesson job first, then the job timed from
enqueue until the worker records its end. The job's build runs in the coordinator of the worker that
claimed it; its drafts and renders go to every Celery worker (``generator.jobs.celery_executor``).

    .venv/bin/python bench/bench_jobs.py [--only offline,national] [--tasks 2] [--national-groups 3] [--no-write]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import REPO, write_section

OFFLINE = {"name": "bench-offline", "framework": "vn-dcf-2025", "groups": ["elderly", "farmers"],
           "competences": ["*"], "levels": [1, 2], "languages": ["vi"], "formats": ["handout", "page"],
           "backend": "offline", "concurrency": 4}
NATIONAL = {"name": "bench-national", "framework": "vn-dcf-2025", "groups": ["elderly", "farmers", "teachers"],
            "competences": ["*"], "levels": [1, 2, 3, 4, 5, 6, 7], "languages": ["vi", "en"], "formats": ["page"],
            "backend": "openai", "concurrency": 64}
LATENCY = 2.0
IN_FLIGHT = 64


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_redis(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    """redis-server on a free loopback port."""
    import redis

    port = _port()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(folder)], stdout=subprocess.DEVNULL)
    client = redis.Redis(port=port)
    for _ in range(200):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    return proc, f"redis://127.0.0.1:{port}/0"


def _env(ws: Path, redis_url: str, extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HOCVU_", "OPENAI_"))}
    return env | {"HOCVU_WORKSPACE": str(ws), "HOCVU_REDIS_URL": redis_url, "HOCVU_WORKER_POLL": "0.1",
                  "PYTHONPATH": str(REPO), "HOME": str(ws / "home")} | extra


def _worker(ws: Path, env: dict[str, str], executor: str, concurrency: int) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "generator.cli.main", "worker", "--executor", executor,
           "--concurrency", str(concurrency)]
    log = (ws / f"worker-{time.monotonic_ns()}.log").open("wb")
    return subprocess.Popen(cmd, env=env, cwd=ws, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
    for p in procs:
        try:
            p.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()


def _job(ws: Path, spec: dict[str, Any], executor: str, timeout: float = 3600) -> tuple[float, Any]:
    """Enqueue ``spec`` and wait for its end; (seconds, job)."""
    os.environ["HOCVU_WORKSPACE"] = str(ws)
    from generator.batch.spec import BatchSpec
    from generator.config import load_settings
    from generator.jobs.queue import JobQueue
    from generator.review.store import ReviewStore

    with ReviewStore.open(load_settings(ws)) as store:
        queue = JobQueue(store.engine)
        t = time.perf_counter()
        job = queue.enqueue(BatchSpec.model_validate(spec), by="bench", executor=executor)
        while not (done := queue.get(job.id)).final:
            if time.perf_counter() - t > timeout:
                raise SystemExit(f"job {job.id} did not end in {timeout} s: {done.progress}")
            time.sleep(0.1)
        return time.perf_counter() - t, done


def _run(spec: dict[str, Any], executor: str, workers: int, concurrency: int, redis_url: str,
         extra: dict[str, str] | None = None) -> tuple[float, Any, Path]:
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    ws = Path(tempfile.mkdtemp(prefix=f"bench-jobs-{executor}-"))
    (ws / "home").mkdir()
    env = _env(ws, redis_url, extra or {})
    procs = [_worker(ws, env, executor, concurrency) for _ in range(workers)]
    try:
        warm = spec | {"name": "warm-up", "groups": spec["groups"][:1], "competences": ["1.1"], "levels": [8],
                       "languages": ["vi"]}
        _job(ws, warm, executor, 300)
        seconds, job = _job(ws, spec, executor)
    finally:
        _stop(procs)
    return seconds, job, ws


def bench_offline(redis_url: str, tasks: int = 2) -> str:
    rows = []
    results: dict[str, float] = {}
    for label, executor, workers in (("local worker", "local", 1), ("1 Celery worker", "celery", 1),
                                     ("2 Celery workers", "celery", 2)):
        seconds, job, ws = _run(OFFLINE, executor, workers, tasks, redis_url)
        totals = (job.report or {}).get("totals", {})
        assert job.state == "done", (label, job.error)
        results[label] = seconds
        rows.append(f"| {label} | {seconds:.1f} s | {totals.get('generated', 0)} | "
                    f"{seconds / max(1, totals.get('generated', 1)) * 1000:.0f} ms |")
        shutil.rmtree(ws, ignore_errors=True)
    base = results["local worker"]
    ratios = " · ".join(f"{k}: {base / v:.2f}×" for k, v in results.items() if k != "local worker")
    return ("### The same 96-lesson offline job, three ways\n\n"
            "Job: 2 groups × 24 competences × levels 1-2 × vi, formats handout + page, offline backend; timed "
            "from enqueue to the job's end, workers started and warmed up by a one-lesson job first. Celery "
            f"workers run {tasks} draft/render tasks at once each.\n\n"
            "| executor | wall time | lessons | per lesson |\n|---|---|---|---|\n" + "\n".join(rows) +
            f"\n\nSpeed relative to the local worker — {ratios}.\n")


def bench_national(redis_url: str, groups: int = 3) -> str:
    sys.path.insert(0, str(REPO))
    from functools import lru_cache

    from generator.frameworks import Library
    from tests.conftest import offline_lesson
    from tests.openai_server import LessonFactory, OpenAIServer

    lib = Library(None)
    names = {name: g.id for g in lib.groups.values() for name in (g.names.get("vi"), g.names.get("en"))}
    templates = {lang: offline_lesson(lib, lang=lang).lesson.draft_part() for lang in ("vi", "en")}

    @lru_cache(maxsize=4096)
    def make(framework: str, code: str, level: int, group: str, lang: str) -> Any:
        gid = names.get(group)
        try:
            return offline_lesson(lib, code, level, gid, lang, framework=framework).lesson.draft_part() if gid else None
        except Exception:  # noqa: BLE001 - no offline content: the server's template
            return None

    with OpenAIServer(LessonFactory(templates, make), latency=LATENCY) as srv:
        extra = {"OPENAI_API_KEY": "sk-bench", "OPENAI_BASE_URL": srv.base_url, "HOCVU_MODEL": "bench-model",
                 "HOCVU_MODEL_CONCURRENCY": str(IN_FLIGHT), "HOCVU_TIMEOUT": "60"}
        spec = NATIONAL | {"groups": list(NATIONAL["groups"])[:groups]}  # type: ignore[call-overload]
        seconds, job, ws = _run(spec, "celery", 2, IN_FLIGHT // 2, redis_url, extra)
        calls = srv.calls
    totals = (job.report or {}).get("totals", {})
    n = totals.get("planned", 0)
    ideal = n * LATENCY / IN_FLIGHT
    shutil.rmtree(ws, ignore_errors=True)
    ratio = seconds / ideal if ideal else 0.0
    return ("### A simulated national batch\n\n"
            f"{n} lessons ({groups} group(s) × 24 competences × levels 1-7 × vi/en, page only) against the loopback "
            f"model server answering each call after {LATENCY:g} s; 2 Celery workers with {IN_FLIGHT // 2} "
            f"task threads each, {IN_FLIGHT} model calls in flight shared through Redis "
            f"(`HOCVU_MODEL_CONCURRENCY={IN_FLIGHT}`).\n\n"
            "| measure | value | goal |\n|---|---|---|\n"
            f"| wall time | {seconds:.1f} s | |\n| ideal ({n} × {LATENCY:g} s ÷ {IN_FLIGHT}) | {ideal:.1f} s | |\n"
            f"| wall ÷ ideal | {ratio:.2f}× | ≤ 1.25× ({'met' if ratio <= 1.25 else 'MISSED'}) |\n"
            f"| model calls | {calls - 1} (+1 warm-up) | {n} |\n"
            f"| generated / failed | {totals.get('generated', 0)} / {totals.get('failed', 0)} | |\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--only", default="offline,national", help="comma-separated parts to run")
    parser.add_argument("--tasks", type=int, default=2, help="offline part: tasks at once per Celery worker")
    parser.add_argument("--national-groups", type=int, default=3, choices=(1, 2, 3),
                        help="national part: groups (336 lessons each)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave BENCHMARKS.md alone")
    args = parser.parse_args()
    parts = set(args.only.split(","))
    folder = Path(tempfile.mkdtemp(prefix="bench-redis-"))
    redis_proc, url = start_redis(folder)
    sections = []
    try:
        if "offline" in parts:
            sections.append(bench_offline(url, args.tasks))
        if "national" in parts:
            sections.append(bench_national(url, args.national_groups))
    finally:
        redis_proc.terminate()
        redis_proc.wait(10)
        shutil.rmtree(folder, ignore_errors=True)
    body = "Command: `.venv/bin/python bench/bench_jobs.py`.\n\n" + "\n".join(sections)
    print(body)
    if not args.no_write:
        write_section("Jobs: local worker and Celery", body)


if __name__ == "__main__":
    main()
