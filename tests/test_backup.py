"""`hocvu backup`, `restore` and `export`: one checked archive of the store and the workspace's data files,
restored only after it checks out and never over data without --force; lessons and history as JSON."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from generator.backup import verify_backup
from generator.config import load_settings
from generator.review.db import HEAD
from generator.review.store import ReviewStore
from generator.versions import make_version
from tests.support.drafts import offline_lesson

LID = "vn-dcf-2025.4.2.L1.elderly.vi"


@pytest.fixture
def filled(workspace, library):  # type: ignore[no-untyped-def]
    """A workspace with users, a lesson with two versions and a comment, and a group profile of its own."""
    drafted = offline_lesson(library)
    with ReviewStore.open(load_settings()) as store:
        store.add_user("ed", "editor")
        store.add_user("rev", "reviewer")
        for _ in range(2):
            make_version(drafted, library, load_settings(), store, author="ed", kind="draft", formats=[])
        store.add_comment(LID, "rev", "Câu 2 dài quá.")
    own = workspace / "frameworks/groups/xa-vien.yaml"
    own.parent.mkdir(parents=True)
    own.write_text("id: xa-vien\n# nhóm riêng của xã\n", encoding="utf-8")
    return workspace


def test_backup_then_restore_into_an_empty_workspace(filled, tmp_path, cli, monkeypatch):
    archive = tmp_path / "b.tar.gz"
    out = cli("backup", str(archive))
    assert out.exit_code == 0 and "checked" in out.output, out.output
    assert archive.stat().st_mode & 0o777 == 0o600
    info = verify_backup(archive)
    assert info.store == "sqlite" and info.revision == HEAD

    fresh = tmp_path / "fresh"
    fresh.mkdir()
    monkeypatch.setenv("HOCVU_WORKSPACE", str(fresh))
    assert cli("restore", str(archive)).exit_code == 0
    assert "nhóm riêng" in (fresh / "frameworks/groups/xa-vien.yaml").read_text(encoding="utf-8")
    with ReviewStore.open(load_settings(fresh)) as store:
        assert [u.name for u in store.list_users()] == ["ed", "rev"]
        assert [v.number for v in store.versions(LID)] == [1, 2]
        assert store.comments(LID)[0].text == "Câu 2 dài quá."

    again = cli("restore", str(archive))
    assert again.exit_code == 2 and "--force" in again.output
    forced = cli("restore", str(archive), "--force")
    assert forced.exit_code == 0 and "kept at" in forced.output
    assert list((fresh / ".hocvu").glob("hocvu.db.before-restore-*"))


def test_a_damaged_store_comes_back_from_a_backup(filled, tmp_path, cli):
    archive = tmp_path / "b.tar.gz"
    assert cli("backup", str(archive)).exit_code == 0
    db = filled / ".hocvu/hocvu.db"
    db.write_bytes(db.read_bytes()[:5000])
    for side in ("hocvu.db-wal", "hocvu.db-shm"):
        (db.parent / side).unlink(missing_ok=True)
    assert cli("review", "list").exit_code == 1
    assert cli("restore", str(archive), "--force").exit_code == 0
    listed = cli("review", "list")
    assert listed.exit_code == 0 and "1 lesson(s)" in listed.output
    assert "agree" in cli("repair", "--check").output


def _rewrite(archive: Path, change: dict[str, bytes | None]) -> None:
    with tarfile.open(archive, "r:gz") as tar:
        members = [(m, tar.extractfile(m).read()) for m in tar.getmembers()]  # type: ignore[union-attr]
    with tarfile.open(archive, "w:gz") as tar:
        for m, data in members:
            if m.name in change:
                if change[m.name] is None:
                    continue
                data = change[m.name]  # type: ignore[assignment]
                m.size = len(data)
            tar.addfile(m, io.BytesIO(data))


@pytest.mark.parametrize("damage", ["changed file", "missing file", "not an archive"])
def test_a_damaged_backup_is_refused_before_anything_changes(filled, tmp_path, cli, damage):
    archive = tmp_path / "b.tar.gz"
    assert cli("backup", str(archive)).exit_code == 0
    if damage == "changed file":
        _rewrite(archive, {"workspace/frameworks/groups/xa-vien.yaml": b"id: khac\n"})
    elif damage == "missing file":
        _rewrite(archive, {"workspace/frameworks/groups/xa-vien.yaml": None})
    else:
        archive.write_bytes(b"hello")
    before = (filled / ".hocvu/hocvu.db").stat().st_mtime_ns
    out = cli("restore", str(archive), "--force")
    assert out.exit_code == 2 and len(out.output.strip().splitlines()) == 1, out.output
    assert (filled / ".hocvu/hocvu.db").stat().st_mtime_ns == before
    assert not list((filled / ".hocvu").glob("hocvu.db.before-restore-*"))


def test_export_holds_every_version_and_the_review_history(filled, tmp_path, cli):
    target = tmp_path / "export.json"
    assert cli("export", "--output", str(target)).exit_code == 0
    data = json.loads(target.read_text(encoding="utf-8"))
    (lesson,) = data["lessons"]
    assert lesson["id"] == LID and [v["number"] for v in lesson["versions"]] == [1, 2]
    assert lesson["versions"][0]["lesson"]["id"] == LID
    assert "lesson.json" in lesson["versions"][1]["artifacts"]
    assert [e["action"] for e in lesson["history"]].count("comment") == 1
    assert any(e.get("comment") == "Câu 2 dài quá." for e in lesson["history"])


@pytest.fixture
def postgres_url(tmp_path):  # type: ignore[no-untyped-def]
    """A throwaway PostgreSQL cluster (initdb + pg_ctl, as the postgres user when run as root)."""
    import os
    import shutil
    import subprocess
    import tempfile

    pytest.importorskip("psycopg")
    tools = [shutil.which(t) or next(iter(Path("/usr/lib/postgresql").glob(f"*/bin/{t}")), None)
             for t in ("initdb", "pg_ctl", "pg_dump", "psql")]
    if not all(tools):
        pytest.skip("PostgreSQL (initdb, pg_ctl, pg_dump, psql) is not installed")
    initdb, pg_ctl = str(tools[0]), str(tools[1])
    prefix: list[str] = []
    root = Path(tempfile.mkdtemp(prefix="hocvu-pgt-"))
    root.chmod(0o755)
    if os.geteuid() == 0:
        import pwd

        pw = pwd.getpwnam("postgres")
        os.chown(root, pw.pw_uid, pw.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    data, sock = root / "data", root
    subprocess.run([*prefix, initdb, "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync",
                    "--encoding=UTF8", "--locale=C.UTF-8"],
                   check=True, capture_output=True)
    subprocess.run([*prefix, pg_ctl, "-D", str(data), "-w", "-l", str(root / "log"), "-o",
                    f"-c listen_addresses='' -k {sock} -c fsync=off", "start"], check=True, capture_output=True)
    try:
        subprocess.run(["psql", "-h", str(sock), "-U", "postgres", "-c", "create database hocvu"], check=True,
                       capture_output=True)
        yield f"postgresql+psycopg://postgres@/hocvu?host={sock}"
    finally:
        subprocess.run([*prefix, pg_ctl, "-D", str(data), "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def test_backup_and_restore_on_postgresql(postgres_url, workspace, library, tmp_path, cli, monkeypatch):
    from sqlalchemy import create_engine, text

    monkeypatch.setenv("HOCVU_DATABASE_URL", postgres_url)
    drafted = offline_lesson(library)
    with ReviewStore.open(load_settings()) as store:
        store.add_user("ed", "editor")
        make_version(drafted, library, load_settings(), store, author="ed", kind="draft", formats=[])
    archive = tmp_path / "pg.tar.gz"
    made = cli("backup", str(archive))
    assert made.exit_code == 0 and "postgresql store" in made.output, made.output
    engine = create_engine(postgres_url)
    with engine.begin() as conn:
        conn.execute(text("delete from events"))
        conn.execute(text("delete from versions"))
        conn.execute(text("delete from lessons"))
    refused = cli("restore", str(archive))
    assert refused.exit_code == 2 and "--force" in refused.output  # the users are still there
    assert cli("restore", str(archive), "--force").exit_code == 0
    with ReviewStore.open(load_settings()) as store:
        assert [v.number for v in store.versions(LID)] == [1]
        assert [u.name for u in store.list_users()] == ["ed"]
    engine.dispose()
