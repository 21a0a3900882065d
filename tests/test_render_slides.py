"""Slides: reopened with python-pptx; outline, notes, language, theme, and every text box measured."""

from __future__ import annotations

from pathlib import Path

import pytest
from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE

from generator.lesson import sentences
from generator.render.fit import Fitter, Para, frame_fit
from generator.render.fonts import text_measure
from generator.render.labels import LETTERS, labels
from generator.render.slide_plan import Theme, assign_narration
from generator.render.slides import render_slides
from tests.lesson_samples import en_lesson, long_lesson, sample_group, vi_lesson

A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"


def titles(prs: Presentation) -> list[str]:
    """Every slide's title."""
    return [s.shapes.title.text for s in prs.slides]


def assert_every_box_fits(prs: Presentation) -> None:
    m = text_measure()
    for n, slide in enumerate(prs.slides, 1):
        for shape in slide.shapes:
            if shape.has_text_frame and shape.text_frame.text:
                fit = frame_fit(shape, m)
                assert fit.fits, (
                    f"slide {n} {shape.name!r}: needs {fit.needed:.0f} pt, has {fit.available:.0f}"
                )
                assert shape.left >= 0 and shape.top >= 0
                assert shape.left + shape.width <= prs.slide_width
                assert shape.top + shape.height <= prs.slide_height


@pytest.fixture
def deck_vi(tmp_path: Path) -> Presentation:
    """The Vietnamese deck for an elderly-like group, rendered and reopened."""
    return Presentation(str(render_slides(vi_lesson(), sample_group(), tmp_path / "s.pptx")))


def test_deck_is_16_9_and_follows_the_lesson(deck_vi: Presentation) -> None:
    lesson, w = vi_lesson(), labels("vi")
    assert round(deck_vi.slide_width / deck_vi.slide_height, 3) == round(16 / 9, 3)
    t = titles(deck_vi)
    assert t[0] == lesson.title
    assert t[1] == w["objectives"]
    n = len(lesson.key_points)
    assert t[2 : 2 + n] == [w["key_point"].format(n=f"{i}/{n}") for i in range(1, n + 1)]
    assert any(x.startswith(w["slides_steps"]) for x in t)
    assert w["example"] in t and w["practice"] in t
    assert t[-1] == w["summary"]
    body = "\n".join(s.placeholders[1].text_frame.text for s in deck_vi.slides)
    for o in lesson.objectives:
        assert o.text in body
    for k in lesson.key_points:
        assert k.text in body


def test_each_question_slide_is_followed_by_its_answer(deck_vi: Presentation) -> None:
    lesson, w = vi_lesson(), labels("vi")
    slides = list(deck_vi.slides)
    t = titles(deck_vi)
    for i, q in enumerate(lesson.quiz, 1):
        k = t.index(w["question"].format(n=i))
        assert q.question in slides[k].placeholders[1].text_frame.text
        assert t[k + 1] == w["answer_of"].format(n=i)
        answer = slides[k + 1].placeholders[1].text_frame.text
        assert f"{LETTERS[q.answer]}. {q.options[q.answer]}" in answer and q.explanation in answer


def test_every_slide_has_notes_from_the_narration(deck_vi: Presentation) -> None:
    notes = [s.notes_slide.notes_text_frame.text for s in deck_vi.slides]
    assert all(n.strip() for n in notes)
    joined = "\n".join(notes)
    for sentence in sentences(vi_lesson().narration):
        assert sentence in joined
    assert notes[0].startswith("Xin chào các bác.")


def test_language_is_set_on_all_text_and_pictures_have_alt_text(deck_vi: Presentation) -> None:
    assert deck_vi.core_properties.language == "vi-VN"
    assert "4.2" in deck_vi.core_properties.subject
    for slide in deck_vi.slides:
        for element in (slide._element, slide.notes_slide._element):
            runs = list(element.iter(f"{A}rPr"))
            assert runs and all(r.get("lang") == "vi-VN" for r in runs)
        for shape in slide.shapes:
            if shape.shape_type == MSO_SHAPE_TYPE.PICTURE:
                assert shape._element.nvPicPr.cNvPr.get("descr")
            if shape.name == "Decorative bar":  # marked decorative so screen readers skip it
                assert "decorative" in shape._element.nvSpPr.cNvPr.xml


def test_every_text_box_fits(deck_vi: Presentation) -> None:
    assert_every_box_fits(deck_vi)


