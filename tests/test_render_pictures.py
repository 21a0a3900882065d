"""Step pictures: a drawn phone screen for every step, in every format, with alt text; Vietnamese labels
drawn with their diacritics; the control to tap ringed in red."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageStat

from generator.render.pictures import HEIGHT, WIDTH, draw_png, step_pictures
from generator.sketch import ScreenSketch
from tests.support.drafts import REPO, offline_lesson

REFERENCE = REPO / "tests" / "data" / "sketch-zalo-privacy.png"
SKETCH = ScreenSketch(app="Zalo", title="Quyền riêng tư", kind="list",
                      items=["Hiện ngày sinh", "Cho phép người lạ tìm thấy tôi [bật]", "Chặn tin nhắn từ người lạ"],
                      tap="Cho phép người lạ tìm thấy tôi [bật]")


def _img(png: bytes) -> Image.Image:
    return Image.open(io.BytesIO(png)).convert("RGB")


def test_a_known_sketch_matches_its_reference_drawing():
    img = _img(draw_png(SKETCH))
    assert img.size == (WIDTH, HEIGHT)
    ref = Image.open(REFERENCE).convert("RGB")
    diff = ImageStat.Stat(ImageChops.difference(img, ref)).mean
    assert max(diff) < 2.0, diff  # the same drawing, up to anti-aliasing


def test_the_vietnamese_title_is_drawn_with_its_diacritics():
    plain = SKETCH.model_copy(update={"title": "Quyen rieng tu"})
    a, b = _img(draw_png(SKETCH)), _img(draw_png(plain))
    bar = (0, 140, WIDTH, 230)  # the title line of the app bar
    assert ImageChops.difference(a.crop(bar), b.crop(bar)).getbbox() is not None


def test_the_control_to_tap_is_ringed_in_red():
    img = _img(draw_png(SKETCH))
    red = sum(1 for r, g, b in img.getdata() if r > 180 and g < 60 and b < 60)
    assert red > 2000
    other = _img(draw_png(SKETCH.model_copy(update={"tap": "Hiện ngày sinh"})))
    assert ImageChops.difference(img, other).getbbox() is not None  # the ring moved


def test_every_step_of_a_lesson_gets_a_picture_with_alt_text(library):
    lesson = offline_lesson(library, "2.3", 1, "elderly", "vi").lesson
    pics = step_pictures(lesson)
    assert [p.step for p in pics] == list(range(1, len(lesson.steps) + 1))
    assert all(p.alt.startswith("Màn hình") and _img(p.png).size == (WIDTH, HEIGHT) for p in pics)


@pytest.mark.parametrize("fmt", ["handout", "guide", "slides", "card"])
def test_office_files_carry_the_pictures_with_descriptions(library, tmp_path: Path, fmt):
    from generator.config import load_settings
    from generator.render import render_lesson

    lesson = offline_lesson(library, "2.3", 1, "elderly", "vi").lesson
    result = render_lesson(lesson, library.group("elderly"), tmp_path, [fmt], load_settings())
    with zipfile.ZipFile(result.files[fmt]) as z:
        media = [n for n in z.namelist() if n.split("/")[1:2] == ["media"]]
        xml = "".join(z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xml"))
    assert len(media) >= 1
    assert xml.count('descr="Màn hình') >= len(lesson.steps)


def test_the_page_shows_every_step_picture_with_alt_text(library):
    from generator.render import render_page_html

    lesson = offline_lesson(library, "2.3", 1, "elderly", "vi").lesson
    html = render_page_html(lesson, library.group("elderly"), {})
    assert html.count('<img class="screen" src="data:image/png;base64,') == len(lesson.steps)
    assert html.count('alt="Màn hình') == len(lesson.steps)


def test_blind_learners_get_no_pictures_and_deaf_learners_larger_ones(library):
    from generator.render.pictures import picture_scale

    assert picture_scale(library.group("deaf-hard-of-hearing")) > picture_scale(library.group("farmers"))
    from generator.render import render_page_html

    lesson = offline_lesson(library, "2.3", 1, "blind-low-vision", "vi").lesson
    assert 'class="screen"' not in render_page_html(lesson, library.group("blind-low-vision"), {})


def test_key_points_and_tips_carry_lucide_icons_and_the_credit(library, tmp_path: Path):
    import docx

    from generator.render import render_page_html
    from generator.render.handout import render_handout
    from generator.render.icons import ICONS, icon_png

    assert set(ICONS) >= {"key_point", "tip_safety", "tip_mistake", "tip_access"}
    png = _img(icon_png("tip_safety", "#0B3D91", 96))
    assert png.size == (96, 96) and png.getbbox() is not None
    lesson = offline_lesson(library, "2.3", 1, "farmers", "vi").lesson
    html = render_page_html(lesson, library.group("farmers"), {})
    assert html.count('class="icon"') == len(lesson.key_points) + len(lesson.tips)
    assert "Biểu tượng: Lucide" in html
    doc = docx.Document(str(render_handout(lesson, library.group("farmers"), tmp_path / "h.docx")))
    assert any("Biểu tượng: Lucide" in p.text for p in doc.paragraphs)
    assert len(doc.inline_shapes) >= len(lesson.key_points) + len(lesson.tips) + len(lesson.steps)
