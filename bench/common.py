"""Helpers shared by the benchmarks: timing, medians, and writing a section of BENCHMARKS.md."""

from __future__ import annotations

import os
import platform
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def median_seconds(fn: Callable[[], object], repeat: int = 7, warmup: int = 1) -> tuple[float, list[float]]:
    """Median wall time of ``fn`` over ``repeat`` runs after ``warmup`` runs."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), times


def machine() -> str:
    """One line describing this machine."""
    cpu = ""
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    system = f"{platform.system()} {platform.machine()}"
    return f"{system}, {os.cpu_count()} cores ({cpu}), Python {platform.python_version()}"


NOTES = "<!-- notes below are written by hand and kept when the benchmark runs again -->"


def write_section(name: str, body: str) -> None:
    """Replace (or append) the section ``## name`` of BENCHMARKS.md with ``body``.

    Only the generated part is replaced: anything after the ``NOTES`` marker line inside the section (a
    reading of the figures, what was tried) is kept as it is, so running a benchmark again never drops
    what a person wrote beside its figures. A section without the marker gets one at its end."""
    path = REPO / "BENCHMARKS.md"
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n\nRun `make bench` to measure again.\n"
    stamp = time.strftime("%Y-%m-%d")
    git = ["git", "rev-parse", "--short", "HEAD"]
    commit = subprocess.run(git, cwd=REPO, capture_output=True, text=True).stdout.strip()
    pattern = re.compile(rf"^## {re.escape(name)}\n.*?(?=^## |\Z)", re.S | re.M)
    old = pattern.search(text)
    notes = ""
    if old and NOTES in old.group(0):
        notes = old.group(0).split(NOTES, 1)[1].strip()
    section = f"## {name}\n\nMeasured {stamp} at {commit or 'uncommitted'} on {machine()}.\n\n{body.strip()}\n\n"
    section += f"{NOTES}\n"
    section += f"\n{notes}\n\n" if notes else "\n"
    text = pattern.sub(lambda _m: section, text, count=1) if old else text.rstrip() + "\n\n" + section
    path.write_text(text, encoding="utf-8")


def sample_lesson(competence: str = "4.2", group: str = "elderly", level: int = 1,
                  language: str = "vi") -> tuple[Any, Any]:
    """A real lesson drafted offline (vn-dcf-2025) and its target group: the sample the media benchmarks
    (narration, pictures, video) share, so they measure the same narration."""
    from generator.config import load_settings
    from generator.drafting.backend import make_backend, run_sync
    from generator.drafting.service import adraft_lesson, build_request
    from generator.frameworks import Library

    lib = Library(None)
    settings = load_settings()
    req = build_request(lib, "vn-dcf-2025", competence, level, group, language)
    lesson = run_sync(adraft_lesson(lib, settings, make_backend(settings, lib, "offline"), req)).lesson
    return lesson, lib.group(group)
