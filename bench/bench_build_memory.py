"""Peak memory of an offline `hocvu build` of 96 lessons (or ``--lessons N``) with every format the demo
renders, for this checkout and, with ``--against DIR``, for another source tree beside it (e.g. an earlier
commit exported with ``git archive <commit> | tar -x -C DIR``), so the two figures are measured in one sitting.

Memory is the sum of PSS over the build's whole process tree (main process, render workers, espeak-ng),
sampled every 50 ms; the main process's own peak PSS is shown beside it, since that is the part that
grows with the batch. ``--lessons N`` widens the spec to the smallest grid of groups × levels that holds at
least N lessons (all 24 competences, the same formats); a line of progress goes to stderr every minute.

``--worker N [--trace] [--arenas K]`` measures one render worker instead (about a minute): the N lessons with
the longest narration, rendered one after another in a fresh worker process, with its PSS after each format and
the peak of its tree (espeak-ng included) while each format renders; printed only.
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from common import REPO, write_section

COMPETENCES = 24  # vn-dcf-2025
# The 96-lesson run's four groups first, so --lessons 96 is the spec measured before.
GROUPS = ["elderly", "farmers", "school-students", "civil-servants", "teachers", "parents-families",
          "enterprise-workers", "household-businesses", "ethnic-minorities", "university-students", "volunteers",
          "blind-low-vision", "deaf-hard-of-hearing"]


def spec_for(lessons: int) -> tuple[str, int, int, int]:
    """The smallest groups × levels grid of at least ``lessons`` lessons: (spec, groups, levels, lessons)."""
    combos = math.ceil(lessons / COMPETENCES)
    grids = [(math.ceil(combos / lv), lv) for lv in range(1, 9) if math.ceil(combos / lv) <= len(GROUPS)]
    if not grids:
        raise SystemExit(f"--lessons {lessons} is more than the framework has ({COMPETENCES * len(GROUPS) * 8})")
    groups, levels = min(grids, key=lambda g: (g[0] * g[1], g[1]))
    spec = (
        "name: bench-mem\n"
        "framework: vn-dcf-2025\n"
        f"groups: [{', '.join(GROUPS[:groups])}]\n"
        'competences: ["*"]\n'
        f"levels: [{', '.join(str(n) for n in range(1, levels + 1))}]\n"
        "languages: [vi]\n"
        "formats: [handout, guide, slides, audio, page]\n"
        "backend: offline\n"
        "concurrency: 8\n"
    )
    return spec, groups, levels, COMPETENCES * groups * levels


def _pss(pid: int) -> int:
    with open(f"/proc/{pid}/smaps_rollup") as fh:
        return next(int(line.split()[1]) * 1024 for line in fh if line.startswith("Pss:"))


def _cmdline(pid: int) -> bytes:
    with open(f"/proc/{pid}/cmdline", "rb") as fh:
        return fh.read()


def _tree_pss(pid: int) -> tuple[int, int]:
    """Sum of PSS of ``pid`` and its descendants (shared pages counted once): (exec'd only, every process).

    A child that has not yet exec'd (its command line is still its parent's: the moment between fork or
    vfork and exec, when a worker starts espeak-ng) holds no memory of its own: after vfork it shares its
    parent's pages outright, after fork copy-on-write. Reading its PSS then counts the parent's memory a
    second time (up to a whole worker, measured: a 100 MB worker was read as 100 MB + a 126 MB "espeak-ng"),
    so the first figure leaves it out; the second is the sum as this bench took it before, kept beside it.
    """
    total, every, stack = 0, 0, [(pid, b"")]
    while stack:
        p, parent_cmd = stack.pop()
        try:
            cmd = _cmdline(p)  # before the PSS: exec only goes one way
            pss = _pss(p)
            every += pss
            if p == pid or cmd != parent_cmd:
                total += pss
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    stack += [(int(c), cmd) for c in fh.read().split()]
        except (OSError, StopIteration):
            continue
    return total, every


def measure(source: Path, spec: str) -> dict[str, float]:
    """Build ``spec`` with the code of ``source`` in a fresh workspace; peak tree and main PSS, time."""
    ws = Path(tempfile.mkdtemp(prefix="bench-mem-"))
    (ws / "spec.yaml").write_text(spec, encoding="utf-8")
    env = {**os.environ, "HOCVU_WORKSPACE": str(ws), "HOME": str(ws), "PYTHONPATH": str(source)}
    env.pop("OPENAI_API_KEY", None)
    hocvu = str(Path(sys.executable).parent / "hocvu")
    start = time.perf_counter()
    proc = subprocess.Popen([hocvu, "build", "spec.yaml", "--workers", "2"], cwd=ws, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = {"tree": 0, "main": 0, "every": 0}

    def sample() -> None:
        last = start
        while proc.poll() is None:
            if time.perf_counter() - last >= 60:
                last = time.perf_counter()
                done = len(list((ws / "outputs/drafts").glob("*/v1")))
                print(f"{time.strftime('%H:%M:%S')} {last - start:.0f} s: {done} lessons drafted, peak tree "
                      f"{peak['tree'] / 1e6:.0f} MB ({peak['every'] / 1e6:.0f} MB with unexec'd children), "
                      f"main {peak['main'] / 1e6:.0f} MB, load {os.getloadavg()[0]:.1f}",
                      file=sys.stderr, flush=True)
            try:
                peak["main"] = max(peak["main"], _pss(proc.pid))
            except (OSError, StopIteration):
                pass
            tree, every = _tree_pss(proc.pid)
            peak["tree"], peak["every"] = max(peak["tree"], tree), max(peak["every"], every)
            time.sleep(0.05)

    th = threading.Thread(target=sample)
    th.start()
    proc.wait()
    th.join()
    if proc.returncode != 0:
        raise SystemExit(f"build failed ({source}): {proc.stderr.read().decode() if proc.stderr else ''}")
    lessons = len(list((ws / "outputs/drafts").glob("*/v1")))
    return {"tree": peak["tree"] / 1e6, "every": peak["every"] / 1e6, "main": peak["main"] / 1e6,
            "seconds": time.perf_counter() - start, "lessons": lessons}


def worker_child(trace: bool, arenas: int | None) -> None:
    """A render worker as the build starts one (warmed up, ``render_job`` per lesson), reading jobs from stdin
    and printing ``<format> <PSS after, KiB> <tracemalloc peak, KiB>`` after each format and each lesson."""
    import json
    import tracemalloc

    from generator.batch import worker
    from generator.batch.executor import RenderJob
    from generator.render import base

    if arenas:
        from generator import heap

        heap.ARENA_MAX = arenas  # read by heap.tune() when the first lesson starts
    if hasattr(worker, "start"):  # started as one of the build's two workers (code from 115c91e on)
        worker.start(os.getppid(), 2)
    worker.warm_up()
    make = base.FormatSpec.make

    class Marked:
        def __init__(self, renderer: Any) -> None:
            self.renderer, self.format, self.suffix = renderer, renderer.format, renderer.suffix

        def render(self, *args: Any) -> Any:
            print("begin", self.format, flush=True)
            if trace:
                tracemalloc.reset_peak()
            try:
                return self.renderer.render(*args)
            finally:
                held = tracemalloc.get_traced_memory()[1] // 1024 if trace else 0
                print("end", self.format, _pss(os.getpid()) // 1024, held, flush=True)

    base.FormatSpec.make = lambda spec: Marked(make(spec))  # type: ignore[method-assign]
    if trace:
        tracemalloc.start()
    for job in json.loads(sys.stdin.read()):
        print("begin lesson", flush=True)
        worker.render_job(RenderJob(**job))
        print("end lesson", _pss(os.getpid()) // 1024, 0, flush=True)


def probe_worker(count: int, trace: bool, arenas: int | None) -> None:
    """One render worker on the ``count`` lessons with the longest narration (group elderly, levels 5-6,
    every competence, drafted offline first): PSS after each format, the tree's peak while it runs."""
    import json

    ws = Path(tempfile.mkdtemp(prefix="bench-worker-"))
    spec = ("name: probe\nframework: vn-dcf-2025\ngroups: [elderly]\ncompetences: [\"*\"]\nlevels: [5, 6]\n"
            "languages: [vi]\nformats: [page]\nbackend: offline\nconcurrency: 8\n")
    (ws / "spec.yaml").write_text(spec, encoding="utf-8")
    env = {**os.environ, "HOCVU_WORKSPACE": str(ws), "HOME": str(ws), "PYTHONPATH": str(REPO)}
    env.pop("OPENAI_API_KEY", None)
    subprocess.run([str(Path(sys.executable).parent / "hocvu"), "build", "spec.yaml"], cwd=ws, env=env,
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    from generator.frameworks import Library

    lessons = sorted(((json.loads(f.read_text("utf-8")), f) for f in (ws / "outputs/drafts").glob("*/v1/lesson.json")),
                     key=lambda lf: -len(lf[0]["narration"]))[:count]
    group = Library(ws).group("elderly").model_dump_json()
    jobs = [{"key": str(i), "folder": str(ws / "render" / str(i)), "lesson_json": f.read_text("utf-8"),
             "group_json": group, "formats": ["handout", "guide", "slides", "audio", "page"], "workspace": str(ws)}
            for i, (_, f) in enumerate(lessons)]
    child = subprocess.Popen([sys.executable, __file__, "--worker-child", *(["--trace"] if trace else []),
                              *(["--arenas", str(arenas)] if arenas else [])],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
    assert child.stdin is not None and child.stdout is not None
    child.stdin.write(json.dumps(jobs))
    child.stdin.close()
    phase, done = ["start"], [False]
    peaks: dict[str, tuple[int, int]] = {}

    def sample() -> None:
        while not done[0]:
            tree, every = _tree_pss(child.pid)
            old = peaks.get(phase[0], (0, 0))
            peaks[phase[0]] = (max(old[0], tree), max(old[1], every))
            time.sleep(0.01)

    th = threading.Thread(target=sample)
    th.start()
    rows: dict[str, list[tuple[int, int, int, int]]] = {}
    for line in child.stdout:
        kind, fmt, *rest = line.split()
        if kind == "begin":
            phase[0] = fmt
            continue
        tree, every = peaks.pop(fmt, (0, 0))
        rows.setdefault(fmt, []).append((int(rest[0]) // 1024, tree // 2**20, every // 2**20, int(rest[1]) // 1024))
    done[0] = True
    th.join()
    if child.wait() != 0:
        raise SystemExit(f"the worker failed (its lessons are in {ws})")
    import shutil

    shutil.rmtree(ws, ignore_errors=True)  # ~27 MB of drafts and rendered files
    chars = [len(lesson["narration"]) for lesson, _ in lessons]
    print(f"one render worker, {count} lessons of {min(chars)}-{max(chars)} narration characters (elderly, L5-6), "
          f"load {os.getloadavg()[0]:.1f}, arenas {arenas or 'as heap.py sets'}")
    print("format   | PSS after (MB), max | tree peak while rendering (MB), max | the same, counting children "
          "before exec | tracemalloc peak (MB), max")
    for fmt, vals in rows.items():
        if fmt == "lesson":  # its own line below (the formats' rows hold the peaks)
            continue
        print(f"{fmt:8} | {max(v[0] for v in vals):4} | {max(v[1] for v in vals):4} | {max(v[2] for v in vals):4} | "
              f"{max(v[3] for v in vals) if trace else '-'}")
    print("after each lesson (MB):", " ".join(str(v[0]) for v in rows.get("lesson", [])))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--against", type=Path, help="another source tree to measure beside this one")
    parser.add_argument("--label", default="before", help="what to call the other tree in the table")
    parser.add_argument("--lessons", type=int, default=96, help="at least this many lessons (default 96)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave BENCHMARKS.md alone")
    parser.add_argument("--worker", type=int, metavar="N",
                        help="instead: one render worker on the N lessons with the longest narration")
    parser.add_argument("--trace", action="store_true", help="with --worker: also tracemalloc's peak per format")
    parser.add_argument("--arenas", type=int, help="with --worker: glibc arenas in the worker (default: heap.py's)")
    parser.add_argument("--worker-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker_child:
        return worker_child(args.trace, args.arenas)
    if args.worker:
        return probe_worker(args.worker, args.trace, args.arenas)
    spec, groups, levels, lessons = spec_for(args.lessons)
    runs = []
    if args.against:
        runs.append((args.label, measure(args.against, spec)))
    runs.append(("this commit", measure(REPO, spec)))
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True)
    commit = head.stdout.strip()
    load = "-".join(f"{x:.1f}" for x in os.getloadavg())
    rows = "\n".join(f"| {commit if name == 'this commit' else name} | {r['lessons']:.0f} | **{r['tree']:.0f} MB** | "
                     f"{r['every']:.0f} MB | {r['main']:.0f} MB | {r['seconds']:.0f} s | {load} (at the end) |"
                     for name, r in runs)
    body = (
        "Command: `.venv/bin/python bench/bench_build_memory.py [--lessons N] [--against DIR] [--no-write]` (96 "
        "lessons by default, ~2-4 minutes; `--lessons 1000`, 1,008 lessons, ~17 minutes). "
        "`--worker 6 [--trace] [--arenas K]` measures one render worker on the six longest lessons (~1 minute).\n\n"
        f"`hocvu build --workers 2` of {lessons} offline lessons ({COMPETENCES} competences × {groups} groups × "
        f"level{'s 1-' + str(levels) if levels > 1 else ' 1'} × vi; handout, "
        "guide, slides, audio, page; concurrency 8); peak of the sum of PSS over the build's process tree, "
        "and the main process's own peak PSS, sampled every 50 ms. Goal: ≤ 600 MB. A child is counted once it has "
        "exec'd (between fork and exec it holds its parent's pages); the sum that also counts those moments, as the "
        "rows before 115c91e did, is beside it.\n\n"
        "| code | lessons | peak PSS, process tree | the same, counting children before exec | peak PSS, main process "
        "| time | load average |\n|---|---|---|---|---|---|---|\n"
        f"{rows}\n"
    )
    print(body)
    if not args.no_write:
        write_section("Build memory", body)


if __name__ == "__main__":
    main()
