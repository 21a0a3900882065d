"""The lesson schema: structure and the group limits enforced by its validators."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from generator.lesson import LessonDraft, Limits, count_words, lesson_id, sentences


def test_lesson_id():
    assert lesson_id("vn-dcf-2025", "4.2", 1, "elderly", "vi") == "vn-dcf-2025.4.2.L1.elderly.vi"


def test_sentences_and_words():
    assert sentences("Một hai ba. Bốn năm! Sáu?\nBảy") == ["Một hai ba.", "Bốn năm!", "Sáu?", "Bảy"]
    assert count_words("Bảo vệ dữ liệu cá nhân") == 6


def test_limits_are_enforced_through_the_validation_context(lesson_templates):
    data = dict(lesson_templates["vi"])
    LessonDraft.model_validate(data, context=Limits(650, 22).context())
    with pytest.raises(ValidationError, match="words; the group's limit is 100"):
        LessonDraft.model_validate(data, context=Limits(100, 22).context())
    with pytest.raises(ValidationError, match=r"sentence of \d+ words \(limit 8\)"):
        LessonDraft.model_validate(data, context=Limits(650, 8).context())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"objectives": []}, "at least 2 items"),
        ({"quiz": []}, "at least 3 items"),
        ({"steps": [{"action": "a", "expect": "b"}] * 8}, "at most 7 items"),
    ],
)
def test_structure_limits(lesson_templates, change, message):
    with pytest.raises(ValidationError, match=message):
        LessonDraft.model_validate(lesson_templates["vi"] | change)


def test_quiz_must_check_a_known_objective_and_have_a_valid_answer(lesson_templates):
    data = lesson_templates["vi"]
    q = dict(data["quiz"][0])
    with pytest.raises(ValidationError, match="checks unknown objective 'O9'"):
        LessonDraft.model_validate(data | {"quiz": [q | {"objective": "O9"}, *data["quiz"][1:]]})
    with pytest.raises(ValidationError, match="answer 3 is not one of the 3 options"):
        LessonDraft.model_validate(data | {"quiz": [q | {"answer": 3, "options": q["options"][:3]},
                                                    *data["quiz"][1:]]})
