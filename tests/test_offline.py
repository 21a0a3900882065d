"""The offline drafter: every competence, level 1-8, group and language drafts a lesson that passes every
check; groups get lessons written for them; levels are real steps up; DigComp drafts through
equivalences."""

from __future__ import annotations

import pytest

from generator.drafting.backend import SourcePassage
from generator.quality import jaccard, learner_text, trigrams
from tests.support.drafts import offline_lesson

GROUPS = ["elderly", "farmers", "deaf-hard-of-hearing", "civil-servants", "school-students",
          "household-businesses", "teachers", "ethnic-minorities"]
CODES = [f"{d}.{c}" for d, n in ((1, 3), (2, 6), (3, 4), (4, 4), (5, 4), (6, 3)) for c in range(1, n + 1)]


def test_all_24_competences_have_content(library):
    assert library.content_codes("vn-dcf-2025") == sorted(CODES)


@pytest.mark.parametrize("code", CODES)
def test_every_competence_drafts_passing_lessons_at_every_band(library, code):
    failures = []
    for group in GROUPS:
        for lang in ("vi", "en"):
            for level in (1, 2, 3, 5, 7):
                drafted = offline_lesson(library, code, level, group, lang)
                bad = [f"{c.name}: {c.message}" for c in drafted.checks if not c.passed]
                if bad:
                    failures.append(f"{group} {lang} L{level}: {bad}")
                assert drafted.lesson.provenance.backend == "offline"
                assert all(d.startswith(f"{code}-L{level}-") for o in drafted.lesson.objectives for d in o.descriptors)
    assert failures == []


def test_every_group_and_level_drafts_offline(library):
    """`hocvu draft` works offline for every group, level 1-8 and language (one competence here; the
    quality report covers all 24)."""
    failures = []
    for group in library.groups:
        for level in range(1, 9):
            for lang in ("vi", "en"):
                drafted = offline_lesson(library, "4.2", level, group, lang)
                if not drafted.passed:
                    failures.append(f"{group} L{level} {lang}: {[c.message for c in drafted.checks if not c.passed]}")
    assert failures == []


def _overlap(library, a, b):  # type: ignore[no-untyped-def]
    ga = trigrams(learner_text(a.lesson), library.group(a.lesson.group).register(a.lesson.language).address)
    gb = trigrams(learner_text(b.lesson), library.group(b.lesson.group).register(b.lesson.language).address)
    return jaccard(ga, gb)


@pytest.mark.parametrize("code", ["2.3", "4.2", "6.2"])
def test_groups_get_lessons_written_for_them(library, code):
    lessons = {g: offline_lesson(library, code, 1, g, "vi") for g in ("elderly", "farmers", "deaf-hard-of-hearing",
                                                                       "civil-servants")}
    assert len({d.lesson.example for d in lessons.values()}) == 4
    assert len({tuple(s.action for s in d.lesson.steps) for d in lessons.values()}) == 4
    for a, b in [("elderly", "farmers"), ("elderly", "deaf-hard-of-hearing"), ("farmers", "civil-servants")]:
        assert _overlap(library, lessons[a], lessons[b]) <= 0.6, (a, b)


def test_older_people_are_addressed_as_ong_ba_and_take_three_steps(library):
    lesson = offline_lesson(library, "4.2", 1, "elderly", "vi").lesson
    assert "ông bà" in lesson.summary.lower() or any("ông bà" in s.action.lower() for s in lesson.steps)
    assert len(lesson.steps) <= 3
    assert lesson.narration.startswith("Kính chào ông bà.")


def test_deaf_learners_get_no_voice_call(library):
    lesson = offline_lesson(library, "4.2", 1, "deaf-hard-of-hearing", "vi").lesson
    text = " ".join([lesson.example, *(s.action for s in lesson.steps), lesson.facilitator.how_to_run]).lower()
    assert "gọi điện" not in text and "nghe" not in text.split() and "đọc to" not in text


