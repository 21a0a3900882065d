"""Lists in SQL: the columns the store keeps per lesson (author, checks, outdated with its stamp), the
refresh that keeps the outdated flags current, paging and sorting, and lists that never read a version."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sqlalchemy import create_engine, event, select, text

from generator.config import load_settings
from generator.errors import NotFoundError
from generator.review.db import migrate
from generator.review.models import LessonRow
from generator.review.store import ReviewStore
from tests.postgres import SKIP_REASON, drop_everything, postgres_url, store_backend  # noqa: F401
from tests.support.drafts import REPO, offline_lesson


@pytest.fixture(scope="module")
def drafts(library):  # type: ignore[no-untyped-def]
    """Three offline-drafted lessons: two groups for 4.2, one for 4.1."""
    return [offline_lesson(library, competence="4.2"), offline_lesson(library, competence="4.2", group="farmers"),
            offline_lesson(library, competence="4.1")]


@pytest.fixture
def store(workspace, store_backend):  # type: ignore[no-untyped-def]  # noqa: F811
    """The workspace's store (SQLite, then PostgreSQL when one is given) with editors, a reviewer, an admin."""
    with ReviewStore.open(load_settings()) as s:
        for name, role in (("ed", "editor"), ("ed2", "editor"), ("rev1", "reviewer"), ("boss", "admin")):
            s.add_user(name, role)
        yield s


@pytest.fixture
def filled(store, drafts):  # type: ignore[no-untyped-def]
    """The store with the three lessons in review (the last one by ed2)."""
    for i, d in enumerate(drafts):
        store.submit_version(d.lesson, d.checks, {}, "ed2" if i == 2 else "ed")
    return store


def _statements(store: ReviewStore) -> list[str]:
    seen: list[str] = []
    event.listen(store.engine, "before_cursor_execute", lambda *a: seen.append(a[2].lower()))
    return seen


def _group_changed(workspace: Path) -> None:
    src = (REPO / "frameworks/groups/elderly.yaml").read_text(encoding="utf-8")
    (workspace / "frameworks/groups").mkdir(parents=True, exist_ok=True)
    (workspace / "frameworks/groups/elderly.yaml").write_text(
        src.replace("session_minutes: 45", "session_minutes: 50"), encoding="utf-8")


def test_pages_filter_sort_and_count_in_sql(filled, drafts):
    ids = sorted(d.lesson.id for d in drafts)
    first = filled.lesson_page(limit=2)
    assert (first.total, first.pages, [s.id for s in first.items]) == (3, 2, ids[:2])
    second = filled.lesson_page(limit=2, offset=2)
    assert [s.id for s in second.items] == ids[2:]
    assert [s.id for s in filled.list_lessons(sort="updated")] == [d.lesson.id for d in reversed(drafts)]
    assert filled.count_lessons(group="farmers") == 1
    assert filled.lesson_page(group="nobody").items == [] and filled.lesson_page(group="nobody").total == 0
    assert {s.id: s.author for s in filled.list_lessons()} == {
        d.lesson.id: "ed2" if d is drafts[2] else "ed" for d in drafts}
    assert {s.id for s in filled.list_lessons(not_author="ed")} == {drafts[2].lesson.id}
    with pytest.raises(NotFoundError, match="unknown sort order 'size'"):
        filled.list_lessons(sort="size")


def test_a_list_reads_no_version_and_no_lesson_body(filled, library):
    filled.refresh_outdated(library)  # the one pass that reads the versions' hashes
    seen = _statements(filled)
    filled.lesson_page(library=library, status="in_review", limit=50)
    filled.list_lessons(library=library, outdated_only=True)
    filled.counts()
    filled.coverage_cells("vn-dcf-2025", "vi")
    assert seen and not [s for s in seen if "versions" in s or "lesson_json" in s]
    assert len([s for s in seen if "group by" in s]) == 1  # the counts: one grouped query


