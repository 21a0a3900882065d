"""`hocvu doctor` checks the workspace and `--repair` mends it: every kind of damaged store is named by
doctor, refused in one line by the commands that open the store, and brought back to a working store."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from generator.config import load_settings
from generator.review.store import ReviewStore
from generator.versions import make_version
from tests.support.drafts import offline_lesson

LID = "vn-dcf-2025.4.2.L1.elderly.vi"


@pytest.fixture
def drafted_workspace(workspace, library):  # type: ignore[no-untyped-def]
    """A workspace with one lesson (two versions) in the store and in outputs/."""
    drafted = offline_lesson(library)
    with ReviewStore.open(load_settings()) as store:
        for _ in range(2):
            make_version(drafted, library, load_settings(), store, author="ed", kind="draft", formats=[])
    return workspace


def _sql(db: Path, statement: str) -> None:
    con = sqlite3.connect(db)
    con.execute(statement)
    con.commit()
    con.close()


def _garble(db: Path) -> None:
    data = bytearray(db.read_bytes())
    data[100:4100] = bytes((i * 7 + 3) % 256 for i in range(4000))
    db.write_bytes(bytes(data))


DAMAGES = {
    "empty file": (lambda db: db.write_bytes(b""), "is empty"),
    "missing file": (lambda db: db.unlink(), "is missing"),
    "truncated": (lambda db: db.write_bytes(db.read_bytes()[:20000]), "damaged"),
    "garbled": (_garble, "damaged"),
    "dropped alembic_version": (lambda db: _sql(db, "drop table alembic_version"), "no migration record"),
    "bad artifacts_json": (lambda db: _sql(db, "update versions set artifacts_json='{bad'"), "artifacts_json"),
    "bad lesson_json": (lambda db: _sql(db, "update versions set lesson_json='{}' where number=1"), "lesson_json"),
    "unknown status": (lambda db: _sql(db, "update lessons set status='weird'"), "unknown status"),
}


@pytest.mark.parametrize("damage", list(DAMAGES))
def test_each_damaged_store_is_named_refused_and_repaired(drafted_workspace, cli, damage):
    db = drafted_workspace / ".hocvu/hocvu.db"
    with ReviewStore.open(load_settings()) as store:
        store.close()
    sqlite3.connect(db).execute("PRAGMA wal_checkpoint(TRUNCATE)").close()
    for side in (".hocvu/hocvu.db-wal", ".hocvu/hocvu.db-shm"):
        (drafted_workspace / side).unlink(missing_ok=True)
    make, named = DAMAGES[damage]
    make(db)

    checked = cli("doctor")
    assert checked.exit_code == 1 and named in checked.output and "doctor --repair" in checked.output
    listed = cli("review", "list")
    if damage in ("bad lesson_json", "bad artifacts_json", "unknown status"):  # lists read neither body nor files
        assert listed.exit_code == 0 and "Traceback" not in listed.output
    else:
        assert listed.exit_code == 1 and "Traceback" not in listed.output
        assert len(listed.output.strip().splitlines()) == 1 and "doctor" in listed.output

    fixed = cli("doctor", "--repair", "--as", "ed")
    assert fixed.exit_code == 0, fixed.output
    assert "workspace problem(s) fixed" in fixed.output
    assert cli("review", "list").exit_code == 0
    assert "agree" in cli("repair", "--check").output
    with ReviewStore.open(load_settings()) as store:
        versions = store.versions(LID)
        assert [v.number for v in versions] == [1, 2]
        assert all(a.path.is_file() for v in versions for a in v.artifacts.values())
    if damage in ("truncated", "garbled"):
        assert list(db.parent.glob("hocvu.db.damaged-*")), "the damaged file is kept"


def test_a_new_workspace_is_not_refused(workspace, cli):
    assert cli("review", "list").exit_code == 0
    assert (workspace / ".hocvu/hocvu.db").exists()


def test_a_moved_outputs_folder_with_an_empty_store_is_refused_for_every_command(drafted_workspace, cli):
    db = drafted_workspace / ".hocvu"
    shutil.rmtree(db)
    for args in (("review", "list"), ("users", "list"), ("publish", "list")):
        out = cli(*args)
        assert out.exit_code == 1 and "hocvu restore" in out.output, (args, out.output)
    assert not (db / "hocvu.db").exists(), "nothing made a new, empty store"


def test_a_store_behind_the_newest_migration_is_named_and_upgraded(workspace, cli):
    from generator.review.db import current_revision, make_engine, migrate

    newest = make_engine(f"sqlite:///{workspace / 'newest.db'}")
    migrate(newest)
    with newest.connect() as conn:
        head = current_revision(conn)
    newest.dispose()
    db = workspace / ".hocvu/hocvu.db"
    engine = make_engine(f"sqlite:///{db}")
    migrate(engine, "0003")
    engine.dispose()
    checked = cli("doctor")
    assert checked.exit_code == 1 and "at migration '0003'" in checked.output
    fixed = cli("doctor", "--repair")
    assert fixed.exit_code == 0 and f"upgraded to migration {head}" in fixed.output, fixed.output
    engine = make_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        assert current_revision(conn) == head
    engine.dispose()
