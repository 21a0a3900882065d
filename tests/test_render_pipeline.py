"""render_lesson (files, order, notes, timings, errors), the registry, and ``hocvu render``."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from generator.config import Settings
from generator.errors import NotFoundError, RenderError
from generator.lesson import Lesson
from generator.render import RENDERERS, RenderContext, Renderer, get_renderer, record_notes, render_lesson
from generator.render.tts import GTTS
from tests.lesson_samples import sample_group, vi_lesson
from tests.support.fakes import FakeTTS


@pytest.fixture
def gtts_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """Point gTTS at a loopback port where nothing listens (refused at once), bypassing any proxy."""
    import gtts.tts

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        base = f"http://127.0.0.1:{s.getsockname()[1]}/"
    monkeypatch.setattr(gtts.tts, "_translate_url", lambda tld="com", path="": base + path)
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)


ALL = ["handout", "guide", "slides", "audio", "page"]
NAMES = {
    "handout": "handout.docx",
    "guide": "guide.docx",
    "slides": "slides.pptx",
    "audio": "narration.mp3",
    "page": "index.html",
}


def test_render_lesson_writes_every_format_page_last(tmp_path: Path) -> None:
    tts = FakeTTS()
    out = tmp_path / "out"
    result = render_lesson(vi_lesson(), sample_group(), out, ["page", *ALL], Settings(), tts=tts)
    assert list(result.files) == ALL  # the page last, no repeat
    assert result.files == {fmt: out / name for fmt, name in NAMES.items()}
    assert all(p.stat().st_size > 0 for p in result.files.values())
    assert set(result.timings) == set(ALL) and all(t > 0 for t in result.timings.values())
    assert result.notes == []
    from generator.render.speech import spoken

    assert tts.calls == [(spoken(vi_lesson().narration, "vi"), "vi", 130)]  # addresses and acronyms read out
    page = (out / "index.html").read_text("utf-8")
    for name in ("handout.docx", "guide.docx", "slides.pptx", "narration.mp3"):
        assert f'href="{name}"' in page
    assert sorted(p.name for p in out.iterdir()) == sorted(NAMES.values())  # no temporary files


def test_page_alone_links_files_already_there(tmp_path: Path) -> None:
    (tmp_path / "slides.pptx").write_bytes(b"x")
    result = render_lesson(vi_lesson(), sample_group(), tmp_path, ["page"], Settings())
    page = result.files["page"].read_text("utf-8")
    assert 'href="slides.pptx"' in page and "handout.docx" not in page and "<audio" not in page


def test_fallback_note_reaches_the_result(tmp_path: Path, gtts_refused: None) -> None:
    tts = GTTS(timeout=2, fallback=FakeTTS())
    result = render_lesson(vi_lesson(), sample_group(), tmp_path, ["audio"], Settings(), tts=tts)
    assert result.notes == ["narration: gTTS unreachable (no connection), used fake"]
    lesson = record_notes(vi_lesson(), result.notes)
    assert lesson.provenance.notes == result.notes
    assert record_notes(lesson, result.notes).provenance.notes == result.notes  # no repeats


def test_the_lessons_speech_is_freed_once_its_mp3_is_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Without the video nothing keeps the whole lesson's speech (12 MB of PCM for a long lesson) while the
    # page and the documents after it are rendered.
    import gc
    import weakref

    from generator.render.page import PageRenderer
    from tests.test_render_narration import CountingSpeaker

    said: list[weakref.ref[object]] = []

    class Speaker(CountingSpeaker):
        def speak(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            speech = super().speak(*args, **kwargs)
            said.append(weakref.ref(speech))
            return speech

    alive: list[bool] = []
    render_page = PageRenderer.render

    def page(self, lesson, group, out_dir, ctx):  # type: ignore[no-untyped-def]
        gc.collect()
        alive.append(said[0]() is not None)
        return render_page(self, lesson, group, out_dir, ctx)

    monkeypatch.setattr(PageRenderer, "render", page)
    tts = Speaker()
    result = render_lesson(vi_lesson(), sample_group(), tmp_path, ["audio", "handout", "page"], Settings(), tts=tts)
    assert tts.calls == 1 and alive == [False] and result.files["audio"].stat().st_size > 1000


def test_unknown_format_and_wrong_group_fail_before_any_work(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="unknown format 'poster'; choose one of: handout, guide"):
        render_lesson(vi_lesson(), sample_group(), tmp_path / "a", ["handout", "poster"], Settings())
    with pytest.raises(RenderError, match="written for group 'elderly', not 'farmers'"):
        render_lesson(vi_lesson(), sample_group(gid="farmers"), tmp_path / "b", ["handout"], Settings())
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_a_failing_renderer_names_the_lesson_and_the_format(tmp_path: Path) -> None:
    class Broken(FakeTTS):
        def synthesize(self, text: str, lang: str, rate_wpm: int, out_path: Path) -> None:
            raise RenderError("engine exploded; reinstall it")

    with pytest.raises(RenderError, match=r"vn-dcf-2025\.4\.2\.L1\.elderly\.vi: audio: engine exploded"):
        render_lesson(vi_lesson(), sample_group(), tmp_path, ["audio"], Settings(), tts=Broken())


def test_registry_builds_renderers_that_keep_the_protocol() -> None:
    assert list(RENDERERS) == [*ALL, "video", "card"]
    for fmt in ALL:
        r = get_renderer(fmt)
        assert isinstance(r, Renderer) and r.format == fmt and {**NAMES, "video": "lesson.mp4",
                                                                "card": "card.docx"}[fmt].endswith(r.suffix)
    assert RenderContext().notes == []


def test_importing_render_stays_light() -> None:
    code = (
        "import sys, generator.render; "
        "print([m for m in ('docx', 'pptx', 'PIL', 'gtts', 'mutagen', 'lameenc') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# -- hocvu render ---------------------------------------------------------------------------------
@pytest.fixture
def lesson_json(workspace: Path) -> Path:
    """A Vietnamese lesson for the shipped 'elderly' group, saved as JSON in the workspace."""
    path = workspace / "lessons" / "otp.json"
    path.parent.mkdir()
    path.write_text(vi_lesson().model_dump_json(indent=2), "utf-8")
    return path


def test_cli_renders_next_to_the_lesson(cli, lesson_json: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("render", str(lesson_json), "--formats", "handout,slides,page")
    assert result.exit_code == 0, result.output
    for name in ("handout.docx", "slides.pptx", "index.html"):
        assert (lesson_json.parent / name).is_file()
        assert name in result.stdout


def test_cli_records_a_tts_fallback_in_the_provenance(
    cli,
    lesson_json: Path,
    tmp_path: Path,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
    gtts_refused: None,
) -> None:
    import generator.render.tts as tts_module

    monkeypatch.setattr(tts_module, "make_tts", lambda settings: GTTS(timeout=2, fallback=FakeTTS()))
    out = tmp_path / "render"
    result = cli("render", str(lesson_json), "--formats", "audio", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "gTTS unreachable" in result.stdout
    saved = Lesson.model_validate_json(lesson_json.read_text("utf-8"))
    assert saved.provenance.notes == ["narration: gTTS unreachable (no connection), used fake"]
    assert (out / "narration.mp3").is_file()


def test_cli_errors_say_what_to_do(cli, workspace: Path, lesson_json: Path) -> None:  # type: ignore[no-untyped-def]
    missing = cli("render", str(workspace / "nope.json"))
    assert missing.exit_code == 2 and "does not exist" in missing.stderr
    bad = workspace / "bad.json"
    bad.write_text(json.dumps({"title": "x"}), "utf-8")
    invalid = cli("render", str(bad))
    assert invalid.exit_code == 2 and "is not a valid lesson" in invalid.stderr
    unknown = cli("render", str(lesson_json), "--formats", "poster")
    assert unknown.exit_code == 2 and "unknown format 'poster'" in unknown.stderr
