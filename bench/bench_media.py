"""Pictures and video for one real offline lesson: picture drawing per step, video seconds per minute of
narration (goal ≤ 0.2× real time on 2 cores) and MB per minute (goal ≤ 4 MB), and the whole lesson with
every format.

    .venv/bin/python bench/bench_media.py [--competence 4.2] [--group elderly] [-n 3] [--no-write]

Pictures: each step's sketch drawn from scratch (the in-memory cache cleared), median of 20 runs. Video:
espeak-ng narration, median of N runs. All formats: `hocvu draft --formats all` as a user runs it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import sample_lesson, write_section

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--competence", default="4.2")
    parser.add_argument("--group", default="elderly")
    parser.add_argument("-n", type=int, default=3, help="video runs (default 3)")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()

    from generator.render import pictures
    from generator.render.tts import EspeakTTS
    from generator.render.video import render_video

    lesson, group = sample_lesson(args.competence, args.group)

    per_step = []
    for _ in range(20):
        pictures._draw_cached.cache_clear()
        t = time.perf_counter()
        pics = pictures.step_pictures(lesson)
        per_step.append((time.perf_counter() - t) / max(1, len(pics)))
    pic_ms = statistics.median(per_step) * 1000

    runs, sizes, minutes = [], [], 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.n):
            out = Path(tmp) / f"r{i}" / "lesson.mp4"
            out.parent.mkdir()
            t = time.perf_counter()
            render_video(lesson, group, out, EspeakTTS())
            runs.append(time.perf_counter() - t)
            dur = float(subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of",
                                        "csv=p=0", str(out)], capture_output=True, check=True).stdout)
            minutes = dur / 60
            sizes.append(out.stat().st_size / 1e6 / minutes)
        ws = Path(tmp) / "ws"
        ws.mkdir()
        env = dict(os.environ, HOCVU_WORKSPACE=str(ws), HOME=str(ws))
        t = time.perf_counter()
        subprocess.run([str(ROOT / ".venv" / "bin" / "hocvu"), "draft", "-f", "vn-dcf-2025", "-c", args.competence,
                        "-l", "1", "-g", args.group, "--lang", "vi", "--formats", "all"], env=env, check=True,
                       capture_output=True)
        all_formats = time.perf_counter() - t
    ratio = statistics.median(runs) / (minutes * 60)
    mb = statistics.median(sizes)
    body = (
        f"Lesson vn-dcf-2025 {args.competence} level 1 for `{args.group}` (vi), drafted offline; "
        f"{len(lesson.steps)} steps, a {minutes:.1f}-minute narration spoken by espeak-ng.\n\n"
        "| metric | value | goal |\n|---|---|---|\n"
        f"| picture drawing per step (median of 20, cache cleared) | {pic_ms:.0f} ms | |\n"
        f"| video render time / narration time (median of {args.n}) | {ratio:.3f}× | ≤ 0.2× "
        f"({'met' if ratio <= 0.2 else 'MISSED'}) |\n"
        f"| video size per minute | {mb:.2f} MB | ≤ 4 MB ({'met' if mb <= 4 else 'MISSED'}) |\n"
        f"| `hocvu draft --formats all` (8 formats, one process as a user runs it) | {all_formats:.1f} s | |\n"
    )
    if not args.no_write:
        write_section("Pictures and video", body)
    print(body)


if __name__ == "__main__":
    sys.exit(main())
