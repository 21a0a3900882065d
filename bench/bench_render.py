"""Render time per format for one Vietnamese lesson (goal: handout + guide + slides ≤ 150 ms).

    .venv/bin/python bench/bench_render.py [-n 20] [--audio-runs 5] [--group elderly] [--no-write]

Each format is rendered alone through ``render_lesson``: one cold run (imports, font loading), then
the median of N warm runs. The narration uses the real espeak-ng, so it is dominated by TTS.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from common import median_seconds, write_section

FORMATS = ("handout", "guide", "slides", "page", "audio")
GOAL_MS = 150.0


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("-n", type=int, default=20, help="warm runs per format (default 20)")
    parser.add_argument("--audio-runs", type=int, default=5, help="warm runs of the narration (default 5)")
    parser.add_argument("--group", default="elderly", help="shipped group profile (default elderly)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave BENCHMARKS.md alone")
    args = parser.parse_args()

    from generator.config import Settings
    from generator.frameworks import Library
    from generator.render import render_lesson
    from generator.render.tts import EspeakTTS
    from tests.lesson_samples import sample_group, vi_lesson

    lib = Library(None)
    group = lib.group(args.group) if args.group in lib.groups else sample_group()
    lesson = vi_lesson().model_copy(update={"group": group.id})
    settings, tts = Settings(), EspeakTTS()
    acc = group.accessibility
    rows, medians = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        for fmt in FORMATS:
            runs = args.audio_runs if fmt == "audio" else args.n
            start = time.perf_counter()
            render_lesson(lesson, group, out, [fmt], settings, tts=tts)
            cold = time.perf_counter() - start
            med, times = median_seconds(
                lambda fmt=fmt: render_lesson(lesson, group, out, [fmt], settings, tts=tts),
                repeat=runs,
                warmup=0,
            )
            medians[fmt] = med * 1000
            rows.append(
                f"| {fmt} | {med * 1000:.1f} ms | {min(times) * 1000:.1f} / {max(times) * 1000:.1f} ms "
                f"| {cold * 1000:.0f} ms | {runs} |"
            )
    docs = medians["handout"] + medians["guide"] + medians["slides"]
    body = (
        f"Lesson `{lesson.id}` (tests/lesson_samples.py), group `{group.id}` (font ×{acc.font_scale}, "
        f"high contrast {'yes' if acc.high_contrast else 'no'}), narration with espeak-ng. "
        f"Each format alone through `render_lesson`; cold = the first run in the process.\n\n"
        f"| format | median | min / max | cold | runs |\n|---|---|---|---|---|\n" + "\n".join(rows) + "\n\n"
        f"handout + guide + slides (docx + pptx): **{docs:.1f} ms** median "
        f"(goal ≤ {GOAL_MS:.0f} ms, {'met' if docs <= GOAL_MS else 'MISSED'}).\n"
    )
    if not args.no_write:
        write_section("Rendering: one lesson per format", body)
    print(body)


if __name__ == "__main__":
    sys.exit(main())
