"""Offline content is "not verified" until a reviewer or admin says they checked it: in the store (by the
content's hash), on the lesson page and in the facilitator guide."""

from __future__ import annotations

import pytest

from generator.config import load_settings
from generator.errors import PermissionError_
from generator.review.store import ReviewStore
from generator.review.verification import content_status
from tests.support.drafts import offline_lesson


@pytest.fixture
def store(workspace):  # type: ignore[no-untyped-def]
    with ReviewStore.open(load_settings()) as s:
        s.add_user("ed", "editor")
        s.add_user("rv", "reviewer")
        yield s


def test_a_reviewer_verifies_one_version_of_the_content(store, library):
    lesson = offline_lesson(library, "4.2", 1, "farmers", "vi").lesson
    assert lesson.provenance.content_hash and lesson.provenance.content_verified is False
    assert content_status(store, library, lesson).verified is False
    with pytest.raises(PermissionError_):
        store.verify_content(lesson.framework, lesson.competence, lesson.provenance.content_hash, "ed")
    done = store.verify_content(lesson.framework, lesson.competence, lesson.provenance.content_hash, "rv",
                                "Đối chiếu Nghị định 13/2023")
    status = content_status(store, library, lesson)
    assert status.verified and status.by == "rv" and done.note == "Đối chiếu Nghị định 13/2023"
    again = store.verify_content(lesson.framework, lesson.competence, lesson.provenance.content_hash, "rv")
    assert again.verified_at == done.verified_at  # the first record stands
    edited = lesson.model_copy(update={"provenance": lesson.provenance.model_copy(update={"content_hash": "0" * 16})})
    assert content_status(store, library, edited).verified is False  # a changed file is unverified again


def test_model_written_lessons_have_no_content_to_verify(store, library):
    lesson = offline_lesson(library, "4.2", 1, "farmers", "vi").lesson
    by_model = lesson.model_copy(update={"provenance": lesson.provenance.model_copy(update={"backend": "openai"})})
    assert content_status(store, library, by_model).applies is False


def test_the_guide_says_the_content_is_not_verified(library, tmp_path):
    from docx import Document

    from generator.render.guide import render_guide

    lesson = offline_lesson(library, "4.2", 1, "farmers", "vi").lesson
    text = "\n".join(p.text for p in Document(str(render_guide(lesson, library.group("farmers"),
                                                                tmp_path / "g.docx"))).paragraphs)
    assert "Chưa xác minh:" in text
    checked = lesson.model_copy(update={"provenance": lesson.provenance.model_copy(update={"content_verified": True})})
    text = "\n".join(p.text for p in Document(str(render_guide(checked, library.group("farmers"),
                                                                tmp_path / "h.docx"))).paragraphs)
    assert "Chưa xác minh:" not in text


def test_the_deaf_learners_guide_shows_instead_of_reading_aloud(library, tmp_path):
    from docx import Document

    from generator.render.guide import render_guide

    lesson = offline_lesson(library, "4.2", 1, "deaf-hard-of-hearing", "vi").lesson
    doc = Document(str(render_guide(lesson, library.group("deaf-hard-of-hearing"), tmp_path / "g.docx")))
    text = "\n".join([*(p.text for p in doc.paragraphs),
                      *(c.text for t in doc.tables for r in t.rows for c in r.cells)]).lower()
    for said in ("nói chậm", "đọc to", "kể ví dụ"):
        assert said not in text, said
    assert "chiếu" in text