def test_outdated_flags_are_refreshed_once_per_change_of_the_sources(filled, drafts, workspace):
    from generator.frameworks import Library

    assert filled.refresh_outdated(Library(workspace)) == 3  # never checked yet
    assert filled.refresh_outdated(Library(workspace)) == 0  # same sources: nothing to do
    before = {s.id: s.row_version for s in filled.list_lessons()}
    _group_changed(workspace)
    lib = Library(workspace)
    assert filled.refresh_outdated(lib) == 3
    states = {s.id: s for s in filled.list_lessons(library=lib)}
    elderly = [d.lesson.id for d in drafts if d.lesson.group == "elderly"]
    assert all(states[i].outdated == ["group profile elderly changed"] for i in elderly)
    assert states[drafts[1].lesson.id].outdated == []
    assert {s.id: s.row_version for s in states.values()} == before  # reviewers' tokens stay valid
    assert {s.id for s in filled.list_lessons(outdated_only=True, library=lib)} == set(elderly)
    assert filled.count_lessons(outdated_only=True, library=lib) == 2
    # a new version is current until the sources change again: only that lesson is checked
    fresh = offline_lesson(lib, competence="4.1")
    filled.submit_version(fresh.lesson, fresh.checks, {}, "ed", parent_version=1)
    assert filled.refresh_outdated(lib) == 1
    assert {s.id for s in filled.list_lessons(outdated_only=True, library=lib)} == {drafts[0].lesson.id}


def test_failed_checks_are_kept_on_the_lesson(filled, drafts):
    d = drafts[0]
    failed = [type(c)(c.name, False, "too long") for c in d.checks[:1]] + d.checks[1:]
    filled.submit_version(d.lesson, failed, {}, "ed", parent_version=1)
    assert [s.id for s in filled.list_lessons(failed_checks=True)] == [d.lesson.id]
    assert filled.list_lessons(failed_checks=True)[0].checks_passed is False


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_migration_0005_backfills_existing_lessons(tmp_path, drafts, library, backend):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    if backend == "postgresql":
        url = postgres_url() or pytest.skip(SKIP_REASON)
        drop_everything(url)
    engine = create_engine(url)
    migrate(engine, "0004")
    d = drafts[0]
    with engine.begin() as conn:
        conn.execute(text(
            "insert into lessons (id, framework, competence, level, target_group, language, title, search_key,"
            " status, current_version, row_version, created_at, updated_at) values (:id, 'vn-dcf-2025', '4.2',"
            " 1, 'elderly', 'vi', 't', '', 'in_review', 1, 1, '2026-01-01 00:00:00', '2026-01-01 00:00:00')"),
            {"id": d.lesson.id})
        p = d.lesson.provenance
        conn.execute(text(
            "insert into versions (lesson_id, number, kind, author, created_at, content_hash, lesson_json,"
            " checks_json, checks_passed, artifacts_json, backend, model, prompt_hash, framework_hash,"
            " group_hash, library_hash, sources_hash) values (:id, 1, 'draft', 'hoa', '2026-01-01 00:00:00',"
            " 'h', :body, '[]', false, '{}', :b, :m, :ph, :fh, :gh, :lh, '')"),
            {"id": d.lesson.id, "body": d.lesson.model_dump_json(), "b": p.backend, "m": p.model,
             "ph": p.prompt_hash, "fh": p.framework_hash, "gh": p.group_hash, "lh": p.content_hash})
    engine.dispose()
    with ReviewStore.from_url(url) as store:
        with store.engine.connect() as conn:
            row = conn.execute(select(LessonRow.author, LessonRow.checks_passed, LessonRow.outdated,
                                      LessonRow.outdated_stamp)).one()
        assert tuple(row) == ("hoa", False, False, "")
        [state] = store.list_lessons(library=library)
        assert (state.author, state.checks_passed, state.outdated) == ("hoa", False, [])
        assert store.refresh_outdated(library) == 0


