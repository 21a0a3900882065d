"""The narrated slide video: H.264/AAC 1280x720, as long as its narration, one caption per spoken
sentence with real timings, chapters, captions burned in for deaf learners, and it plays in Chromium."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from generator.lesson import PAUSE, sentences
from tests.support.drafts import offline_lesson
from tests.support.fakes import FakeTTS

pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs Debian's ffmpeg")


def _probe(path: Path) -> dict:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-show_format", "-show_chapters", "-of", "json",
                          str(path)], capture_output=True, check=True)
    return json.loads(out.stdout)


@pytest.fixture(scope="module")
def video(library, tmp_path_factory):  # type: ignore[no-untyped-def]
    from generator.render.video import render_video

    lesson = offline_lesson(library, "2.3", 1, "elderly", "vi").lesson
    out = tmp_path_factory.mktemp("video") / "lesson.mp4"
    render_video(lesson, library.group("elderly"), out, FakeTTS())
    return lesson, out


def test_h264_aac_720p_with_soft_subtitles_and_chapters(video):
    _, path = video
    info = _probe(path)
    kinds = {s["codec_type"]: s for s in info["streams"]}
    assert kinds["video"]["codec_name"] == "h264" and (kinds["video"]["width"], kinds["video"]["height"]) == (1280, 720)
    assert kinds["audio"]["codec_name"] == "aac" and kinds["subtitle"]["codec_name"] == "mov_text"
    assert len(info["chapters"]) >= 5 and info["chapters"][0]["tags"]["title"] == "Mở đầu"
    assert abs(float(kinds["audio"]["duration"]) - float(kinds["video"]["duration"])) < 0.5


def test_one_caption_per_spoken_sentence_with_increasing_times(video):
    lesson, path = video
    vtt = (path.parent / "captions.vtt").read_text(encoding="utf-8")
    assert vtt.startswith("WEBVTT")
    cues = [block.split("\n") for block in vtt.strip().split("\n\n")[1:]]
    spoken = [s for s in sentences(lesson.narration) if s.strip() != PAUSE]
    assert sorted(c[1] for c in cues) == sorted(spoken)  # each said once, while its own slide is shown
    starts = [c[0].split(" --> ")[0] for c in cues]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    assert (path.parent / "captions.srt").read_text(encoding="utf-8").startswith("1\n00:00:00,000 --> ")


def test_the_video_lasts_as_long_as_its_narration(video):
    _, path = video
    last = (path.parent / "captions.vtt").read_text(encoding="utf-8").strip().split("\n\n")[-1]
    end = last.split("\n")[0].split(" --> ")[1]
    h, m, s = end.split(":")
    spoken_until = int(h) * 3600 + int(m) * 60 + float(s)
    assert 0 < float(_probe(path)["format"]["duration"]) - spoken_until < 3.0  # the last words, then a moment


def test_deaf_learners_get_captions_burned_into_the_picture(library, tmp_path):
    from generator.render.video import render_video

    deaf = library.group("deaf-hard-of-hearing")
    lesson = offline_lesson(library, "2.3", 1, "deaf-hard-of-hearing", "vi").lesson
    plain = deaf.model_copy(update={"modality": deaf.modality.model_copy(update={"captions_burned_in": False})})
    a, b = tmp_path / "a" / "lesson.mp4", tmp_path / "b" / "lesson.mp4"
    a.parent.mkdir()
    b.parent.mkdir()
    render_video(lesson, deaf, a, FakeTTS())
    render_video(lesson, plain, b, FakeTTS())

    def frame(p: Path) -> bytes:
        return subprocess.run(["ffmpeg", "-v", "error", "-ss", "1.0", "-i", str(p), "-frames:v", "1", "-f", "rawvideo",
                               "-pix_fmt", "gray", "-"], capture_output=True, check=True).stdout

    assert frame(a) != frame(b)


@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="needs Debian's chromium")
def test_chromium_plays_the_pages_video(library, tmp_path):
    from playwright.sync_api import sync_playwright

    from generator.config import load_settings
    from generator.render import render_lesson

    lesson = offline_lesson(library, "2.3", 1, "farmers", "vi").lesson
    render_lesson(lesson, library.group("farmers"), tmp_path, ["video", "page"], load_settings(), tts=FakeTTS())
    html = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert '<video controls="" preload="metadata" src="lesson.mp4"' in html and 'src="captions.vtt"' in html
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        page = browser.new_page()
        page.goto((tmp_path / "index.html").as_uri())
        page.wait_for_function("document.querySelector('video').readyState >= 1", timeout=20_000)
        duration = page.evaluate("document.querySelector('video').duration")
        browser.close()
    audio = next(s for s in _probe(tmp_path / "lesson.mp4")["streams"] if s["codec_type"] == "audio")
    assert duration == pytest.approx(float(audio["duration"]), abs=0.5)


def test_a_failed_video_leaves_the_other_files_and_says_why(library, tmp_path, monkeypatch):
    from generator.config import load_settings
    from generator.render import render_lesson

    monkeypatch.setenv("PATH", "/nonexistent")  # no ffmpeg to be found
    lesson = offline_lesson(library, "2.3", 1, "farmers", "vi").lesson
    result = render_lesson(lesson, library.group("farmers"), tmp_path, ["handout", "video", "page"],
                           load_settings(), tts=FakeTTS())
    assert set(result.files) == {"handout", "page"} and not (tmp_path / "lesson.mp4").exists()
    assert any(n.startswith("video: not made: ffmpeg is not installed") for n in result.notes)
