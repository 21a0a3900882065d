"""Generated step pictures: off by default; through the OpenAI Images API (loopback server) when asked,
cached by prompt so a rerun pays nothing, and the drawn sketch whenever generation fails."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from PIL import Image

from tests.support.drafts import offline_lesson


def _media(docx: Path) -> list[bytes]:
    with zipfile.ZipFile(docx) as z:
        return [z.read(n) for n in z.namelist() if n.startswith("word/media/")]


def _green(png: bytes) -> bool:
    return Image.open(io.BytesIO(png)).convert("RGB").getpixel((5, 5)) == (0, 170, 0)


def test_sketches_are_the_default(library, tmp_path, openai_env):
    from generator.config import load_settings
    from generator.render import render_lesson

    lesson = offline_lesson(library, "4.2", 1, "farmers", "vi").lesson
    render_lesson(lesson, library.group("farmers"), tmp_path, ["handout"], load_settings())
    assert openai_env.image_requests == [] and not any(_green(m) for m in _media(tmp_path / "handout.docx"))


def test_generated_pictures_are_used_and_cached(library, tmp_path, openai_env, monkeypatch):
    from generator.config import load_settings
    from generator.render import render_lesson

    monkeypatch.setenv("HOCVU_IMAGES", "openai")
    lesson = offline_lesson(library, "4.2", 1, "farmers", "vi").lesson
    screens = sum(1 for s in lesson.steps if s.screen is not None)
    assert screens >= 1
    result = render_lesson(lesson, library.group("farmers"), tmp_path / "a", ["handout", "page"], load_settings())
    calls = len(openai_env.image_requests)  # one per step with a screen or a control it names
    assert calls >= screens and result.notes == []
    assert "smartphone screen" in openai_env.image_requests[0]["prompt"]
    assert any(_green(m) for m in _media(tmp_path / "a" / "handout.docx"))  # (docx stores one copy)
    render_lesson(lesson, library.group("farmers"), tmp_path / "b", ["handout"], load_settings())
    assert len(openai_env.image_requests) == calls  # from the cache: no new call


def test_a_failed_generation_falls_back_to_the_sketch_and_says_so(library, tmp_path, openai_env, monkeypatch):
    from generator.config import load_settings
    from generator.render import render_lesson

    monkeypatch.setenv("HOCVU_IMAGES", "openai")
    monkeypatch.setenv("HOCVU_MAX_RETRIES", "0")
    openai_env.image_fail = True
    lesson = offline_lesson(library, "4.2", 1, "farmers", "vi").lesson
    result = render_lesson(lesson, library.group("farmers"), tmp_path, ["handout"], load_settings())
    assert any("drew the sketch" in n for n in result.notes)
    assert not any(_green(m) for m in _media(tmp_path / "handout.docx"))


def test_the_build_plan_prices_generated_pictures(cli, workspace, monkeypatch):
    spec = workspace / "spec.yaml"
    spec.write_text("name: pics\nframework: vn-dcf-2025\ngroups: [farmers]\ncompetences: ['4.2']\nlevels: [1, 2]\n"
                    "languages: [vi]\nformats: [handout]\nbackend: offline\n", encoding="utf-8")
    monkeypatch.setenv("HOCVU_IMAGES", "openai")
    monkeypatch.setenv("HOCVU_IMAGE_PRICE_USD", "0.05")
    out = cli("build", str(spec), "--dry-run").output
    assert "pictures: up to 14 generated images, ~$0.70 at $0.05 each" in out
    monkeypatch.delenv("HOCVU_IMAGES")
    assert "pictures:" not in cli("build", str(spec), "--dry-run").output
