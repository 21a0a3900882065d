"""Backups of a workspace: ``hocvu backup``, ``hocvu restore`` and ``hocvu export``.

A backup is one ``.tar.gz``: a consistent snapshot of the review store (SQLite's online backup API through
the ``sqlite3`` module, so it is safe while other commands write; ``pg_dump`` for PostgreSQL), the
workspace's own data files (frameworks, group profiles and content overrides under ``frameworks/``, its
``prompts/``, ``hocvu.toml``, the source library under ``.hocvu/sources``, kept edits and the web secret)
and ``hocvu-backup.json``, which lists every file with its sha256. It is written beside its destination
and renamed into place only after it has been read back and checked: every checksum, and for SQLite the
snapshot's ``PRAGMA integrity_check`` and migration. ``restore`` checks the same before it changes
anything, and never overwrites a store that holds data without ``force`` (the old store is set aside,
never deleted). ``outputs/`` is not in a backup unless asked for: its version files are immutable and
are best copied as they are.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
from dataclasses import asdict, dataclass, is_dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator.errors import ConfigError, DataError, ReviewError
from generator.fsutil import sha256_file
from generator.i18n import Message

if TYPE_CHECKING:
    from generator.config import Settings
    from generator.review.store import ReviewStore

MANIFEST = "hocvu-backup.json"
FORMAT = 1
#: The workspace's own data, relative to the workspace (what a backup holds besides the store).
WORKSPACE_DATA = ("frameworks", "prompts", "hocvu.toml", ".hocvu/sources", ".hocvu/edits", ".hocvu/secret_key")
#: Added with ``outputs=True``: the version and release folders.
OUTPUT_DATA = ("outputs/drafts", "outputs/published")


class BackupError(ReviewError):
    """A backup could not be written."""


class BadBackupError(DataError):
    """An archive is not a whole hocvu backup (exit 2: the input is wrong)."""


@dataclass(frozen=True)
class BackupInfo:
    """What a written or checked backup holds."""

    path: Path
    store: str  # "sqlite" or "postgresql"
    revision: str
    files: int
    size: int


def _store_snapshot(settings: Settings, into: Path) -> tuple[str, Path]:
    """A consistent copy of the store in folder ``into``: ('sqlite', hocvu.db) or ('postgresql', dump)."""
    from generator.review.db import database_url
    from generator.review.health import sqlite_path

    url = database_url(settings)
    path = sqlite_path(url)
    if path is not None:
        if not path.exists():
            raise BackupError(Message("there is no review store to back up at {path}", path=path))
        target = into / "hocvu.db"
        src = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)  # the online backup API: a consistent snapshot even while others write
        except sqlite3.Error as exc:
            raise BackupError(Message("cannot read the review store {path} ({problem}); see `hocvu doctor`",
                                      path=path, problem=exc)) from exc
        finally:
            dst.close()
            src.close()
        return "sqlite", target
    target = into / "hocvu.sql"
    _pg(["pg_dump", "--no-owner", "--clean", "--if-exists", "--file", str(target), _libpq(url)])
    return "postgresql", target


def _libpq(url: str) -> str:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def _pg(cmd: list[str]) -> None:
    if shutil.which(cmd[0]) is None:
        raise ConfigError("{tool} is needed for a PostgreSQL store: sudo apt-get install -y postgresql-client",
                          tool=cmd[0])
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode:
        last = (done.stderr or "").strip().splitlines()[-1:] or [f"exit {done.returncode}"]
        raise BackupError(Message("{tool} failed: {problem}", tool=cmd[0], problem=last[0]))


def _members(settings: Settings, outputs: bool) -> list[tuple[Path, str]]:
    ws = settings.workspace
    out: list[tuple[Path, str]] = []
    for rel in (*WORKSPACE_DATA, *(OUTPUT_DATA if outputs else ())):
        root = ws / rel
        if root.is_file():
            out.append((root, rel))
        elif root.is_dir():
            for p in sorted(root.rglob("*")):
                if p.is_file() and not p.is_symlink() and ".incoming-" not in p.as_posix():
                    out.append((p, p.relative_to(ws).as_posix()))
    return out


def write_backup(settings: Settings, dest: Path, *, outputs: bool = False) -> BackupInfo:
    """Write a backup of the workspace to ``dest`` (a ``.tar.gz``), checked before it is put in place."""
    from generator import __version__

    dest = dest.expanduser().resolve()
    if dest.is_dir():
        dest = dest / f"hocvu-backup-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.tar.gz"
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        with tempfile.TemporaryDirectory(prefix=".hocvu-backup-", dir=dest.parent) as work:
            kind, snap = _store_snapshot(settings, Path(work))
            revision = _snapshot_revision(snap) if kind == "sqlite" else ""
            files = [(snap, f"store/{snap.name}"), *[(p, f"workspace/{rel}") for p, rel in _members(settings, outputs)]]
            listing = {arc: sha256_file(p) for p, arc in files}
            manifest = {"format": FORMAT, "hocvu_version": __version__, "created_at": datetime.now(UTC).isoformat(),
                        "store": kind, "revision": revision, "files": listing}
            os.chmod(tmp, 0o600)  # it holds password hashes and the web secret
            with tarfile.open(tmp, "w:gz") as tar:
                data = json.dumps(manifest, indent=1, ensure_ascii=False).encode("utf-8")
                info = tarfile.TarInfo(MANIFEST)
                info.size, info.mtime, info.mode = len(data), int(time.time()), 0o600
                tar.addfile(info, io.BytesIO(data))
                for p, arc in files:
                    tar.add(p, arcname=arc, recursive=False)
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
        checked = verify_backup(tmp)
        os.replace(tmp, dest)
    except OSError as exc:
        raise BackupError(Message("cannot write the backup {dest}: {problem}; nothing was written", dest=dest,
                                  problem=exc.strerror or exc)) from exc
    finally:
        tmp.unlink(missing_ok=True)
    return BackupInfo(dest, checked.store, checked.revision, checked.files, dest.stat().st_size)


def _snapshot_revision(db: Path) -> str:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = [r[0] for r in con.execute("PRAGMA integrity_check(5)")]
        if rows != ["ok"]:
            raise BackupError(Message("the store snapshot fails its integrity check: {problems}",
                                      problems="; ".join(rows)))
        row = con.execute("select version_num from alembic_version").fetchone()
    except sqlite3.Error as exc:
        raise BackupError(Message("the store snapshot cannot be read ({problem}); see `hocvu doctor`",
                                  problem=exc)) from exc
    finally:
        con.close()
    return str(row[0]) if row else ""


def _read_manifest(tar: tarfile.TarFile, path: Path) -> dict[str, Any]:
    try:
        fh = tar.extractfile(MANIFEST)
        data = json.loads(fh.read(1 << 24)) if fh else None
    except (KeyError, ValueError) as exc:
        raise BadBackupError(Message("{path} is not a hocvu backup (no valid {manifest})", path=path,
                                      manifest=MANIFEST)) from exc
    if not isinstance(data, dict) or not isinstance(data.get("files"), dict) or data.get("format") != FORMAT:
        raise BadBackupError(Message("{path} is not a hocvu backup this version can read ({manifest} unexpected)",
                                      path=path, manifest=MANIFEST))
    return data


def verify_backup(path: Path) -> BackupInfo:
    """Check an archive: its manifest, every file's checksum, no file outside the listing, and for SQLite
    the store snapshot's integrity and migration. BackupError names the first problem."""
    import hashlib

    try:
        with tarfile.open(path, "r:gz") as tar:
            manifest = _read_manifest(tar, path)
            listed: dict[str, str] = manifest["files"]
            seen: set[str] = set()
            for member in tar:
                if member.name == MANIFEST:
                    continue
                if member.name not in listed or not member.isfile():
                    raise BadBackupError(Message("{path}: {member} is not listed in its manifest", path=path,
                                                  member=member.name))
                fh = tar.extractfile(member)
                h = hashlib.sha256()
                while fh is not None and (chunk := fh.read(1 << 20)):
                    h.update(chunk)
                if h.hexdigest() != listed[member.name]:
                    raise BadBackupError(Message("{path}: {member} does not match its checksum; the backup is damaged",
                                                  path=path, member=member.name))
                seen.add(member.name)
            missing = sorted(set(listed) - seen)
            if missing:
                raise BadBackupError(Message("{path}: {n} listed file(s) are missing, e.g. {example}", path=path,
                                              n=len(missing), example=missing[0]))
            if manifest.get("store") == "sqlite":
                with tempfile.TemporaryDirectory() as work:
                    tar.extract("store/hocvu.db", work, filter="data")
                    _snapshot_revision(Path(work) / "store/hocvu.db")
    except (tarfile.TarError, EOFError, OSError, UnicodeDecodeError) as exc:
        raise BadBackupError(Message("{path} cannot be read as a backup ({problem})", path=path, problem=exc)) from exc
    return BackupInfo(path, str(manifest.get("store")), str(manifest.get("revision", "")), len(listed),
                      path.stat().st_size)