def test_the_api_pages_with_a_total(filled, workspace):
    from fastapi.testclient import TestClient

    from generator.review.tokens import issue_token
    from generator.web.app import create_app

    token = issue_token(filled, "rev1")
    app = create_app(load_settings(), store=filled)
    with TestClient(app) as client:
        h = {"Authorization": f"Bearer {token}"}
        r = client.get("/api/lessons?limit=2", headers=h)
        assert r.status_code == 200 and len(r.json()) == 2 and r.headers["x-total-count"] == "3"
        nxt = re.fullmatch(r"<([^>]+)>; rel=\"next\"", r.headers["link"]).group(1)  # type: ignore[union-attr]
        rest = client.get(nxt, headers=h)
        assert len(rest.json()) == 1 and "link" not in rest.headers
        assert {x["id"] for x in r.json() + rest.json()} == {s.id for s in filled.list_lessons()}
        assert client.get("/api/lessons?limit=0", headers=h).status_code == 422
        assert client.get("/api/lessons?limit=5000", headers=h).status_code == 422
        assert json.loads(client.get("/api/lessons?sort=updated&limit=1", headers=h).text)[0]["author"] == "ed2"


PASSWORD = "mat-khau-dai-123"


def _client(app, name: str):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    client = TestClient(app, follow_redirects=False)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)  # type: ignore[union-attr]
    assert client.post("/login", data={"name": name, "password": PASSWORD, "csrf_token": csrf}).status_code == 303
    return client


def _ids(html: str) -> list[str]:
    return re.findall(r'<span class="id">([^<]+)</span>', html)


def test_pages_page_in_sql_and_follow_every_decision(filled, drafts, monkeypatch):
    from urllib.parse import quote

    from generator.web import pages
    from generator.web.app import create_app

    monkeypatch.setattr(pages, "PAGE_SIZE", 2)
    for name in ("rev1", "boss"):
        filled.set_password(name, PASSWORD)
    d = drafts[1]
    filled.submit_version(d.lesson, d.checks, {}, "boss", parent_version=1)  # boss made its current version
    ids = sorted(x.lesson.id for x in drafts)
    app = create_app(load_settings(), store=filled)
    with _client(app, "rev1") as client:
        assert _ids(client.get("/queue").text) == ids[:2]
        assert _ids(client.get("/queue?page=2").text) == ids[2:]
        assert _ids(client.get("/queue?page=9").text) == ids[2:]  # past the end: the last page
        url = "/coverage?framework=vn-dcf-2025&language=vi&group=elderly"
        lid = drafts[0].lesson.id
        assert f'cv-in_review" href="/lessons/{quote(lid)}"' in client.get(url).text
        filled.approve(lid, "rev1")  # decided elsewhere (not through a page): the cached matrix follows at once
        assert f'cv-approved" href="/lessons/{quote(lid)}"' in client.get(url).text
        assert _ids(client.get("/queue?status=approved").text) == [lid]
    with _client(app, "boss") as client:  # four-eyes: not the lesson boss made, in SQL
        waiting = client.get("/").text.split('id="h-waiting"')[1].split("</section>")[0]
        assert _ids(waiting) == [drafts[2].lesson.id]


def test_review_list_pages_and_flags_failed_checks_from_the_lesson_row(filled, drafts, cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")
    ids = sorted(d.lesson.id for d in drafts)
    first = cli("review", "list", "--limit", "2")
    assert first.exit_code == 0 and "lessons 1-2 of 3; --offset 2 shows the next ones" in first.output
    assert ids[0] in first.output and ids[2] not in first.output
    rest = cli("review", "list", "--limit", "2", "--offset", "2")
    assert rest.exit_code == 0 and ids[2] in rest.output and "lessons 3-3 of 3" in rest.output
    d = drafts[1]
    filled.submit_version(d.lesson, [type(c)(c.name, False, "x") for c in d.checks], {}, "ed", parent_version=1)
    failed = cli("review", "list", "--failed-checks")
    assert d.lesson.id in failed.output and "checks failed" in failed.output and "1 lesson(s)" in failed.output
