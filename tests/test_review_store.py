"""The review store: migrations, users, versions, the workflow through the store, four-eyes,
optimistic concurrency, comments and outdated detection."""

from __future__ import annotations

import shutil
import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from generator.config import load_settings
from generator.errors import ConflictError, NotFoundError, PermissionError_, ReviewError, TransitionError
from generator.review.db import HEAD, head_revision, migrate
from generator.review.records import lesson_content_hash
from generator.review.store import ReviewStore
from generator.review.workflow import Status
from tests.postgres import store_backend  # noqa: F401  (a fixture)
from tests.support.drafts import REPO, offline_lesson

TABLES = {"users", "lessons", "versions", "events", "releases", "release_items", "alembic_version",
          "content_verifications", "sessions", "sign_in_failures", "jobs", "workspace_events"}


@pytest.fixture(scope="module")
def drafts(library):  # type: ignore[no-untyped-def]
    """Offline-drafted lessons (with their checks), by a short name."""
    return {
        "privacy": offline_lesson(library, competence="4.2"),
        "farmers": offline_lesson(library, competence="4.2", group="farmers"),
        "passwords": offline_lesson(library, competence="4.1"),
    }


@pytest.fixture
def store(workspace, store_backend):  # type: ignore[no-untyped-def]  # noqa: F811
    """The workspace's review store, on SQLite and (when one is given) on PostgreSQL."""
    with ReviewStore.open(load_settings()) as s:
        yield s


@pytest.fixture
def people(store):  # type: ignore[no-untyped-def]
    """An editor, two reviewers and an admin."""
    store.add_user("ed", "editor")
    store.add_user("rev1", "reviewer")
    store.add_user("rev2", "reviewer")
    store.add_user("boss", "admin")
    return store


def submit(store, drafted, author="ed", **kw):  # type: ignore[no-untyped-def]
    return store.submit_version(drafted.lesson, drafted.checks, {}, author, **kw)


