"""Feedback-driven revision and hand edits: one section changes and the others stay byte-identical;
edits are validated and checked; an edit after approval needs approval again; section diffs."""

from __future__ import annotations

import json

import pytest

from generator.config import load_settings
from generator.drafting.backend import DraftResult, make_backend
from generator.errors import (
    CheckError,
    ConflictError,
    DataError,
    NotFoundError,
    PermissionError_,
    ReviewError,
    TransitionError,
)
from generator.lesson import SECTIONS, LessonDraft, Limits
from generator.review.diff import diff_lessons
from generator.review.edit import edit_lesson, lesson_yaml, parse_edit, to_yaml
from generator.review.revise import revise_lesson
from generator.review.store import ReviewStore
from generator.versions import make_version
from tests.support.drafts import offline_lesson

LID = "vn-dcf-2025.4.2.L1.elderly.vi"


class FakeReviser:
    """A backend whose revision rewrites every section (the core must keep all but the asked one)."""

    name = "fake"
    model = "fake-1"

    def __init__(self, draft: LessonDraft, during=None) -> None:  # type: ignore[no-untyped-def]
        self.draft = draft
        self.requests: list = []
        self.during = during

    async def adraft(self, request):  # type: ignore[no-untyped-def]
        raise NotImplementedError

    async def arevise(self, request):  # type: ignore[no-untyped-def]
        self.requests.append(request)
        if self.during:
            self.during()
        return DraftResult(
            draft=self.draft,
            backend=self.name,
            model=self.model,
            prompt_hash="fake-prompt",
            notes=["fake: applied the comments"],
        )


def rewritten(draft: LessonDraft) -> LessonDraft:
    """Every section of ``draft`` changed a little, still within the elderly group's limits."""
    data = draft.draft_part()
    data["title"] = "Bảo vệ thông tin của bạn"
    data["summary"] = "Bạn học cách giữ kín thông tin cá nhân."
    data["steps"] = [dict(s, action=f"Bước mới {i + 1}: {s['action']}") for i, s in enumerate(data["steps"])]
    data["example"] = "Bà Lan nhận được cuộc gọi lạ và đã cúp máy."
    data["narration"] = "Xin chào. Hôm nay chúng ta học cách giữ kín thông tin."
    return LessonDraft.model_validate(data)


@pytest.fixture(scope="module")
def drafted(library):  # type: ignore[no-untyped-def]
    return offline_lesson(library)


@pytest.fixture
def setup(workspace, library, drafted):  # type: ignore[no-untyped-def]
    """Settings, a store with people, and version 1 (rendered as a page) with changes requested on steps."""
    settings = load_settings()
    store = ReviewStore.open(settings)
    for name, role in (("ed", "editor"), ("rev1", "reviewer"), ("rev2", "reviewer")):
        store.add_user(name, role)
    make_version(drafted, library, settings, store, author="ed", kind="draft", formats=["page"])
    store.request_changes(LID, "rev1", "Bước 2 khó hiểu với người cao tuổi", section="steps")
    store.add_comment(LID, "rev2", "Ví dụ nên nói về Zalo", section="example")
    store.add_comment(LID, "rev2", "Dùng từ ngữ đơn giản hơn")
    yield settings, store
    store.close()


def sections_json(lesson) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {s: json.dumps(lesson.draft_part()[s], ensure_ascii=False, sort_keys=True) for s in SECTIONS}


# -- revise ---------------------------------------------------------------------------------------
def test_revise_one_section_leaves_the_others_byte_identical(setup, library, drafted):
    settings, store = setup
    fake = FakeReviser(rewritten(drafted.lesson))
    result = revise_lesson(
        library, settings, store, fake, LID, section="steps", author="ed", formats=["page"]
    )
    v1, v2 = store.get_version(LID, 1), store.get_version(LID, 2)
    before, after = sections_json(v1.lesson), sections_json(v2.lesson)
    assert before["steps"] != after["steps"]
    assert {s: after[s] for s in SECTIONS if s != "steps"} == {s: before[s] for s in SECTIONS if s != "steps"}
    assert result.changed == ["steps"]
    # the backend saw the current version and the comments about steps or about everything
    (req,) = fake.requests
    assert req.section == "steps" and req.lesson == v1.lesson
    assert req.comments == ["[steps] Bước 2 khó hiểu với người cao tuổi", "Dùng từ ngữ đơn giản hơn"]
    # a new version in review, checked and rendered, with its provenance
    assert (v2.kind, v2.parent_version, v2.author, v2.status) == ("revise", 1, "ed", "in_review")
    assert store.lesson_state(LID).status == "in_review"
    assert "index.html" in v2.artifacts and v2.artifacts["index.html"].path.parent == result.version.path
    assert v2.checks and all(c.passed for c in v2.checks)
    p = v2.lesson.provenance
    assert (p.backend, p.prompt_hash) == ("fake", "fake-prompt")
    assert p.framework_hash == v1.framework_hash and p.retrieved == v1.lesson.provenance.retrieved
    assert "revised steps from version 1 following 2 open comment(s)" in p.notes
    assert result.version.path.name == "v2"