def test_theme_follows_the_group(tmp_path: Path) -> None:
    prs = Presentation(str(render_slides(en_lesson(), sample_group(high_contrast=True), tmp_path / "s.pptx")))
    assert str(prs.slide_master.background.fill.fore_color.rgb) == "000000"
    first = prs.slides[1].placeholders[1].text_frame.paragraphs[0].runs[0].font
    assert str(first.color.rgb) == "FFFFFF"
    assert prs.core_properties.language == "en-US"
    big = Theme.for_group(sample_group(font_scale=1.5))
    normal = Theme.for_group(sample_group(font_scale=1.0))
    assert big.body_pt > normal.body_pt and big.body_floor >= 20


def test_long_text_splits_into_more_slides_that_all_fit(tmp_path: Path, deck_vi: Presentation) -> None:
    group = sample_group()
    prs = Presentation(str(render_slides(long_lesson(), group, tmp_path / "long.pptx")))
    assert len(prs.slides) > len(deck_vi.slides)
    t = titles(prs)
    steps = [x for x in t if x.startswith(labels("vi")["slides_steps"])]
    n = len(long_lesson().steps)
    assert len(steps) >= n and steps[0].startswith(f"{labels('vi')['slides_steps']} 1/{n}")  # a slide per step
    assert_every_box_fits(prs)
    floor = Theme.for_group(group).body_floor
    for slide in list(prs.slides)[1:]:
        sizes = [r.font.size.pt for p in slide.placeholders[1].text_frame.paragraphs for r in p.runs]
        assert min(sizes) >= floor * 0.85 - 0.1  # a step's result line: 0.85 of the body, in tenths of a point
    # the question slide was continued and is still followed by its answer
    w = labels("vi")
    k = max(i for i, x in enumerate(t) if x.startswith(w["question"].format(n=1)))
    assert t[k + 1] == w["answer_of"].format(n=1)


def test_every_step_has_its_phone_screen_beside_it_with_alt_text(deck_vi: Presentation) -> None:
    lesson = vi_lesson()
    pics = [(s, sh) for s in deck_vi.slides for sh in s.shapes if sh.shape_type == MSO_SHAPE_TYPE.PICTURE]
    assert len(pics) == len(lesson.steps)
    for slide, pic in pics:
        body = slide.placeholders[1]
        assert pic.left >= body.left + body.width  # beside the text, not over it
        assert pic._element.nvPicPr.cNvPr.get("descr").startswith("Màn hình")
        assert pic.top + pic.height <= deck_vi.slide_height


def test_fitter_shrinks_within_limits_then_splits_at_sentences() -> None:
    m = text_measure()
    fitter = Fitter(m, width=600, height=200)
    short = [(Para("Một câu ngắn."),)]
    assert [p.size for p in fitter.paginate(short, 36, 28)] == [36]
    text = " ".join(["Đây là một câu khá dài để thử cách cắt trang theo ranh giới câu."] * 6)
    pages = fitter.paginate([(Para(text),)], 36, 28)
    assert len(pages) > 1
    for page in pages:
        assert fitter.fits(page.paras, page.size)
        assert page.paras[0].text.endswith(".")  # cut at sentence ends
    assert " ".join(p.text for page in pages for p in page.paras) == text


def test_narration_goes_to_the_slides_it_talks_about() -> None:
    slides = ["Tiêu đề bài học", "Mã OTP chỉ dùng một lần", "Gọi tổng đài ngân hàng", "Tóm tắt"]
    narration = "Xin chào. Mã OTP chỉ dùng một lần thôi. Hãy gọi tổng đài ngân hàng. Cảm ơn."
    assigned = assign_narration(narration, slides)
    assert assigned[0] == ["Xin chào."]
    assert assigned[1] == ["Mã OTP chỉ dùng một lần thôi."]
    assert assigned[2][0] == "Hãy gọi tổng đài ngân hàng."


@pytest.mark.parametrize("gid", ["elderly", "blind-low-vision", "school-students"])
def test_shipped_group_profiles_render_decks_that_fit(tmp_path: Path, library, gid: str) -> None:  # type: ignore[no-untyped-def]
    if gid not in library.groups:
        pytest.skip(f"group profile {gid} is not shipped yet")
    group = library.group(gid)
    lesson = vi_lesson().model_copy(update={"group": gid})
    assert_every_box_fits(Presentation(str(render_slides(lesson, group, tmp_path / "s.pptx"))))
