"""Peak memory of an offline `hocvu build` of 96 lessons with every format the demo renders, for this
checkout and, with ``--against DIR``, for another source tree beside it (e.g. an earlier commit exported
with ``git archive <commit> | tar -x -C DIR``), so the two figures are measured in one sitting.

Memory is the sum of PSS over the build's whole process tree (main process, render workers, espeak-ng),
sampled every 50 ms; the main process's own peak PSS is shown beside it, since that is the part that
grows with the batch.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from common import REPO, write_section

SPEC = """\
name: bench-mem
framework: vn-dcf-2025
groups: [elderly, farmers, school-students, civil-servants]
competences: ["*"]
levels: [1]
languages: [vi]
formats: [handout, guide, slides, audio, page]
backend: offline
concurrency: 8
"""


def _pss(pid: int) -> int:
    with open(f"/proc/{pid}/smaps_rollup") as fh:
        return next(int(line.split()[1]) * 1024 for line in fh if line.startswith("Pss:"))


def _tree_pss(pid: int) -> int:
    """Sum of PSS of ``pid`` and its descendants (shared pages counted once)."""
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        try:
            total += _pss(p)
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    stack += [int(c) for c in fh.read().split()]
        except (OSError, StopIteration):
            continue
    return total


def measure(source: Path) -> dict[str, float]:
    """Build the spec with the code of ``source`` in a fresh workspace; peak tree and main PSS, time."""
    ws = Path(tempfile.mkdtemp(prefix="bench-mem-"))
    (ws / "spec.yaml").write_text(SPEC, encoding="utf-8")
    env = {**os.environ, "HOCVU_WORKSPACE": str(ws), "HOME": str(ws), "PYTHONPATH": str(source)}
    env.pop("OPENAI_API_KEY", None)
    hocvu = str(Path(sys.executable).parent / "hocvu")
    start = time.perf_counter()
    proc = subprocess.Popen([hocvu, "build", "spec.yaml", "--workers", "2"], cwd=ws, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = {"tree": 0, "main": 0}

    def sample() -> None:
        while proc.poll() is None:
            try:
                peak["main"] = max(peak["main"], _pss(proc.pid))
            except (OSError, StopIteration):
                pass
            peak["tree"] = max(peak["tree"], _tree_pss(proc.pid))
            time.sleep(0.05)

    th = threading.Thread(target=sample)
    th.start()
    proc.wait()
    th.join()
    if proc.returncode != 0:
        raise SystemExit(f"build failed ({source}): {proc.stderr.read().decode() if proc.stderr else ''}")
    lessons = len(list((ws / "outputs/drafts").glob("*/v1")))
    return {"tree": peak["tree"] / 1e6, "main": peak["main"] / 1e6, "seconds": time.perf_counter() - start,
            "lessons": lessons}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--against", type=Path, help="another source tree to measure beside this one")
    parser.add_argument("--label", default="before", help="what to call the other tree in the table")
    parser.add_argument("--no-write", action="store_true", help="print only; leave BENCHMARKS.md alone")
    args = parser.parse_args()
    runs = []
    if args.against:
        runs.append((args.label, measure(args.against)))
    runs.append(("this commit", measure(REPO)))
    rows = "\n".join(f"| {name} | {r['lessons']:.0f} | {r['tree']:.0f} MB | {r['main']:.0f} MB | {r['seconds']:.0f} s |"
                     for name, r in runs)
    body = (
        "Command: `.venv/bin/python bench/bench_build_memory.py [--against DIR]`.\n\n"
        "`hocvu build --workers 2` of 96 offline lessons (24 competences × 4 groups × level 1 × vi; handout, "
        "guide, slides, audio, page; concurrency 8); peak of the sum of PSS over the build's process tree, "
        "and the main process's own peak PSS, sampled every 50 ms. Goal: ≤ 600 MB.\n\n"
        "| code | lessons | peak PSS, process tree | peak PSS, main process | time |\n|---|---|---|---|---|\n"
        f"{rows}\n"
    )
    print(body)
    if not args.no_write:
        write_section("Build memory", body)


if __name__ == "__main__":
    main()