def test_revise_all_takes_every_section(setup, library, drafted):
    settings, store = setup
    new = rewritten(drafted.lesson)
    result = revise_lesson(library, settings, store, FakeReviser(new), LID, author="ed", formats=["page"])
    assert store.get_version(LID).lesson.draft_part() == new.draft_part()
    assert set(result.changed) == {"title", "summary", "steps", "example", "narration"}
    assert len(result.comments) == 3


def test_offline_revise_says_what_it_could_not_apply(setup, library):
    settings, store = setup
    backend = make_backend(settings, library, "offline")
    result = revise_lesson(library, settings, store, backend, LID, section="steps", author="ed", formats=[])
    assert any("Không tự áp dụng được" in n for n in result.notes)
    v2 = store.get_version(LID)
    assert v2.number == 2 and v2.status == "in_review"
    assert sections_json(v2.lesson) == sections_json(store.get_version(LID, 1).lesson) or result.changed == [
        "steps"
    ]
    assert "Không tự áp dụng được" in store.history(LID)[-1].comment


def test_revise_refusals_happen_before_the_backend_is_called(setup, library, drafted):
    settings, store = setup
    fake = FakeReviser(rewritten(drafted.lesson))
    with pytest.raises(PermissionError_, match="reviewer and may not make versions"):
        revise_lesson(library, settings, store, fake, LID, author="rev1")
    with pytest.raises(NotFoundError, match="unknown section 'intro'"):
        revise_lesson(library, settings, store, fake, LID, section="intro", author="ed")
    with pytest.raises(NotFoundError, match="no lesson"):
        revise_lesson(library, settings, store, fake, "vn-dcf-2025.9.9.L1.elderly.vi", author="ed")
    store.submit_version(drafted.lesson, drafted.checks, {}, "ed", 1)
    store.reject(LID, "rev1", "Không phù hợp")
    with pytest.raises(TransitionError, match="rejected"):
        revise_lesson(library, settings, store, fake, LID, author="ed")
    assert fake.requests == []


def test_a_version_made_during_revision_is_a_conflict_and_nothing_is_left(setup, library, drafted, workspace):
    settings, store = setup
    meanwhile = lambda: store.submit_version(drafted.lesson, drafted.checks, {}, "ed", 1)  # noqa: E731
    fake = FakeReviser(rewritten(drafted.lesson), during=meanwhile)
    with pytest.raises(ConflictError, match="start again"):
        revise_lesson(library, settings, store, fake, LID, section="steps", author="ed", formats=["page"])
    assert [v.kind for v in store.versions(LID)] == ["draft", "edit"]
    folders = sorted(p.name for p in (workspace / "outputs/drafts" / LID).iterdir())
    assert folders == ["v1"]


# -- edit -----------------------------------------------------------------------------------------
def test_yaml_round_trip_keeps_vietnamese(drafted, library):
    limits = Limits.for_group(library.group("elderly"), "vi")
    text = lesson_yaml(drafted.lesson, version=1, status="in_review", limits=limits)
    assert text.startswith(f"# {LID} — version 1 (in_review)") and drafted.lesson.title in text
    assert "\\u" not in text
    assert parse_edit(text, drafted.lesson, limits).draft_part() == drafted.lesson.draft_part()


def test_edit_after_approval_needs_a_new_approval(setup, library, drafted):
    settings, store = setup
    revise_lesson(
        library,
        settings,
        store,
        FakeReviser(rewritten(drafted.lesson)),
        LID,
        section="steps",
        author="ed",
        formats=[],
    )
    store.approve(LID, "rev2", resolve_open=True)
    assert store.lesson_state(LID).status == "approved"
    data = store.get_version(LID).lesson.draft_part()
    data["summary"] = "Bạn học cách giữ kín số căn cước và mã OTP."
    result = edit_lesson(library, settings, store, LID, to_yaml(data), author="ed", formats=["page"])
    assert result.changed == ["summary"]
    state = store.lesson_state(LID)
    assert (state.status, state.current_version, state.approved_by) == ("in_review", 3, None)
    v2, v3 = store.get_version(LID, 2), store.get_version(LID, 3)
    assert v3.kind == "edit" and v3.content_hash != v2.content_hash and v3.status == "in_review"
    assert {s: j for s, j in sections_json(v3.lesson).items() if s != "summary"} == {
        s: j for s, j in sections_json(v2.lesson).items() if s != "summary"
    }
    assert "edited by ed from version 2" in v3.lesson.provenance.notes
    store.set_role("ed", "admin")
    with pytest.raises(PermissionError_, match="four-eyes"):
        store.approve(LID, "ed")
    assert store.approve(LID, "rev1").status == "approved"


