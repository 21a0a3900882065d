"""The read-only SQLite path (``store/fastread.py``) answers exactly as the store does — every filter, sort
and page of `review list`, and `history` — or says None and leaves the answer to the store."""

from __future__ import annotations

import pytest

from generator.config import load_settings
from generator.drafting.checks import CheckResult
from generator.errors import NotFoundError
from generator.frameworks import Library
from generator.review.db import HEAD
from generator.review.store import ReviewStore
from generator.review.store import fastread as fastread_module
from generator.review.store.fastread import SORTS, FastReader
from tests.support.drafts import REPO, offline_lesson


@pytest.fixture(scope="module")
def drafts(library):  # type: ignore[no-untyped-def]
    """Four offline-drafted lessons: two competences, two groups, two languages."""
    return [offline_lesson(library, competence="4.2"), offline_lesson(library, competence="4.2", group="farmers"),
            offline_lesson(library, competence="4.1"), offline_lesson(library, competence="1.1", lang="en")]


@pytest.fixture
def store(workspace, drafts):  # type: ignore[no-untyped-def]
    """A store whose lessons stand in every state a list shows: approved (one approved twice over two
    versions), changes requested with comments, in review with a failed check, by two authors."""
    with ReviewStore.open(load_settings()) as s:
        for name, role in (("ed", "editor"), ("ed2", "editor"), ("rev1", "reviewer"), ("rev2", "reviewer")):
            s.add_user(name, role)
        a, b, c, d = (x.lesson.id for x in drafts)
        s.submit_version(drafts[0].lesson, drafts[0].checks, {}, "ed")
        s.submit_version(drafts[1].lesson, drafts[1].checks, {}, "ed2")
        failed = [*drafts[2].checks, CheckResult("length", False, "too long")]
        s.submit_version(drafts[2].lesson, failed, {}, "ed")
        s.submit_version(drafts[3].lesson, drafts[3].checks, {}, "ed2")
        s.approve(a, "rev1", "fine")
        s.add_comment(b, "rev2", "the second step is unclear", section="steps")
        s.request_changes(b, "rev1", "shorter please")
        s.approve(d, "rev2")
        s.submit_version(drafts[3].lesson, drafts[3].checks, {}, "ed")  # a second version of d
        s.approve(d, "rev1")
        assert {x.id: x.status for x in s.list_lessons()} == {
            a: "approved", b: "changes_requested", c: "in_review", d: "approved"}
        yield s


def _fast() -> FastReader:
    reader = FastReader.open(load_settings())
    assert reader is not None
    return reader


QUERIES = [
    {},
    {"status": "approved"},
    {"status": ["approved", "changes_requested"]},
    {"status": "published"},
    {"group": "farmers"},
    {"group": "nobody"},
    {"framework": "vn-dcf-2025"},
    {"competence": "4.2"},
    {"competence": "4.2", "group": "elderly", "level": 1, "language": "vi"},
    {"level": 2},
    {"language": "en"},
    {"search": "VN-DCF-2025.4"},
    {"search": "50%_"},
    {"failed_checks": True},
    {"not_author": "ed"},
    {"outdated_only": True},
    {"limit": 1},
    {"limit": 2, "offset": 1},
    {"limit": 2, "offset": 10},
    *({"sort": sort, "limit": 3} for sort in SORTS),
]


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: ",".join(f"{k}={v}" for k, v in q.items()) or "all")
def test_lists_match_the_store(store, workspace, query) -> None:  # type: ignore[no-untyped-def]
    library = Library(workspace)
    query = {"limit": 50, **query}
    want = store.lesson_page(library=library, **query)
    with _fast() as fast:
        got = fast.lesson_page(library=library, **query)
        assert got == want
        if not query.get("outdated_only"):
            assert fast.lesson_page(**query) == store.lesson_page(**query)  # without a library: no reasons


def test_search_ignores_case_and_diacritics_as_the_store_does(store, drafts) -> None:  # type: ignore[no-untyped-def]
    word = max(drafts[0].lesson.title.split(), key=len)
    for needle in (word, word.upper()):
        want = store.lesson_page(search=needle)
        assert want.total >= 1
        with _fast() as fast:
            assert fast.lesson_page(search=needle) == want


def test_outdated_flags_and_approvals_match_after_a_source_changed(store, workspace, drafts) -> None:  # type: ignore[no-untyped-def]
    (workspace / "frameworks/groups").mkdir(parents=True)
    src = (REPO / "frameworks/groups/elderly.yaml").read_text(encoding="utf-8")
    (workspace / "frameworks/groups/elderly.yaml").write_text(
        src.replace("session_minutes: 45", "session_minutes: 50"), encoding="utf-8")
    library = Library(workspace)
    with _fast() as fast:  # the flags were computed against other sources: only the store may recheck
        assert fast.lesson_page(library=library) is None
    want = store.lesson_page(library=library)
    assert any(s.outdated for s in want.items) and any(s.approved_by for s in want.items)
    with _fast() as fast:
        assert fast.lesson_page(library=library) == want
        assert fast.lesson_page(library=library, outdated_only=True) == store.lesson_page(
            library=library, outdated_only=True)


def test_history_matches_the_store(store, drafts) -> None:  # type: ignore[no-untyped-def]
    with _fast() as fast:
        for d in drafts:
            events = fast.history(d.lesson.id)
            assert events == store.history(d.lesson.id)
            assert events
        assert fast.history("no.such.lesson") is None  # the store's error suggests near ids


def test_an_unknown_status_or_sort_is_the_same_error(store) -> None:  # type: ignore[no-untyped-def]
    for bad in ({"status": "aproved"}, {"sort": "size"}):
        with pytest.raises(NotFoundError) as want:
            store.lesson_page(**bad)
        with _fast() as fast, pytest.raises(NotFoundError) as got:
            fast.lesson_page(**bad)
        assert str(got.value) == str(want.value)


def test_it_stands_aside_where_the_store_must_answer(store, workspace, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    assert fastread_module.SCHEMA_HEAD == HEAD  # a new migration: check the SQL here, then move this on
    settings = load_settings()
    assert FastReader.open(settings.model_copy(update={"database_url": f"sqlite:///{workspace}/other.db"})) is None
    monkeypatch.setattr(fastread_module, "SCHEMA_HEAD", "0001")
    assert FastReader.open(settings) is None


def test_it_never_creates_or_changes_a_store(workspace) -> None:  # type: ignore[no-untyped-def]
    settings = load_settings()
    db = settings.state_dir / "hocvu.db"
    assert FastReader.open(settings) is None and not db.exists()
    db.parent.mkdir(parents=True, exist_ok=True)
    db.write_bytes(b"not a database")
    assert FastReader.open(settings) is None and db.read_bytes() == b"not a database"