# -- migrations -----------------------------------------------------------------------------------
def test_migration_from_an_empty_database(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    assert inspect(engine).get_table_names() == []
    assert migrate(engine) == head_revision() == HEAD == "0006"
    assert set(inspect(engine).get_table_names()) == TABLES
    with engine.connect() as conn:
        assert conn.execute(text("select version_num from alembic_version")).scalar_one() == "0006"
    assert migrate(engine) == "0006"  # a second run changes nothing
    cols = {c["name"] for c in inspect(engine).get_columns("users")}
    assert {"name", "role", "password_hash", "token_hash", "disabled"} <= cols


def test_a_store_made_by_the_first_release_is_upgraded_keeping_its_users(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    migrate(engine, "0001")
    with engine.begin() as conn:
        conn.execute(text("insert into users (name, role, created_at, updated_at) "
                          "values ('hoa', 'reviewer', '2025-01-01 00:00:00', '2025-01-01 00:00:00')"))
    assert migrate(engine) == HEAD
    store = ReviewStore(engine)
    assert store.get_user("hoa").disabled is False


def test_downgrade_and_upgrade_again(tmp_path):
    from alembic import command

    from generator.review.db import _alembic_config

    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    migrate(engine)
    with engine.begin() as conn:
        command.downgrade(_alembic_config(conn), "base")
    assert set(inspect(engine).get_table_names()) == {"alembic_version"}
    migrate(engine)
    assert set(inspect(engine).get_table_names()) == TABLES


def test_models_agree_with_the_migrations(store):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from generator.review.models import Base

    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diff == []


def test_product_code_never_creates_tables_itself():
    src = "\n".join(p.read_text(encoding="utf-8") for p in (REPO / "generator").rglob("*.py"))
    assert "create_all(" not in src


def test_default_store_is_sqlite_wal_in_the_workspace(store, workspace):
    if store.engine.dialect.name != "sqlite":
        pytest.skip("about the default SQLite store")
    db = workspace / ".hocvu" / "hocvu.db"
    assert db.exists()
    with sqlite3.connect(db) as conn:
        assert conn.execute("pragma journal_mode").fetchone()[0] == "wal"


def test_database_url_setting(workspace, tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    monkeypatch.setenv("HOCVU_DATABASE_URL", url)
    with ReviewStore.open(load_settings()) as s:
        s.add_user("an", "editor")
    assert (tmp_path / "elsewhere.db").exists() and not (workspace / ".hocvu" / "hocvu.db").exists()


def test_a_database_from_a_newer_hocvu_is_refused(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'new.db'}")
    migrate(engine)
    with engine.begin() as conn:
        conn.execute(text("update alembic_version set version_num = '0099'"))
    with pytest.raises(ReviewError, match="upgrade hocvu"):
        migrate(engine)


# -- users ----------------------------------------------------------------------------------------
def test_users_and_argon2_passwords(store, workspace):
    store.add_user("lan", "reviewer", "mật-khẩu-dài")
    assert store.get_user("lan").has_password and store.get_user("lan").role == "reviewer"
    assert store.verify_password("lan", "mật-khẩu-dài").name == "lan"
    assert store.verify_password("lan", "wrong-password") is None
    assert store.verify_password("nobody", "mật-khẩu-dài") is None
    with store.engine.connect() as conn:
        stored = conn.execute(text("select password_hash from users")).scalar_one()
    assert stored.startswith("$argon2id$") and "mật" not in stored
    store.set_password("lan", "another-secret")
    assert store.verify_password("lan", "mật-khẩu-dài") is None and store.verify_password(
        "lan", "another-secret"
    )
    store.set_password("lan", None)
    assert not store.get_user("lan").has_password and store.verify_password("lan", "another-secret") is None
    assert store.set_role("lan", "admin").role == "admin"
    assert [u.name for u in store.list_users()] == ["lan"]


def test_user_errors(store):
    store.add_user("lan", "editor")
    with pytest.raises(ReviewError, match="already exists"):
        store.add_user("lan", "reviewer")
    with pytest.raises(NotFoundError, match="unknown role 'boss'; choose one of: editor, reviewer, admin"):
        store.add_user("minh", "boss")
    with pytest.raises(ReviewError, match="too short"):
        store.add_user("minh", "editor", "short")
    with pytest.raises(ReviewError, match="invalid user name"):
        store.add_user("a b", "editor")
    with pytest.raises(NotFoundError, match="unknown user 'ghost'; choose one of: lan"):
        store.get_user("ghost")


def test_only_admins_manage_users_when_acting_as_someone(store):
    store.add_user("boss", "admin")
    store.add_user("ed", "editor")
    store.add_user("rev", "reviewer", by="boss")
    with pytest.raises(PermissionError_, match="ed is an editor and may not manage users"):
        store.add_user("x", "editor", by="ed")


# -- versions -------------------------------------------------------------------------------------
def test_submit_records_an_immutable_version(store, drafts, workspace):
    d = drafts["privacy"]
    folder = workspace / "outputs" / "v1"
    folder.mkdir(parents=True)
    (folder / "index.html").write_text("<p>bài học</p>", encoding="utf-8")
    rec = store.submit_version(d.lesson, d.checks, {"index.html": folder / "index.html"}, "ed", folder=folder)
    assert (rec.number, rec.kind, rec.status, rec.author, rec.current) == (
        1,
        "draft",
        "in_review",
        "ed",
        True,
    )
    assert rec.content_hash == lesson_content_hash(d.lesson) and len(rec.content_hash) == 64
    assert rec.lesson == d.lesson and rec.checks == d.checks
    art = rec.artifacts["index.html"]
    assert art.path == folder / "index.html" and art.size == len("<p>bài học</p>".encode())
    import hashlib

    assert art.sha256 == hashlib.sha256("<p>bài học</p>".encode()).hexdigest()
    with store.engine.connect() as conn:  # stored relative to the workspace
        assert (
            '"path": "outputs/v1/index.html"'
            in conn.execute(text("select artifacts_json from versions")).scalar_one()
        )
    p = d.lesson.provenance
    assert (rec.backend, rec.prompt_hash, rec.framework_hash, rec.group_hash, rec.library_hash) == (
        "offline",
        p.prompt_hash,
        p.framework_hash,
        p.group_hash,
        p.content_hash,
    )
    state = store.lesson_state(d.lesson.id)
    assert (state.status, state.current_version, state.group, state.title) == (
        "in_review",
        1,
        "elderly",
        d.lesson.title,
    )


def test_bad_artifacts_are_refused(store, drafts, tmp_path):
    d = drafts["privacy"]
    with pytest.raises(ReviewError, match="plain file name"):
        store.submit_version(d.lesson, d.checks, {"../x.html": tmp_path}, "ed")
    with pytest.raises(NotFoundError, match="missing"):
        store.submit_version(d.lesson, d.checks, {"x.html": tmp_path / "nope.html"}, "ed")
    with pytest.raises(NotFoundError, match="no lesson"):
        store.lesson_state(d.lesson.id)


def test_unknown_lesson_and_version(store, drafts):
    submit(store, drafts["privacy"])
    with pytest.raises(NotFoundError, match=r"no lesson 'vn-dcf-2025.4.2.L1.elderly.v'.*did you mean"):
        store.lesson_state("vn-dcf-2025.4.2.L1.elderly.v")
    with pytest.raises(NotFoundError, match="unknown version of .* 7; choose one of: 1"):
        store.get_version(drafts["privacy"].lesson.id, 7)


# -- the workflow through the store ---------------------------------------------------------------
def _bring_to(store, drafted, status):  # type: ignore[no-untyped-def]
    lid = drafted.lesson.id
    submit(store, drafted, submit=status != "draft")
    if status == "approved":
        store.approve(lid, "rev1")
    elif status == "changes_requested":
        store.request_changes(lid, "rev1", "Bước 2 chưa rõ")
    elif status == "rejected":
        store.reject(lid, "rev1", "Sai chủ đề")
    return lid


DECISIONS = {
    "submit": lambda s, lid: s.submit(lid, "ed"),
    "approve": lambda s, lid: s.approve(lid, "rev2"),
    "request_changes": lambda s, lid: s.request_changes(lid, "rev2", "Sửa lại"),
    "reject": lambda s, lid: s.reject(lid, "rev2", "Không dùng"),
}
LEGAL = {
    ("draft", "submit"): "in_review",
    ("in_review", "approve"): "approved",
    ("in_review", "request_changes"): "changes_requested",
    ("in_review", "reject"): "rejected",
}
CASES = [
    (st, act)
    for st in ("draft", "in_review", "approved", "changes_requested", "rejected")
    for act in DECISIONS
]


@pytest.mark.parametrize(("status", "action"), CASES, ids=[f"{s}-{a}" for s, a in CASES])
def test_every_decision_in_every_status(people, drafts, status, action):
    lid = _bring_to(people, drafts["privacy"], status)
    before = people.history(lid)
    if (status, action) in LEGAL:
        assert DECISIONS[action](people, lid).status == LEGAL[(status, action)]
        assert len(people.history(lid)) == len(before) + 1
    else:
        with pytest.raises(TransitionError, match=f"cannot .* it is {status.replace('_', ' ')}"):
            DECISIONS[action](people, lid)
        assert people.lesson_state(lid).status == status and people.history(lid) == before


@pytest.mark.parametrize("status", ["draft", "in_review", "approved", "changes_requested", "rejected"])
@pytest.mark.parametrize("kind", ["edit", "revise", "draft"])
def test_new_versions_in_every_status(people, drafts, status, kind):
    d = drafts["privacy"]
    lid = _bring_to(people, d, status)
    if status == "rejected" and kind != "draft":
        with pytest.raises(TransitionError, match="rejected"):
            submit(people, d, parent_version=1, kind=kind)
        assert people.lesson_state(lid).current_version == 1
    else:
        rec = submit(people, d, parent_version=None if kind == "draft" else 1, kind=kind)
        assert (rec.number, rec.status) == (2, "in_review")
        assert people.get_version(lid, 1).status in ("superseded", status)


def test_lifecycle_with_history(people, drafts):
    d = drafts["privacy"]
    lid = submit(people, d).lesson_id
    people.request_changes(lid, "rev1", "Bước 2 chưa rõ", section="steps")
    submit(people, d, parent_version=1, kind="revise")
    with pytest.raises(ReviewError, match="1 comment.* still open"):
        people.approve(lid, "rev2", "Tốt")  # the reviewer must say the open comment is dealt with
    state = people.approve(lid, "rev2", "Tốt", resolve_open=True)
    assert (state.status, state.current_version, state.approved_by) == ("approved", 2, "rev2")
    actions = [(e.version, e.action, e.actor, e.to_status) for e in people.history(lid)]
    assert actions == [
        (1, "create", "ed", "in_review"),
        (1, "request_changes", "rev1", "changes_requested"),
        (2, "create", "ed", "in_review"),
        (1, "resolve", "rev2", None),
        (2, "approve", "rev2", "approved"),
    ]
    assert [v.status for v in people.versions(lid)] == ["changes_requested", "approved"]
    approve = people.history(lid)[-1]
    assert approve.content_hash == people.get_version(lid).content_hash


def test_rejected_lessons_can_be_drafted_anew(people, drafts):
    lid = _bring_to(people, drafts["privacy"], "rejected")
    with pytest.raises(TransitionError, match="draft it anew"):
        people.preflight_version(lid, "ed", "revise")
    assert submit(people, drafts["privacy"]).status == "in_review"


def test_edit_after_approval_needs_approval_again(people, drafts):
    d = drafts["privacy"]
    lid = _bring_to(people, d, "approved")
    edited = d.lesson.model_copy(update={"summary": d.lesson.summary + " Hãy cẩn thận."})
    rec = people.submit_version(edited, d.checks, {}, "ed", 1, kind="edit")
    state = people.lesson_state(lid)
    assert (state.status, state.current_version, state.approved_by) == ("in_review", 2, None)
    assert rec.content_hash != people.get_version(lid, 1).content_hash
    assert people.approve(lid, "rev1").status == "approved"


# -- permissions and four-eyes --------------------------------------------------------------------
def test_four_eyes(people, drafts):
    d = drafts["privacy"]
    people.set_role("rev1", "admin")
    lid = submit(people, d, author="rev1").lesson_id  # an admin may author...
    with pytest.raises(PermissionError_, match="rev1 made .* version 1 since its last approval"):
        people.approve(lid, "rev1")  # ...but not approve their own version
    assert people.lesson_state(lid).status == "in_review"
    assert people.approve(lid, "rev2").status == "approved"


def test_four_eyes_covers_every_version_since_the_last_approval(people, drafts):
    d = drafts["privacy"]
    lid = submit(people, d).lesson_id
    people.approve(lid, "rev1")
    people.set_role("rev2", "admin")
    mine = d.lesson.model_copy(update={"summary": d.lesson.summary + " Admin viết thêm câu này."})
    people.submit_version(mine, d.checks, {}, "rev2", 1, kind="edit")  # the admin's unreviewed text, v2
    trivial = mine.model_copy(update={"title": mine.title + "."})
    people.submit_version(trivial, d.checks, {}, "ed", 2, kind="edit")  # an editor's trivial v3
    with pytest.raises(PermissionError_, match="rev2 made .* version 2 since its last approval"):
        people.approve(lid, "rev2")
    assert people.approve(lid, "rev1").status == "approved"  # someone who wrote none of it


@pytest.mark.usefixtures("store_backend")
def test_four_eyes_can_be_relaxed(workspace, drafts, monkeypatch):
    monkeypatch.setenv("HOCVU_FOUR_EYES", "false")
    with ReviewStore.open(load_settings()) as s:
        s.add_user("solo", "admin")
        lid = submit(s, drafts["privacy"], author="solo").lesson_id
        assert s.approve(lid, "solo").status == "approved"


def test_roles_are_enforced(people, drafts):
    lid = submit(people, drafts["privacy"]).lesson_id
    with pytest.raises(PermissionError_, match="ed is an editor and may not approve"):
        people.approve(lid, "ed")
    with pytest.raises(PermissionError_, match="not a registered user"):
        people.approve(lid, "stranger")
    with pytest.raises(PermissionError_, match="rev1 is a reviewer and may not make versions"):
        submit(people, drafts["privacy"], author="rev1")
    assert people.lesson_state(lid).status == "in_review"


# -- concurrency ----------------------------------------------------------------------------------
def test_concurrent_approval_second_gets_a_conflict(people, drafts, workspace):
    lid = submit(people, drafts["privacy"]).lesson_id
    with ReviewStore.open(load_settings()) as a, ReviewStore.open(load_settings()) as b:
        seen_a, seen_b = a.lesson_state(lid), b.lesson_state(lid)  # both read version 1, in review
        assert seen_a.row_version == seen_b.row_version
        a.approve(lid, "rev1", expected_version=seen_a.row_version)
        with pytest.raises(ConflictError, match="rev1 approved version 1 .* nothing was changed"):
            b.approve(lid, "rev2", expected_version=seen_b.row_version)
        with pytest.raises(ConflictError):
            b.request_changes(lid, "rev2", "Chưa ổn", expected_version=seen_b.row_version)
    state = people.lesson_state(lid)
    assert (state.status, state.approved_by) == ("approved", "rev1")
    assert [e.action for e in people.history(lid)] == ["create", "approve"]


def test_racing_approvals_in_threads(people, drafts):
    lid = submit(people, drafts["privacy"]).lesson_id
    row = people.lesson_state(lid).row_version
    stores = [ReviewStore.open(load_settings()) for _ in range(2)]
    barrier, outcomes = threading.Barrier(2), []

    def act(s, who):  # type: ignore[no-untyped-def]
        barrier.wait()
        try:
            s.approve(lid, who, expected_version=row)
            outcomes.append("ok")
        except ConflictError:
            outcomes.append("conflict")

    threads = [
        threading.Thread(target=act, args=(s, who)) for s, who in zip(stores, ["rev1", "rev2"], strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for s in stores:
        s.close()
    assert sorted(outcomes) == ["conflict", "ok"]
    assert sum(e.action == "approve" for e in people.history(lid)) == 1


def test_two_approvals_at_the_same_moment_on_postgresql_one_conflict(people, drafts):
    """Both approvals read the lesson and reach their update while a third connection holds the row; when
    it lets go, one update lands and the other finds the row changed: a conflict, never two approvals."""
    if people.engine.dialect.name != "postgresql":
        pytest.skip("about PostgreSQL's row locks (SQLite serialises writers with BEGIN IMMEDIATE)")
    import time

    lid = submit(people, drafts["privacy"]).lesson_id
    row = people.lesson_state(lid).row_version
    stores = [ReviewStore.open(load_settings()) for _ in range(2)]
    outcomes: list[str] = []

    def act(s, who):  # type: ignore[no-untyped-def]
        try:
            s.approve(lid, who, expected_version=row)
            outcomes.append("ok")
        except ConflictError:
            outcomes.append("conflict")

    threads = [threading.Thread(target=act, args=(s, who)) for s, who in zip(stores, ["rev1", "rev2"], strict=True)]
    waiting = text("select count(*) from pg_stat_activity where wait_event_type = 'Lock' "
                   "and datname = current_database()")
    with people.engine.connect() as holder, people.engine.connect() as watcher:
        hold = holder.begin()
        holder.execute(text("select id from lessons where id = :i for update"), {"i": lid})
        for th in threads:
            th.start()
        deadline = time.monotonic() + 20
        while watcher.execute(waiting).scalar_one() < 2:  # both updates wait behind the held row
            assert time.monotonic() < deadline, "the two approvals never reached their update"
            watcher.rollback()
            time.sleep(0.02)
        hold.commit()
    for th in threads:
        th.join()
    for s in stores:
        s.close()
    assert sorted(outcomes) == ["conflict", "ok"]
    assert sum(e.action == "approve" for e in people.history(lid)) == 1


def test_a_version_made_meanwhile_is_a_conflict(people, drafts):
    d = drafts["privacy"]
    lid = submit(people, d).lesson_id
    submit(people, d, parent_version=1)  # someone else's edit: version 2
    with pytest.raises(ConflictError, match="you worked from version 1, but version 2 by ed"):
        submit(people, d, parent_version=1)
    with pytest.raises(ConflictError, match="you reviewed .* version 1, but version 2 by ed is current"):
        people.approve(lid, "rev1", version=1)
    assert people.lesson_state(lid).current_version == 2 and len(people.versions(lid)) == 2


def test_a_tampered_version_cannot_be_approved(people, drafts, workspace):
    lid = submit(people, drafts["privacy"]).lesson_id
    with people.engine.begin() as conn:
        conn.execute(text("update versions set lesson_json = replace(lesson_json, 'Giữ kín', 'Bỏ qua')"))
    with pytest.raises(ReviewError, match="does not match its recorded content hash"):
        people.approve(lid, "rev1")


# -- comments -------------------------------------------------------------------------------------
def test_comments_open_until_resolved_or_approved(people, drafts):
    d = drafts["privacy"]
    lid = submit(people, d).lesson_id
    people.request_changes(lid, "rev1", "Bước 2 khó hiểu", section="steps")
    c2 = people.add_comment(lid, "rev2", "Thêm ví dụ về Zalo", section="example")
    with pytest.raises(PermissionError_):
        people.add_comment(lid, "stranger", "hi")
    with pytest.raises(NotFoundError, match="unknown section"):
        people.add_comment(lid, "rev2", "hi", section="intro")
    assert [c.text for c in people.comments(lid)] == ["Bước 2 khó hiểu", "Thêm ví dụ về Zalo"]
    people.resolve_comment(lid, c2.id, "ed")
    assert [c.section for c in people.comments(lid)] == ["steps"]
    submit(people, d, parent_version=1, kind="revise")
    assert len(people.comments(lid)) == 1  # a new version does not by itself resolve anything
    people.approve(lid, "rev2", resolve_open=True)
    assert people.comments(lid) == [] and len(people.comments(lid, open_only=False)) == 2


# -- listing and outdated detection ---------------------------------------------------------------
def test_list_filters(people, drafts):
    for d in drafts.values():
        submit(people, d)
    people.approve(drafts["farmers"].lesson.id, "rev1")
    ids = lambda states: [s.id for s in states]  # noqa: E731
    assert len(people.list_lessons()) == 3
    assert ids(people.list_lessons(status="approved")) == [drafts["farmers"].lesson.id]
    assert ids(people.list_lessons(group="farmers")) == [drafts["farmers"].lesson.id]
    assert len(people.list_lessons(framework="vn-dcf-2025", competence="4.2")) == 2
    assert len(people.list_lessons(status=["approved", "in_review"], level=1, language="vi")) == 3
    assert ids(people.list_lessons(search="FARMERS")) == [drafts["farmers"].lesson.id]
    assert people.list_lessons(language="en") == []
    with pytest.raises(NotFoundError, match="unknown status 'done'"):
        people.list_lessons(status="done")
    assert people.counts() == {"approved": 1, "in_review": 2}
    approved = people.list_lessons(status="approved")[0]
    assert approved.approved_by == "rev1" and approved.approved_at is not None


def _override(workspace: Path, rel: str, old: str, new: str) -> None:
    src = REPO / "frameworks" / rel
    dst = workspace / "frameworks" / rel
    dst.parent.mkdir(parents=True, exist_ok=True)
    text_ = src.read_text(encoding="utf-8")
    assert old in text_
    dst.write_text(text_.replace(old, new, 1), encoding="utf-8")


def test_outdated_when_a_framework_entry_changes(people, drafts, workspace):
    from generator.frameworks import Library

    for d in drafts.values():
        submit(people, d)
    assert not any(s.outdated for s in people.list_lessons(library=Library(workspace)))
    _override(
        workspace,
        "vn-dcf-2025.yaml",
        "en: Protecting personal data and privacy",
        "en: Protecting personal data and privacy online",
    )
    lib = Library(workspace)
    states = {s.id: s for s in people.list_lessons(library=lib)}
    assert states[drafts["privacy"].lesson.id].outdated == ["framework entry vn-dcf-2025 4.2 changed"]
    assert states[drafts["farmers"].lesson.id].is_outdated
    assert states[drafts["passwords"].lesson.id].outdated == []  # 4.1 did not change
    only = people.list_lessons(outdated_only=True, library=lib)
    assert {s.id for s in only} == {drafts["privacy"].lesson.id, drafts["farmers"].lesson.id}
    assert people.lesson_state(drafts["privacy"].lesson.id, library=lib).is_outdated
    with pytest.raises(ReviewError, match="needs the framework library"):
        people.list_lessons(outdated_only=True)


def test_outdated_when_a_group_or_content_entry_changes(people, drafts, workspace):
    from generator.frameworks import Library

    submit(people, drafts["privacy"])
    submit(people, drafts["farmers"])
    _override(workspace, "groups/elderly.yaml", "session_minutes: 45", "session_minutes: 50")
    content = REPO / "frameworks" / "content" / "vn-dcf-2025" / "4.1.yaml"
    (workspace / "frameworks" / "content" / "vn-dcf-2025").mkdir(parents=True)
    shutil.copy(content, workspace / "frameworks" / "content" / "vn-dcf-2025" / "4.1.yaml")  # same content
    states = {s.id: s.outdated for s in people.list_lessons(library=Library(workspace))}
    assert states == {
        drafts["farmers"].lesson.id: [],
        drafts["privacy"].lesson.id: ["group profile elderly changed"],
    }


def test_outdated_prompts_and_composer(people, drafts, workspace):
    from generator.drafting.prompts import PromptSet
    from generator.frameworks import Library

    d = drafts["privacy"]
    prov = d.lesson.provenance.model_copy(
        update={
            "backend": "openai",
            "model": "m",
            "prompt_hash": PromptSet.load(None).hash("system", "lesson"),
        }
    )
    submit(people, type(d)(d.lesson.model_copy(update={"provenance": prov}), d.checks))
    pw = drafts["passwords"].lesson
    old_composer = pw.provenance.model_copy(update={"prompt_hash": "offline-000000000000"})
    submit(people, type(d)(pw.model_copy(update={"provenance": old_composer}), d.checks))
    lib = Library(workspace)
    outdated = {s.id: s.outdated for s in people.list_lessons(library=lib)}
    assert outdated[d.lesson.id] == []
    assert outdated[drafts["passwords"].lesson.id] == ["the offline composer changed"]
    (workspace / "prompts").mkdir()
    shipped = (REPO / "prompts" / "lesson.j2").read_text(encoding="utf-8")
    (workspace / "prompts" / "lesson.j2").write_text(shipped + "\nBe brief.\n", encoding="utf-8")
    outdated = {s.id: s.outdated for s in people.list_lessons(library=Library(workspace))}
    assert outdated[d.lesson.id] == ["the prompt templates changed"]


def test_status_values_are_the_workflow_ones(people, drafts):
    submit(people, drafts["privacy"])
    assert {s.status for s in people.list_lessons()} <= {x.value for x in Status}
