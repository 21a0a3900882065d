"""The render worker: its share of speech threads, and the same files whatever that share."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from generator.batch import worker
from generator.batch.executor import RenderJob
from generator.config import Settings
from generator.render.tts import GTTS, EspeakTTS


@pytest.fixture
def share(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """``worker.start`` on a 4-processor machine, without its parent watch; returns the start function."""
    import generator.machine

    monkeypatch.setattr(generator.machine, "cpu_count", lambda: 4)
    monkeypatch.setattr(worker, "watch_parent", lambda parent: None)
    monkeypatch.setattr(worker, "_speech_threads", None)
    return worker.start


def test_workers_share_the_processors_for_speech(share) -> None:  # type: ignore[no-untyped-def]
    share(1, 4)
    tts = worker._tts(Settings(tts="espeak"), ("handout", "audio"))
    assert isinstance(tts, EspeakTTS) and tts.workers == 1
    share(1, 1)
    tts = worker._tts(Settings(tts="espeak"), ("audio",))
    assert isinstance(tts, EspeakTTS) and tts.workers == min(4, EspeakTTS().workers)
    share(1, 4)
    fallback = worker._tts(Settings(tts="gtts"), ("audio",))
    assert isinstance(fallback, GTTS) and isinstance(fallback.fallback, EspeakTTS) and fallback.fallback.workers == 1
    assert worker._tts(Settings(), ("handout", "page")) is None  # nothing speaks: no engine is made


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs espeak-ng")
def test_a_lessons_files_are_the_same_whatever_the_share(library, share, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from tests.support.drafts import offline_lesson

    lesson = offline_lesson(library, "4.2", 5, "elderly", "vi").lesson
    group = library.group("elderly").model_dump_json()
    files = {}
    for workers in (1, 4):  # two espeak-ng at once, then one
        share(1, workers)
        out = tmp_path / str(workers)
        job = RenderJob(key=lesson.id, folder=str(out), lesson_json=lesson.model_dump_json(), group_json=group,
                        formats=("audio", "page"), workspace=str(tmp_path))
        assert worker.render_job(job)["files"] == {"audio": "narration.mp3", "page": "index.html"}
        files[workers] = (out / "narration.mp3").read_bytes()
    assert len(files[1]) > 100_000 and files[1] == files[4]