def _store_holds_data(settings: Settings) -> bool:
    from sqlalchemy import inspect, text
    from sqlalchemy.exc import SQLAlchemyError

    from generator.review.db import database_url, make_engine
    from generator.review.health import sqlite_path

    url = database_url(settings)
    path = sqlite_path(url)
    if path is not None and (not path.exists() or path.stat().st_size == 0):
        return False
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
            return any(conn.execute(text(f"select 1 from {t} limit 1")).first()  # noqa: S608 - our table names
                       for t in ("users", "lessons", "releases") if t in tables)
    except SQLAlchemyError:
        return True  # a damaged store: it may hold data; only --force replaces it
    finally:
        engine.dispose()


def restore_backup(settings: Settings, archive: Path, *, force: bool = False) -> tuple[BackupInfo, list[str]]:
    """Put a checked backup back: the store and the workspace's data files. Refused (DataError) when the
    store already holds data or a file would be overwritten, unless ``force``; then the old store is set
    aside (``hocvu.db.before-restore-<time>``). Returns the backup and what was set aside."""
    from generator.review.db import database_url
    from generator.review.health import sqlite_path

    archive = archive.expanduser().resolve()
    if not archive.is_file():
        raise DataError("no backup at {archive}; give the path of a file written by `hocvu backup`", archive=archive)
    info = verify_backup(archive)
    ws = settings.workspace
    with tarfile.open(archive, "r:gz") as tar:
        files = [m for m in tar.getmembers() if m.name.startswith("workspace/")]
        clashes = [m.name[len("workspace/"):] for m in files if (ws / m.name[len("workspace/"):]).exists()]
        if not force and _store_holds_data(settings):
            raise DataError("the workspace's review store already holds data; restoring would replace it: "
                            "add --force (the current store is kept beside it, renamed)")
        if not force and clashes:
            raise DataError("restoring would overwrite {n} file(s) of the workspace, e.g. {example}; "
                            "add --force to overwrite them", n=len(clashes), example=clashes[0])
        kept: list[str] = []
        url = database_url(settings)
        path = sqlite_path(url)
        with tempfile.TemporaryDirectory(prefix=".hocvu-restore-", dir=ws) as work:
            tar.extractall(work, members=[*files, *[m for m in tar.getmembers() if m.name.startswith("store/")]],
                           filter="data")
            if info.store == "sqlite":
                if path is None:
                    raise DataError("this backup holds a SQLite store but HOCVU_DATABASE_URL names another "
                                    "database; unset it to restore into the workspace")
                path.parent.mkdir(parents=True, exist_ok=True)
                staged = path.with_name(f".{path.name}.restoring")
                shutil.copyfile(Path(work) / "store/hocvu.db", staged)
                if path.exists():
                    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
                    for suffix in ("", "-wal", "-shm"):
                        side = path.with_name(path.name + suffix)
                        if side.exists():
                            aside = path.with_name(f"{path.name}.before-restore-{stamp}{suffix}")
                            os.rename(side, aside)
                            kept.append(str(aside))
                os.replace(staged, path)
            else:
                if path is not None:
                    raise DataError("this backup holds a PostgreSQL dump; set HOCVU_DATABASE_URL to the database "
                                    "to restore it into")
                _pg(["psql", "--quiet", "--set", "ON_ERROR_STOP=1", "--file", str(Path(work) / "store/hocvu.sql"),
                     _libpq(url)])
            for m in files:
                rel = m.name[len("workspace/"):]
                target = ws / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(Path(work) / m.name, target)
    return info, kept


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {k: _plain(v) for k, v in asdict(value).items()}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    return value


def export_lessons(store: ReviewStore, lesson_ids: list[str] | None = None) -> dict[str, Any]:
    """Every lesson (or those named) with its versions (the lesson itself, checks, artifacts with
    checksums, status) and its whole review history, and the releases: plain JSON for other systems."""
    from generator import __version__

    states = store.list_lessons()
    if lesson_ids is not None:
        wanted = set(lesson_ids)
        states = [s for s in states if s.id in wanted]
    lessons = []
    for state in states:
        versions = []
        for v in store.versions(state.id):
            entry = _plain(v)
            entry["lesson"] = json.loads(entry.pop("lesson_json"))
            versions.append(entry)
        lessons.append({**_plain(state), "versions": versions, "history": _plain(store.history(state.id))})
    return {"format": FORMAT, "hocvu_version": __version__, "exported_at": datetime.now(UTC).isoformat(),
            "lessons": lessons, "releases": _plain(store.list_releases())}
