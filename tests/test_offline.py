"""The offline drafter: every competence × groups × languages × levels 1-2 passes every check."""

from __future__ import annotations

import pytest

from generator.drafting.backend import SourcePassage
from tests.conftest import offline_lesson

GROUPS = ["elderly", "farmers", "school-students", "civil-servants", "ethnic-minorities"]
CODES = [f"{d}.{c}" for d, n in ((1, 3), (2, 6), (3, 4), (4, 4), (5, 4), (6, 3)) for c in range(1, n + 1)]


def test_all_24_competences_have_content(library):
    assert library.content_codes("vn-dcf-2025") == sorted(CODES)


@pytest.mark.parametrize("code", CODES)
def test_every_competence_drafts_passing_lessons(library, code):
    failures = []
    for group in GROUPS:
        for lang in ("vi", "en"):
            for level in (1, 2):
                drafted = offline_lesson(library, code, level, group, lang)
                bad = [f"{c.name}: {c.message}" for c in drafted.checks if not c.passed]
                if bad:
                    failures.append(f"{group} {lang} L{level}: {bad}")
                assert drafted.lesson.provenance.backend == "offline"
                assert drafted.lesson.language == lang
    assert failures == []


@pytest.mark.parametrize("code", ["2.3", "4.2", "6.2"])
def test_groups_get_different_examples(library, code):
    examples = {g: offline_lesson(library, code, 1, g, "vi").lesson.example for g in ("elderly", "farmers",
                                                                                         "school-students")}
    assert len(set(examples.values())) == 3, examples


def test_levels_3_and_4_draft_too(library):
    for level in (3, 4):
        drafted = offline_lesson(library, "4.2", level, "civil-servants", "vi")
        assert drafted.passed, [c for c in drafted.checks if not c.passed]
        assert all(d.startswith(f"4.2-L{level}-") for o in drafted.lesson.objectives for d in o.descriptors)


def test_level_beyond_content_is_a_clear_error(library):
    from generator.errors import NotFoundError

    with pytest.raises(NotFoundError, match="covers levels 1-4; for level 5 use --backend openai"):
        offline_lesson(library, "4.2", 5, "elderly", "vi")


def test_lesson_fits_the_strictest_group(library):
    from generator.lesson import Limits

    group = library.group("ethnic-minorities")
    drafted = offline_lesson(library, "4.2", 1, "ethnic-minorities", "vi")
    limits = Limits.for_group(group, "vi")
    assert drafted.lesson.word_count() <= limits.max_words
    assert drafted.lesson.limit_problems(limits) == []


def test_offline_quotes_passages_in_the_lesson_language_and_cites_them(library):
    vi = SourcePassage(id="src-vi-1", title="Cảnh báo lừa đảo", file="canh-bao.md",
                       text="Công an không bao giờ gọi điện yêu cầu cài ứng dụng để cập nhật định danh mức 2. "
                            "Hãy cúp máy và báo cho công an xã.")
    en = SourcePassage(id="src-en-1", title="Scam alert", file="alert.md",
                       text="Police never call to ask you to install an app to update your identity level.")
    drafted = offline_lesson(library, "4.2", 1, "elderly", "vi", passages=[vi, en])
    lesson = drafted.lesson
    assert lesson.key_points[0].sources == ["src-vi-1"]
    assert "Công an không bao giờ gọi điện" in lesson.key_points[0].text
    assert [s.id for s in lesson.sources] == ["src-vi-1"]
    assert lesson.provenance.retrieved == ["src-vi-1", "src-en-1"]
    assert drafted.passed, [c for c in drafted.checks if not c.passed]


def test_narration_is_spoken_text(library):
    lesson = offline_lesson(library, "6.2", 1, "farmers", "vi").lesson
    assert lesson.narration.startswith("Xin chào")
    assert "Bước 1." in lesson.narration and "*" not in lesson.narration and "\n" not in lesson.narration


def test_offline_revise_takes_another_example_and_keeps_the_rest(library):
    from generator.config import load_settings
    from generator.drafting.backend import RevisionRequest, make_backend, run_sync
    from generator.drafting.service import build_request

    lesson = offline_lesson(library, "4.2", 1, "farmers", "vi").lesson
    backend = make_backend(load_settings(), library, "offline")
    req = build_request(library, lesson.framework, lesson.competence, lesson.level, lesson.group, lesson.language)
    result = run_sync(backend.arevise(RevisionRequest(req, lesson, "example", ["Cho ví dụ khác"])))
    assert result.draft.example != lesson.example
    before, after = lesson.draft_part(), result.draft.draft_part()
    assert {k: v for k, v in after.items() if k != "example"} == {k: v for k, v in before.items() if k != "example"}
    assert "took another 'example'" in result.notes[0] and "cannot apply free-text comments (1 open)" in result.notes[0]
