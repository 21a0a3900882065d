"""Rendering for batch builds, runnable in a worker process (a plain job in, plain data out)."""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator import heap

if TYPE_CHECKING:
    from generator.batch.executor import RenderJob
    from generator.config import Settings
    from generator.render.tts import TTSBackend

#: How often a worker checks that the build which started it still runs (seconds).
WATCH_INTERVAL = 0.5
# A worker's memory: glibc kept each lesson's freed speech and document buffers in its heaps and per-thread
# arenas (measured on the audio path: 46 MB at start, +15-25 MB a lesson); with ``generator.heap``'s fixed
# mmap threshold, two arenas and a trim after each lesson it stays flat. The trim only gives back what is
# free: the documents' reference cycles (python-docx and python-pptx parts holding lxml trees) wait for the collector's
# oldest generation, so they are collected first (the six longest lessons: flat at 58 MB after each, where
# it had grown 67 -> 90 MB; BENCHMARKS.md, "Build memory").
# Recycling workers (ProcessPoolExecutor(max_tasks_per_child=...)) is not used for this: on Python 3.11-3.13
# the pool stops replacing a worker that exits at its limit while tasks are queued, and a build always has
# some queued (CPython gh-115634), so it would hang.


#: Speech threads (espeak-ng processes at once) a worker may use: the processors shared among the pool's workers.
_speech_threads: int | None = None


def start(parent: int, workers: int = 1) -> None:
    """Pool initializer: watch the build that started this worker (``watch_parent``), and share the
    processors among the pool's ``workers``: two workers on two cores each speak with one espeak-ng at a time
    instead of two (the cores are busy either way; each one in flight holds its process and its chunk's
    speech, BENCHMARKS.md "Build memory")."""
    from generator.machine import cpu_count

    global _speech_threads
    _speech_threads = max(1, cpu_count() // max(1, workers))
    watch_parent(parent)


def render_job(job: RenderJob) -> dict[str, Any]:
    """Render a lesson into ``job.folder``; returns {'files': {format: name}, 'notes': [...], 'timings': {...}}."""
    import gc

    from generator.lesson import Lesson
    from generator.render import render_lesson
    from generator.schema import TargetGroup

    heap.tune()
    settings = _settings(job.workspace, tuple(sorted(job.settings.items())))
    lesson = Lesson.model_validate_json(job.lesson_json)
    group = TargetGroup.model_validate_json(job.group_json)
    try:
        result = render_lesson(lesson, group, Path(job.folder), list(job.formats), settings,
                               tts=_tts(settings, job.formats))
    finally:
        gc.collect()  # the documents' reference cycles, so that their memory is free for the trim
        heap.trim()  # what the lesson freed goes back to the system before the next one
    return {
        "files": {fmt: path.name for fmt, path in result.files.items()},
        "notes": list(result.notes),
        "timings": dict(result.timings),
    }


def _tts(settings: Settings, formats: tuple[str, ...]) -> TTSBackend | None:
    """The settings' TTS engine with this worker's share of speech threads, when a format speaks."""
    from generator.render import format_spec
    from generator.render.tts import EspeakTTS, make_tts

    if not any(format_spec(f.strip()).speaks for f in formats if f.strip()):
        return None
    tts = make_tts(settings)
    for engine in (tts, getattr(tts, "fallback", None)):  # gTTS falls back to espeak-ng
        if isinstance(engine, EspeakTTS) and _speech_threads is not None:
            engine.workers = min(engine.workers, _speech_threads)
    return tts


@functools.lru_cache(maxsize=8)
def _settings(workspace: str, items: tuple[tuple[str, Any], ...]) -> Settings:
    """The render settings, read once per workspace and overrides in a worker process (not per lesson)."""
    from generator.config import load_settings

    return load_settings(Path(workspace), **dict(items))


def warm_up() -> bool:
    """Import the heavy rendering libraries once, so the first lesson does not pay for it."""
    import docx  # noqa: F401
    import pptx  # noqa: F401

    import generator.render  # noqa: F401

    return True


def watch_parent(parent: int) -> None:
    """Pool initializer: end this worker as soon as the build that started it is gone, however it died
    (kill -9 included), instead of rendering on for minutes with nobody to take the result."""
    import threading
    import time

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(WATCH_INTERVAL)
        os._exit(1)

    threading.Thread(target=watch, name="hocvu-watch-parent", daemon=True).start()