def test_levels_are_real_steps_up(library):
    for group in ("civil-servants", "farmers"):
        by_level = {lv: offline_lesson(library, "4.2", lv, group, "vi") for lv in (1, 2, 3, 5, 7)}
        assert _overlap(library, by_level[1], by_level[2]) <= 0.70
        for a, b in ((1, 3), (3, 5), (5, 7)):
            assert _overlap(library, by_level[a], by_level[b]) <= 0.35, (group, a, b)
        assert len({d.lesson.title for d in by_level.values()}) == 5


@pytest.mark.parametrize("framework", ["digcomp-2.2", "digcomp-3.0"])
def test_digcomp_drafts_offline_through_the_equivalence(library, framework):
    drafted = offline_lesson(library, "4.2", 3, "teachers", "en", framework=framework)
    assert drafted.passed, [c.message for c in drafted.checks if not c.passed]
    valid = {d.id for d in library.framework(framework).descriptors("4.2", 3)}
    cited = {d for o in drafted.lesson.objectives for d in o.descriptors}
    assert cited and cited <= valid
    assert drafted.lesson.framework == framework


def test_a_framework_without_content_or_equivalent_says_so_once(library, monkeypatch):
    from generator.errors import NotFoundError

    monkeypatch.setattr(type(library), "equivalent", lambda self, fid, code, other: None)
    with pytest.raises(NotFoundError, match=r"no content for digcomp-3.0 4.2 .*offline content: vn-dcf-2025.*"
                                            r"--backend openai") as err:
        offline_lesson(library, "4.2", 3, "teachers", "en", framework="digcomp-3.0")
    assert str(err.value).count("digcomp") == 1  # one message, not a referral to another framework that refuses


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
    drafted = offline_lesson(library, "4.2", 1, "farmers", "vi", passages=[vi, en])
    lesson = drafted.lesson
    assert lesson.key_points[0].sources == ["src-vi-1"]
    assert "Công an không bao giờ gọi điện" in lesson.key_points[0].text
    assert [s.id for s in lesson.sources] == ["src-vi-1"]
    assert lesson.provenance.retrieved == ["src-vi-1", "src-en-1"]


def test_narration_is_safe_and_covers_the_story_and_for_listeners_the_quiz(library):
    from generator.lesson import PAUSE

    lesson = offline_lesson(library, "4.2", 1, "elderly", "vi").lesson
    narration = lesson.narration
    assert lesson.example in narration and "Bước 1." in narration and "*" not in narration
    for tip in lesson.tips:
        if tip.kind == "mistake":
            assert tip.text.startswith(("Đừng", "Không", "Tránh", "Chớ")) and tip.text in narration
    assert "Hãy nhớ." not in narration
    assert f"\n{PAUSE}\n" in narration and "Đáp án đúng là" in narration  # older people learn by listening
    reader = offline_lesson(library, "4.2", 1, "civil-servants", "vi").lesson
    assert "Đáp án đúng là" not in reader.narration


def test_facilitator_notes_are_written_from_the_lesson(library):
    lesson = offline_lesson(library, "4.2", 1, "elderly", "vi").lesson
    plan = lesson.facilitator.how_to_run
    assert f"({len(lesson.steps)} bước)" in plan and lesson.practice.task in plan


def test_offline_revise_takes_another_example_for_the_same_group_and_says_what_it_could_not_do(library):
    from generator.config import load_settings
    from generator.drafting.backend import RevisionRequest, make_backend, run_sync
    from generator.drafting.service import build_request

    lesson = offline_lesson(library, "4.2", 1, "elderly", "vi").lesson
    backend = make_backend(load_settings(), library, "offline")
    req = build_request(library, lesson.framework, lesson.competence, lesson.level, lesson.group, lesson.language)
    result = run_sync(backend.arevise(RevisionRequest(req, lesson, "example", ["Cho ví dụ khác"])))
    before, after = lesson.draft_part(), result.draft.draft_part()
    assert {k: v for k, v in after.items() if k != "example"} == {k: v for k, v in before.items() if k != "example"}
    assert "nhóm và bậc" in result.notes[0] and "1 góp ý" in result.notes[0]
    if after["example"] != before["example"]:
        assert "heo" not in after["example"].lower()  # never another group's story (a pig farm for older people)