def _edit(setup, library, text):  # type: ignore[no-untyped-def]
    settings, store = setup
    return edit_lesson(library, settings, store, LID, text, author="ed", formats=[], label="my.yaml")


def test_edit_refusals(setup, library, drafted):
    settings, store = setup
    data = drafted.lesson.draft_part()
    with pytest.raises(ReviewError, match="nothing changed"):
        _edit(setup, library, to_yaml(data))
    with pytest.raises(DataError, match=r"my.yaml: line 3: malformed YAML"):
        _edit(setup, library, "title: a\nsummary: b\n  - c: [\n")
    with pytest.raises(DataError, match="expected the lesson's sections as a YAML mapping"):
        _edit(setup, library, "- just a list\n")
    with pytest.raises(DataError, match="id cannot be changed"):
        _edit(setup, library, to_yaml({**data, "id": "vn-dcf-2025.4.2.L1.farmers.vi"}))
    with pytest.raises(DataError, match="unknown field"):
        _edit(setup, library, to_yaml({**data, "intro": "x"}))
    long = " ".join(["từ"] * 40) + "."
    with pytest.raises(DataError, match="sentence of 40 words"):
        _edit(setup, library, to_yaml({**data, "summary": long}))
    bad_quiz = [dict(q) for q in data["quiz"]]
    bad_quiz[0]["answer"] = 3 if len(bad_quiz[0]["options"]) == 3 else 7
    with pytest.raises(DataError, match=r"my.yaml:\d+: quiz"):
        _edit(setup, library, to_yaml({**data, "quiz": bad_quiz}))
    tips = [*data["tips"], {"kind": "safety", "text": "Xem thêm tại https://evil.example.com nhé."}]
    with pytest.raises(CheckError, match="links"):
        _edit(setup, library, to_yaml({**data, "tips": tips[-3:]}))
    with pytest.raises(PermissionError_):
        edit_lesson(
            library, settings, store, LID, to_yaml({**data, "summary": "Tóm tắt."}), author="rev1", formats=[]
        )
    assert store.lesson_state(LID).current_version == 1


def test_section_diff(drafted):
    new = drafted.lesson.model_copy(update={"summary": "Tóm tắt mới."})
    diffs = {d.section: d for d in diff_lessons(drafted.lesson, new, old_label="v1", new_label="v2")}
    assert [s for s, d in diffs.items() if d.changed] == ["summary"]
    lines = diffs["summary"].lines
    assert lines[0] == "--- v1/summary" and lines[1] == "+++ v2/summary"
    assert any(line.startswith("+") and "Tóm tắt mới." in line for line in lines)
    assert "sources" in diffs and diffs["title"].lines == []


def test_revise_through_the_openai_backend(setup, library, drafted, lesson_templates, monkeypatch):
    """The real openai backend over a loopback server that rewrites everything: only 'example' is kept."""
    from tests.openai_server import LessonFactory, OpenAIServer

    base = LessonFactory(lesson_templates)

    def factory(body):  # type: ignore[no-untyped-def]
        lesson = base(body)
        lesson["title"] = "Một tiêu đề khác hẳn"
        lesson["example"] = "Ông Tư nhận tin nhắn lạ trên Zalo và hỏi con trước khi bấm."
        return lesson

    settings, store = setup
    with OpenAIServer(factory) as srv:
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-key")
        monkeypatch.setenv("OPENAI_BASE_URL", srv.base_url)
        monkeypatch.setenv("HOCVU_MODEL", "test-model")
        monkeypatch.setenv("HOCVU_TIMEOUT", "3")
        ai_settings = load_settings()
        backend = make_backend(ai_settings, library, "openai")
        result = revise_lesson(library, ai_settings, store, backend, LID, section="example", author="ed",
                               formats=["page"])
        prompt = json.dumps(srv.requests[-1], ensure_ascii=False)
    assert "Ví dụ nên nói về Zalo" in prompt and "Bước 2 khó hiểu" not in prompt  # comments on other sections
    assert result.changed == ["example"]
    v1, v2 = store.get_version(LID, 1), store.get_version(LID, 2)
    assert v2.lesson.example.startswith("Ông Tư") and v2.lesson.title == v1.lesson.title
    assert {s: j for s, j in sections_json(v2.lesson).items() if s != "example"} == {
        s: j for s, j in sections_json(v1.lesson).items() if s != "example"
    }
    assert (v2.backend, v2.model) == ("openai", "test-model")
    assert store.lesson_state(LID, library=library).outdated == []  # the revise prompt is a current one
