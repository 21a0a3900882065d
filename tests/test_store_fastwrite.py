"""The stdlib approval (``store/fastwrite.py``) leaves the store exactly as ``ReviewStore.approve`` does, or
stands aside (None, nothing written) wherever the store would refuse or must decide itself."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from generator.config import load_settings
from generator.config_light import read_light
from generator.errors import HocvuError
from generator.review.store import ReviewStore, decisions
from generator.review.store import core as store_core
from generator.review.store.fastwrite import COMMENT_ACTIONS, FastApprover
from tests.support.drafts import offline_lesson

NOW = datetime(2026, 12, 3, 9, 41, 7, 123456, tzinfo=UTC)
TABLES = {"lessons": "id", "versions": "lesson_id, number", "events": "id", "users": "name"}


@pytest.fixture(scope="module")
def drafts(library):  # type: ignore[no-untyped-def]
    return [offline_lesson(library, competence=c) for c in ("4.2", "4.1", "1.1", "1.2", "2.1")]


@pytest.fixture
def ids(workspace, drafts):  # type: ignore[no-untyped-def]
    """A store with lessons in review (one with an open comment, one with a second version by an admin,
    one already approved) and users of every kind."""
    with ReviewStore.open(load_settings()) as s:
        for name, role in (("ed", "editor"), ("rev1", "reviewer"), ("rev2", "reviewer"), ("boss", "admin"),
                           ("gone", "reviewer")):
            s.add_user(name, role)
        s.set_disabled("gone", True)
        for d in drafts:
            s.submit_version(d.lesson, d.checks, {}, "ed")
        plain, commented, revised, approved, other = (d.lesson.id for d in drafts)
        s.add_comment(commented, "rev2", "the second step is unclear")
        s.submit_version(drafts[2].lesson, drafts[2].checks, {}, "boss")  # an admin wrote version 2
        s.approve(approved, "rev1")
    return {"plain": plain, "commented": commented, "revised": revised, "approved": approved, "other": other}


def _dump(db: Path) -> dict[str, list[tuple[object, ...]]]:
    conn = sqlite3.connect(db)
    try:
        return {t: conn.execute(f"select * from {t} order by {key}").fetchall() for t, key in TABLES.items()}
    finally:
        conn.close()


def _copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True)
    with sqlite3.connect(src) as a, sqlite3.connect(dst) as b:
        a.backup(b)
    b.close()
    a.close()


CASES = [
    ("plain", "rev1", {}, True),
    ("plain", "rev2", {"comment": "  clear and short  "}, True),
    ("plain", "boss", {"version": 1}, True),
    ("plain", "rev1", {"version": 2}, False),  # not the current version
    ("plain", "ed", {}, False),  # an editor may not approve
    ("plain", "nobody", {}, False),
    ("plain", "gone", {}, False),  # disabled
    ("plain", "Bad Name!", {}, False),
    ("commented", "rev1", {}, False),  # an open comment
    ("revised", "boss", {}, False),  # four-eyes: boss wrote version 2
    ("plain", "boss", {}, True),
    ("revised", "rev1", {}, True),
    ("approved", "rev2", {}, False),  # already approved
    ("no.such.lesson", "rev1", {}, False),
]


@pytest.mark.parametrize(("which", "user", "opts", "answers"), CASES)
def test_the_same_approval_or_none(ids, workspace, tmp_path, monkeypatch, which, user, opts, answers):
    db = workspace / ".hocvu" / "hocvu.db"
    other = tmp_path / "other" / ".hocvu" / "hocvu.db"
    _copy(db, other)
    before = _dump(db)
    lesson = ids.get(which, which)
    monkeypatch.setattr(decisions, "utcnow", lambda: NOW)
    try:
        with ReviewStore.open(load_settings()) as s:
            want = s.approve(lesson, user, opts.get("comment"), version=opts.get("version"))
    except HocvuError:
        want = None
    light = read_light(other.parent.parent)
    assert light is not None
    with FastApprover.for_settings(light) as fast:  # type: ignore[union-attr]
        got = fast.approve(lesson, user, opts.get("comment"), version=opts.get("version"), now=lambda: NOW)
        assert fast.approved == (got is not None)
    if got is None:
        assert not answers
        assert _dump(other) == before  # nothing written
        return
    assert answers and want is not None
    assert got == want
    assert _dump(other) == _dump(db)


def test_open_comments_with_resolve_open_stay_with_the_store(ids, workspace):
    with FastApprover.for_settings(read_light(workspace)) as fast:  # type: ignore[union-attr,arg-type]
        assert fast.approve(ids["commented"], "rev1") is None
    with ReviewStore.open(load_settings()) as s:
        assert s.approve(ids["commented"], "rev1", resolve_open=True).status == "approved"


def test_four_eyes_off_lets_the_author_approve_as_the_store_does(ids, workspace, monkeypatch):
    monkeypatch.setenv("HOCVU_FOUR_EYES", "false")
    with FastApprover.for_settings(read_light(workspace)) as fast:  # type: ignore[union-attr,arg-type]
        state = fast.approve(ids["revised"], "boss")
    assert state is not None and state.approved_by == "boss"


def test_a_tampered_text_is_left_to_the_store(ids, workspace):
    db = workspace / ".hocvu" / "hocvu.db"
    with sqlite3.connect(db) as conn:
        (text,) = conn.execute("select lesson_json from versions where lesson_id = ?", (ids["other"],)).fetchone()
        data = json.loads(text)
        data["title"] += " (altered)"
        conn.execute("update versions set lesson_json = ? where lesson_id = ?",
                     (json.dumps(data, ensure_ascii=False), ids["other"]))
    conn.close()
    with FastApprover.for_settings(read_light(workspace)) as fast:  # type: ignore[union-attr,arg-type]
        assert fast.approve(ids["other"], "rev1") is None
    with ReviewStore.open(load_settings()) as s, pytest.raises(HocvuError, match="content hash"):
        s.approve(ids["other"], "rev1")


def test_comment_actions_are_the_stores():
    assert tuple(str(a) for a in store_core.COMMENT_ACTIONS) == COMMENT_ACTIONS


def test_the_command_approves_once_without_sqlalchemy(ids, cli):  # type: ignore[no-untyped-def]
    r = cli("review", "approve", ids["plain"], "--as", "rev1", "-m", "ok")
    assert r.exit_code == 0, r.output
    assert f"{ids['plain']}: approved, version 1 (approved by rev1)" in r.stdout
    again = cli("review", "approve", ids["plain"], "--as", "rev1")
    assert again.exit_code != 0 and "it is approved" in again.stderr
    with ReviewStore.open(load_settings()) as s:
        assert [e.action for e in s.history(ids["plain"])].count("approve") == 1


def test_a_store_locked_by_another_writer_is_busy_at_once_not_after_a_second_wait(ids) -> None:  # type: ignore[no-untyped-def]
    """The fast path has waited the whole lock timeout already: it says "busy" itself, where handing over
    to the store would wait the timeout a second time."""
    from generator.errors import ConflictError

    settings = read_light()
    assert settings is not None
    fast = FastApprover.for_settings(settings)
    assert fast is not None
    holder = sqlite3.connect(settings.state_dir / "hocvu.db", isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock
        with fast:
            fast._conn.execute("PRAGMA busy_timeout = 50")  # the test's stand-in for the 30 s wait
            with pytest.raises(ConflictError, match="busy"):
                fast.approve(ids["plain"], "rev1", now=lambda: NOW)
            assert not fast.approved
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    with ReviewStore.open(load_settings()) as s:
        assert s.lesson_state(ids["plain"]).status == "in_review"  # nothing was written
