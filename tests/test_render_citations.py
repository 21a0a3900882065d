"""Cited claims carry numbered references to the Sources list, which gives each source's section and
printed page: in the web page and the handout."""

from __future__ import annotations

from pathlib import Path

from generator.lesson import Lesson, SourceCitation
from generator.render import render_page_html
from tests.lesson_samples import sample_group, vi_lesson


def cited_lesson() -> Lesson:
    """The Vietnamese sample lesson citing two sources, the second with a section and a printed page."""
    lesson = vi_lesson()
    second = SourceCitation(id="src-2", title="Sổ tay an toàn số", file="so-tay.pdf", page=14,
                            page_label="12", section="Tin nhắn giả mạo ngân hàng", text="…")
    points = [k.model_copy(update={"sources": ["src-2"] if i == 1 else k.sources})
              for i, k in enumerate(lesson.key_points)]
    return lesson.model_copy(update={"sources": [*lesson.sources, second], "key_points": points})


def test_page_marks_cited_claims_and_numbers_its_sources() -> None:
    lesson = cited_lesson()
    html = render_page_html(lesson, sample_group())
    assert '<sup class="cite">[<a href="#source-1">1</a>]</sup>' in html  # key point 1 and its step cite src-1
    assert '<sup class="cite">[<a href="#source-2">2</a>]</sup>' in html
    assert '<li id="source-2">Sổ tay an toàn số — so-tay.pdf, Tin nhắn giả mạo ngân hàng, tr. 12</li>' in html
    uncited = lesson.model_copy(update={"key_points": [k.model_copy(update={"sources": []})
                                                       for k in lesson.key_points],
                                        "steps": [s.model_copy(update={"sources": []}) for s in lesson.steps]})
    assert 'class="cite"' not in render_page_html(uncited, sample_group())


def test_handout_marks_cited_claims_and_lists_section_and_printed_page(tmp_path: Path) -> None:
    import docx

    from generator.render.handout import render_handout

    lesson = cited_lesson()
    path = render_handout(lesson, sample_group(), tmp_path / "handout.docx")
    texts = [p.text for p in docx.Document(str(path)).paragraphs]
    second_point = lesson.key_points[1].text
    assert any(t.endswith(second_point + " [2]") for t in texts), texts
    assert "[2] Sổ tay an toàn số — so-tay.pdf, Tin nhắn giả mạo ngân hàng, tr. 12" in texts
    assert any(t.startswith("[1] ") and "canh-bao-otp.pdf, tr. 2" in t for t in texts)
