"""Handout and facilitator guide: reopened with python-docx, checked on their outline and metadata."""

from __future__ import annotations

from pathlib import Path

import docx
import pytest
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml.ns import qn

from generator.render.fonts import find_font
from generator.render.guide import render_guide, session_plan, split_minutes
from generator.render.handout import render_handout
from generator.render.labels import LETTERS, labels
from tests.lesson_samples import en_lesson, sample_group, vi_lesson


def headings(doc: docx.document.Document) -> list[tuple[int, str]]:
    """(level, text) of every heading paragraph, in order."""
    return [
        (int(p.style.name.split()[-1]), p.text) for p in doc.paragraphs if p.style.name.startswith("Heading")
    ]


@pytest.fixture
def handout_vi(tmp_path: Path) -> docx.document.Document:
    """The Vietnamese handout, rendered and reopened."""
    return docx.Document(str(render_handout(vi_lesson(), sample_group(font_scale=1.5), tmp_path / "h.docx")))


def test_handout_outline_in_order(handout_vi: docx.document.Document) -> None:
    lesson, w = vi_lesson(), labels("vi")
    assert headings(handout_vi) == [
        (1, lesson.title),
        *[
            (2, w[k])
            for k in (
                "objectives",
                "key_points",
                "steps",
                "example",
                "tips",
                "practice",
                "quiz",
                "glossary",
                "sources",
                "answer_key",
            )
        ],
    ]


def test_handout_has_every_part_of_the_lesson(handout_vi: docx.document.Document) -> None:
    lesson = vi_lesson()
    paras = handout_vi.paragraphs
    bullets = [p.text.strip() for p in paras if p.style.name == "List Bullet"]  # an icon may lead a bullet
    numbered = [p.text for p in paras if p.style.name == "List Number"]
    assert all(o.text in bullets for o in lesson.objectives)
    mark = {True: " [1]", False: ""}  # a claim citing the lesson's one source carries its number
    assert all(k.text + mark[bool(k.sources)] in bullets for k in lesson.key_points)
    assert [n.split("\n")[0] for n in numbered] == [s.action + mark[bool(s.sources)] for s in lesson.steps]
    text = "\n".join(p.text for p in paras)
    for part in [
        lesson.example,
        lesson.practice.task,
        *(g.term for g in lesson.glossary),
        lesson.sources[0].title,
    ]:
        assert part in text


def test_handout_answer_key_comes_after_the_questions(handout_vi: docx.document.Document) -> None:
    lesson, w = vi_lesson(), labels("vi")
    texts = [p.text for p in handout_vi.paragraphs]
    key = texts.index(w["answer_key"])
    assert handout_vi.paragraphs[key].paragraph_format.page_break_before
    for i, q in enumerate(lesson.quiz, 1):
        asked = next(n for n, t in enumerate(texts) if q.question in t)
        answered = next(n for n, t in enumerate(texts) if t.startswith(w["question"].format(n=i) + ":"))
        assert asked < key < answered
        assert f"{LETTERS[q.answer]}. {q.options[q.answer]}" in texts[answered]


def test_handout_language_properties_font_and_page_numbers(handout_vi: docx.document.Document) -> None:
    lesson = vi_lesson()
    cp = handout_vi.core_properties
    assert cp.title == lesson.title
    assert lesson.competence in cp.subject
    assert lesson.competence in cp.keywords and "Bình dân học vụ số" in cp.keywords
    assert cp.language == "vi-VN"
    defaults = handout_vi.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    assert defaults.find(qn("w:lang")).get(qn("w:val")) == "vi-VN"
    family = find_font().family
    assert defaults.find(qn("w:rFonts")).get(qn("w:ascii")) == family
    theme = handout_vi.part.part_related_by(RT.THEME).blob.decode("utf-8")
    assert theme.count(f'<a:latin typeface="{family}"/>') == 2  # major (headings) and minor (body)
    footer = handout_vi.sections[0].footer._element.xml
    assert "PAGE" in footer and "NUMPAGES" in footer
    # A4, type scaled by the profile: 12 pt x 1.5
    assert round(handout_vi.sections[0].page_width.cm, 1) == 21.0
    assert handout_vi.styles["Normal"].font.size.pt == 18.0


def test_handout_in_english_uses_english_labels(tmp_path: Path) -> None:
    doc = docx.Document(str(render_handout(en_lesson(), sample_group(font_scale=1.0), tmp_path / "h.docx")))
    assert [t for _, t in headings(doc)][1:4] == ["Objectives", "Key points", "Step by step"]
    assert doc.core_properties.language == "en-US"
    assert doc.styles["Normal"].font.size.pt == 12.0


def test_high_contrast_headings_are_black(tmp_path: Path) -> None:
    doc = docx.Document(
        str(render_handout(vi_lesson(), sample_group(high_contrast=True), tmp_path / "h.docx"))
    )
    assert str(doc.styles["Heading 2"].font.color.rgb) == "000000"


def test_guide_outline_plan_and_answers(tmp_path: Path) -> None:
    lesson, w = vi_lesson(), labels("vi")
    doc = docx.Document(str(render_guide(lesson, sample_group(), tmp_path / "g.docx")))
    h2 = [t for level, t in headings(doc) if level == 2]
    assert h2 == [
        w[k]
        for k in (
            "objectives",
            "materials",
            "how_to_run",
            "plan",
            "steps",
            "script",
            "discussion",
            "answers_explained",
            "group_tips",
        )
    ]
    assert headings(doc)[0] == (1, f"{w['guide_title']}: {lesson.title}")
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "45 phút" in text
    for q in lesson.quiz:
        assert q.explanation in text
    for prompt in lesson.facilitator.discussion:
        assert prompt in text
    table = doc.tables[0]
    rows = [[c.text for c in r.cells] for r in table.rows]
    assert rows[0] == [w["plan_time"], w["plan_activity"], w["plan_say"]]
    assert rows[1][0].startswith("0–") and rows[-1][0].endswith(f"–{lesson.facilitator.duration_minutes}")
    assert lesson.facilitator.warm_up in rows[1][2]
    assert doc.core_properties.language == "vi-VN"


def test_session_plan_fills_the_duration_exactly() -> None:
    assert sum(split_minutes(45, [1, 0.5, 2, 2.5, 1.5, 2, 1, 0.5])) == 45
    plan = session_plan(vi_lesson())
    assert plan[0].start == 0 and plan[-1].end == 45
    assert all(a.end == b.start for a, b in zip(plan, plan[1:], strict=False))
    assert all(s.end > s.start for s in plan)


def test_no_vietnamese_font_is_a_render_error_with_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    from generator.errors import RenderError
    from generator.render import fonts

    monkeypatch.setattr(fonts, "_be_vietnam_pro", lambda: None)
    monkeypatch.setattr(fonts, "DEJAVU_DIRS", ())
    fonts.available_faces.cache_clear()
    try:
        with pytest.raises(RenderError, match="pip install fontpkg-be-vietnam-pro.*fonts-dejavu-core"):
            fonts.find_font()
    finally:
        fonts.available_faces.cache_clear()


def test_be_vietnam_pro_comes_from_its_package() -> None:
    face = find_font()
    assert face.family == "Be Vietnam Pro"
    assert face.regular.name == "BeVietnamPro-Regular.ttf" and face.regular.is_file()
