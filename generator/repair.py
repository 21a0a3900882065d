"""Make the workspace whole again after crashes and damage: ``hocvu doctor --repair`` (and ``hocvu repair``).

The store is the truth for numbers (versions, releases); folders follow it. ``check_workspace`` compares
``outputs/`` with the store: a version or release folder renamed into place but never recorded (adopted
when whole and still valid, otherwise set aside under a hidden ``.unrecorded/`` folder, never deleted), a
recorded version whose folder is gone (reported), staging folders of processes that died (removed).

``repair_store`` first mends the store itself (``generator.review.health`` finds the problems): a missing
or empty store while ``outputs/`` holds work is made anew and refilled from the folders; a damaged file
is set aside (``hocvu.db.damaged-<time>``, never deleted) and every row that can still be read is copied
into a new store; tables without their migration record get it when they match the schema; rows that do
not parse are rebuilt from their version folder (when its checksums hold) or from the review history.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from generator.config import Settings
    from generator.review.store import ReviewStore


@dataclass
class Finding:
    """One problem and, when repairing, what was done about it (empty: nothing could be done)."""

    path: Path | str
    problem: str
    action: str = ""


def check_workspace(settings: Settings, store: ReviewStore, by: str, *, fix: bool = False,
                    keep_releases: bool = False) -> list[Finding]:
    """Every disagreement between ``outputs/`` and the store; with ``fix``, adopt, set aside or remove
    (``keep_releases``: a release that cannot be adopted stays in place, as after a store is rebuilt)."""
    from generator.publish.release import repair_releases
    from generator.review.versioning import repair_versions

    found = [Finding(r.path, r.problem, r.action) for r in repair_versions(settings.outputs_dir, store, by, fix=fix)]
    found += [Finding(r.path, r.problem, r.action) for r in repair_releases(settings, store, by, fix=fix,
                                                                        keep=keep_releases)]
    return found


def check_store(settings: Settings, *, fix: bool = False) -> list[Finding]:
    """Problems of the store itself (see ``generator.review.health``); with ``fix``, mend each."""
    from generator.review.db import database_url
    from generator.review.health import inspect_store

    url = database_url(settings)
    problems = inspect_store(settings, url)
    found = [Finding(_shown(url), p.detail) for p in problems]
    if not fix or not problems:
        return found
    kinds = {p.kind for p in problems}
    if kinds & {"missing", "empty"}:
        _new_store(url)
        found[0].action = "made a new store; the folders of outputs/ are adopted below"
    elif "damaged" in kinds:
        found[0].action = _salvage(url)
    elif "migration" in kinds:
        found[0].action = _record_migration(url)
    elif "behind" in kinds:
        from generator.review.db import migrate

        engine = _engine(url)
        try:
            found[0].action = f"upgraded to migration {migrate(engine)}"
        finally:
            engine.dispose()
    else:
        from generator.review.health import bad_rows

        engine = _engine(url)
        try:
            for f, (table, key, why) in zip(found, bad_rows(engine), strict=False):
                f.action = _fix_row(engine, settings, table, key, why)
        finally:
            engine.dispose()
    return found


def _shown(url: str) -> str:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return parsed.database or ""
    return parsed.render_as_string(hide_password=True)


def _engine(url: str) -> Engine:
    from generator.review.db import make_engine

    return make_engine(url)


def _new_store(url: str) -> None:
    from generator.review.db import migrate
    from generator.review.health import sqlite_path

    path = sqlite_path(url)
    if path is not None and path.exists() and path.stat().st_size == 0:
        path.unlink()
    engine = _engine(url)
    try:
        migrate(engine)
    finally:
        engine.dispose()


def _set_aside_store(path: Path) -> Path:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    target = path.with_name(f"{path.name}.damaged-{stamp}")
    os.rename(path, target)
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            os.rename(side, target.with_name(target.name + suffix))
    return target


#: Tables copied from a damaged store, parents first (sessions and sign-in failures are not worth saving).
SALVAGED = ("users", "lessons", "versions", "events", "releases", "release_items", "content_verifications")


def _salvage(url: str) -> str:
    """Set the damaged file aside and copy every row that can still be read into a new store."""
    from generator.review.health import sqlite_path

    path = sqlite_path(url)
    if path is None:
        return ""  # a server database is restored from its own dump (hocvu restore)
    old = _set_aside_store(path)
    _new_store(url)
    copied = lost = 0
    new = sqlite3.connect(path)
    try:
        src = sqlite3.connect(f"file:{old}?mode=ro", uri=True)
    except sqlite3.Error:
        return f"set aside to {old}; nothing could be read from it; made a new store"
    try:
        new.execute("PRAGMA foreign_keys=OFF")
        for table in SALVAGED:
            cols = [r[1] for r in new.execute(f"PRAGMA table_info({table})")]
            try:
                have = {r[1] for r in src.execute(f"PRAGMA table_info({table})")}
                cur = src.execute(f"select {', '.join(c for c in cols if c in have)} from {table}")
            except sqlite3.Error:
                continue
            names = [c for c in cols if c in have]
            while True:
                try:
                    row = cur.fetchone()
                except sqlite3.Error:
                    lost += 1
                    break
                if row is None:
                    break
                try:
                    new.execute(f"insert into {table} ({', '.join(names)}) values ({', '.join('?' * len(row))})",
                                row)
                    copied += 1
                except sqlite3.Error:
                    lost += 1
        new.commit()
    finally:
        src.close()
        new.close()
    tail = f"; {lost} unreadable part(s) lost" if lost else ""
    return f"set aside to {old}; {copied} row(s) copied into a new store{tail}"


def _record_migration(url: str) -> str:
    """Stamp the head revision on tables that hold every table and column the schema has."""
    from alembic import command
    from sqlalchemy import inspect

    from generator.review.db import HEAD, _alembic_config, migrate
    from generator.review.models import Base

    engine = _engine(url)
    try:
        with engine.begin() as conn:
            insp = inspect(conn)
            missing = [f"{t.name}.{c.name}" for t in Base.metadata.sorted_tables
                       if insp.has_table(t.name) for c in t.columns
                       if c.name not in {col["name"] for col in insp.get_columns(t.name)}]
            absent = [t.name for t in Base.metadata.sorted_tables if not insp.has_table(t.name)]
            if missing:
                return f"not changed: the tables lack {', '.join(missing[:4])}; restore a backup"
            if absent:  # an older schema: record the first migration and let the upgrade add the rest
                command.stamp(_alembic_config(conn), "0001")
            else:
                command.stamp(_alembic_config(conn), HEAD)
        migrate(engine)
        return f"recorded migration {HEAD}"
    finally:
        engine.dispose()


def _fix_row(engine: Engine, settings: Settings, table: str, key: Any, why: str) -> str:
    """Rebuild one row that does not parse; '' when it cannot be rebuilt."""
    from sqlalchemy import text

    from generator.review.db import WRITE

    with engine.execution_options(**WRITE).begin() as conn:
        if table == "lessons":
            current = conn.execute(text("select current_version from lessons where id=:i"), {"i": key}).scalar()
            status = conn.execute(text("select to_status from events where lesson_id=:i and version=:v and "
                                       "to_status is not null order by id desc limit 1"),
                                  {"i": key, "v": current}).scalar() or "draft"
            conn.execute(text("update lessons set status=:s, row_version=row_version+1 where id=:i"),
                         {"s": status, "i": key})
            return f"status set to {status!r} from the review history"
        if table == "releases":
            conn.execute(text("update releases set filters_json='{}' where name=:n"), {"n": key})
            return "filters reset to {}"
        lesson_id, number = key
        folder_text = conn.execute(text("select folder, content_hash from versions where lesson_id=:i and "
                                        "number=:n"), {"i": lesson_id, "n": number}).one()
        return _fix_version(conn, settings, lesson_id, number, folder_text[0], folder_text[1], why)


def _fix_version(conn: Any, settings: Settings, lesson_id: str, number: int, folder: str | None,
                 content_hash: str, why: str) -> str:
    from sqlalchemy import text

    from generator.fsutil import sha256_file
    from generator.lesson import Lesson
    from generator.review.records import lesson_content_hash
    from generator.review.versioning import collect_artifacts, folder_whole

    if not folder:
        return ""
    path = Path(folder) if Path(folder).is_absolute() else settings.workspace / folder
    if not folder_whole(path):
        return ""  # the files changed or are gone: nothing trustworthy to rebuild from
    field = why.split(":")[0]
    if field == "lesson_json":
        lesson = Lesson.model_validate_json((path / "lesson.json").read_text(encoding="utf-8"))
        if lesson_content_hash(lesson) != content_hash:
            return ""
        value = lesson.model_dump_json()
    elif field == "checks_json":
        checks = path / "checks.json"
        value = checks.read_text(encoding="utf-8") if checks.exists() else "[]"
    else:
        ws = settings.workspace.resolve()
        value = json.dumps({n: {"path": (p.resolve().relative_to(ws).as_posix()
                                         if p.resolve().is_relative_to(ws) else str(p.resolve())),
                                "sha256": sha256_file(p), "size": p.stat().st_size}
                            for n, p in collect_artifacts(path).items()})
    conn.execute(text(f"update versions set {field}=:v where lesson_id=:i and number=:n"),
                 {"v": value, "i": lesson_id, "n": number})
    return f"{field} rebuilt from {path}"


def doctor_workspace(settings: Settings, by: str, *, fix: bool = False) -> list[Finding]:
    """The store's own problems, then every disagreement between it and ``outputs/`` (with ``fix``, each
    mended); the one path of ``hocvu doctor [--repair]`` and ``hocvu repair``."""
    from generator.review.db import database_url
    from generator.review.health import describe_outputs, inspect_store, sqlite_path
    from generator.review.store import ReviewStore

    found = check_store(settings, fix=fix)
    if found and not fix:
        return found  # the folders are compared once the store itself is whole
    url = database_url(settings)
    path = sqlite_path(url)
    if path is not None and not path.exists() and not describe_outputs(settings.outputs_dir):
        return found  # a workspace nothing has been made in yet
    if fix and inspect_store(settings, url):
        return found  # the store could not be mended; the folders wait for a restored one
    rebuilt = any(f.action.startswith(("made a new store", "set aside")) for f in found)
    with ReviewStore.open(settings) as store:
        found += check_workspace(settings, store, by, fix=fix, keep_releases=rebuilt)
    return found
