"""Health of the review store: is it whole, at the newest migration, do its rows parse, and does it
know the work that ``outputs/`` holds?

Two uses. ``guard_open`` runs every time a command opens the store (``ReviewStore.open``): an empty,
missing or damaged store is never silently taken for a new one while ``outputs/`` holds versions or
releases — the command stops with one line that points to ``hocvu restore`` and ``hocvu doctor``.
``inspect_store`` is the longer look ``hocvu doctor`` takes (``PRAGMA integrity_check``, the Alembic
revision, every row that must parse); ``generator.repair`` mends what it finds.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator.errors import HocvuError, ReviewError
from generator.i18n import N_, Message

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from generator.config import Settings

RESTORE_HINT = N_("restore it with `hocvu restore BACKUP`, or run `hocvu doctor` to see what `--repair` can do")


class StoreDamagedError(ReviewError):
    """The review store is missing, empty or damaged while ``outputs/`` holds work it should know."""


@dataclass(frozen=True)
class StoreProblem:
    """One thing wrong with the store: a short kind (``empty``, ``damaged``, ``migration``, ``row``), what
    is wrong, and what fixes it."""

    kind: str
    detail: str
    fix: str


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL (None for other databases and in-memory ones)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database).expanduser()


def outputs_data(outputs: Path) -> tuple[int, int]:
    """How many version folders and release folders ``outputs/`` holds."""
    versions = releases = 0
    drafts = outputs / "drafts"
    if drafts.is_dir():
        for lesson in drafts.iterdir():
            if lesson.is_dir() and not lesson.name.startswith("."):
                versions += sum(1 for v in lesson.glob("v*") if v.is_dir() and v.name[1:].isdigit())
    published = outputs / "published"
    if published.is_dir():
        releases = sum(1 for r in published.iterdir() if (r / "manifest.json").is_file() and r.name[:1] != ".")
    return versions, releases


def describe_outputs(outputs: Path) -> str:
    """'outputs/ holds 12 version folders and 1 release' (empty string when it holds nothing)."""
    versions, releases = outputs_data(outputs)
    if not versions and not releases:
        return ""
    return f"{outputs} holds {versions} version folder(s) and {releases} release(s)"


def sqlite_state(path: Path) -> tuple[str, str]:
    """('missing' | 'empty' | 'damaged' | 'unmigrated' | 'ok', detail) for a SQLite store file, read
    without changing it (only the header, the schema and the Alembic revision; no integrity scan)."""
    if not path.exists():
        return "missing", f"{path} does not exist"
    try:
        con = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=30)
    except sqlite3.Error as exc:
        return _unreadable(path, exc)
    try:
        tables = {r[0] for r in con.execute("select name from sqlite_master where type='table'")}
        if not tables:
            return "empty", f"{path} holds no tables"
        if "alembic_version" not in tables:
            return "unmigrated", f"{path} has tables but no migration record (alembic_version)"
        rev = con.execute("select version_num from alembic_version").fetchone()
        return "ok", f"migration {rev[0] if rev else '(none)'}"
    except sqlite3.Error as exc:
        return _unreadable(path, exc)
    finally:
        con.close()


def _unreadable(path: Path, exc: sqlite3.Error) -> tuple[str, str]:
    """'damaged' only when SQLite says the file is not a database or is malformed; anything else (a full
    disk, no permission, a lock) is not the store's fault and is raised as it is."""
    from generator.fsutil import is_no_space, no_space

    text = str(exc)
    if "malformed" in text or "not a database" in text:
        return "damaged", f"{path} is damaged ({text})"
    if is_no_space(exc) or ("disk I/O error" in text and shutil.disk_usage(path.parent).free < (1 << 20)):
        raise no_space(path, N_("the review store")) from exc
    raise ReviewError("cannot open the review store {path}: {problem}; check the folder's permissions and space",
                      path=path, problem=text)


def guard_open(settings: Settings, engine: Engine) -> None:
    """Refuse to open (and so to create) a store that is missing, empty or damaged while ``outputs/``
    holds versions or releases; refuse a store whose tables lack their migration record. One line each."""
    try:
        _guard(settings, engine)
    except HocvuError:
        engine.dispose()
        raise


def _guard(settings: Settings, engine: Engine) -> None:
    path = sqlite_path(str(engine.url))
    if path is not None:
        state, detail = sqlite_state(path)
    else:
        state, detail = _server_state(engine)
    if state == "ok":
        return
    if state == "damaged":
        raise StoreDamagedError(Message("the review store {detail}; {hint}", detail=detail, hint=Message(RESTORE_HINT)))
    if state == "unmigrated":
        raise StoreDamagedError(Message("the review store {detail}; run `hocvu doctor --repair` to record the "
                                        "migration its tables match, or restore it with `hocvu restore BACKUP`",
                                        detail=detail))
    held = describe_outputs(settings.outputs_dir)
    if held:
        raise StoreDamagedError(Message("the review store is {state} ({detail}) but {held}; {hint}", state=state,
                                        detail=detail, held=held, hint=Message(RESTORE_HINT)))


def _server_state(engine: Engine) -> tuple[str, str]:
    from sqlalchemy import inspect
    from sqlalchemy.exc import SQLAlchemyError

    try:
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
    except SQLAlchemyError as exc:
        where = engine.url.render_as_string(hide_password=True)
        first = str(getattr(exc, "orig", None) or exc).strip().splitlines()[:1] or [exc.__class__.__name__]
        raise ReviewError("cannot reach the database {where} ({problem}); check HOCVU_DATABASE_URL and that "
                          "the server runs", where=where, problem=first[0]) from exc
    if not tables:
        return "empty", "the database holds no tables"
    if "alembic_version" not in tables:
        return "unmigrated", "has tables but no migration record (alembic_version)"
    return "ok", ""


def store_error(exc: BaseException) -> HocvuError:
    """A one-line ReviewError for a failure while reading or writing the store: a damaged file, a row that
    does not parse (invalid JSON, an unknown status), or another database error."""
    from generator.fsutil import is_no_space, no_space

    orig = getattr(exc, "orig", None) or exc
    text = str(orig).splitlines()[0] if str(orig) else orig.__class__.__name__
    if is_no_space(exc):
        return no_space(None, N_("the review store"))
    if "malformed" in text or "not a database" in text:
        return StoreDamagedError(Message("the review store is damaged ({problem}); {hint}", problem=text,
                                         hint=Message(RESTORE_HINT)))
    if isinstance(exc, (ValueError, KeyError, TypeError)):
        return ReviewError("a row of the review store does not parse ({kind}: {problem}); "
                           "run `hocvu doctor` to find it and `hocvu doctor --repair` to fix it",
                           kind=exc.__class__.__name__, problem=text[:120])
    return ReviewError("the review store failed: {problem}", problem=text)


# -- the longer look (hocvu doctor) ----------------------------------------------------------------
def integrity(path: Path) -> list[str]:
    """``PRAGMA integrity_check`` of a SQLite file: [] when whole, else its first complaints."""
    try:
        con = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=30)
        try:
            rows = [r[0] for r in con.execute("PRAGMA integrity_check(20)")]
        finally:
            con.close()
    except sqlite3.Error as exc:
        return [str(exc)]
    return [] if rows == ["ok"] else rows


def bad_rows(engine: Engine) -> list[tuple[str, Any, str]]:
    """Rows that do not parse: (table, key, why) for versions whose lesson, checks or artifacts are not
    valid, lessons with an unknown status and releases whose filters are not JSON."""
    from pydantic import ValidationError
    from sqlalchemy import text

    from generator.drafting.checks import CheckResult
    from generator.lesson import Lesson
    from generator.review.workflow import Status

    out: list[tuple[str, Any, str]] = []
    statuses = {s.value for s in Status}
    with engine.connect() as conn:
        for lid, status in conn.execute(text("select id, status from lessons")):
            if status not in statuses:
                out.append(("lessons", lid, f"unknown status {status!r}"))
        q = text("select lesson_id, number, lesson_json, checks_json, artifacts_json from versions")
        for lid, number, lesson_json, checks_json, artifacts_json in conn.execute(q):
            key = (lid, number)
            try:
                Lesson.model_validate_json(lesson_json)
            except (ValidationError, ValueError, TypeError) as exc:
                out.append(("versions", key, f"lesson_json: {str(exc).splitlines()[0][:100]}"))
            try:
                [CheckResult(**c) for c in json.loads(checks_json)]
            except (ValueError, TypeError) as exc:
                out.append(("versions", key, f"checks_json: {str(exc).splitlines()[0][:100]}"))
            try:
                arts = json.loads(artifacts_json)
                assert isinstance(arts, dict)
                for a in arts.values():
                    str(a["path"]), str(a["sha256"]), int(a["size"])
            except (ValueError, TypeError, KeyError, AssertionError) as exc:
                out.append(("versions", key, f"artifacts_json: {str(exc).splitlines()[0][:100] or 'not a mapping'}"))
        for name, filters in conn.execute(text("select name, filters_json from releases")):
            try:
                json.loads(filters)
            except (ValueError, TypeError) as exc:
                out.append(("releases", name, f"filters_json: {exc}"))
    return out


def inspect_store(settings: Settings, url: str) -> list[StoreProblem]:
    """Everything wrong with the store at ``url``: missing/empty while outputs/ holds work, damaged file,
    failed integrity check, migration not at the head, rows that do not parse."""
    from sqlalchemy.exc import SQLAlchemyError

    from generator.review.db import HEAD, make_engine

    problems: list[StoreProblem] = []
    path = sqlite_path(url)
    held = describe_outputs(settings.outputs_dir)
    if path is not None:
        state, detail = sqlite_state(path)
        if state in ("missing", "empty"):
            if held:
                problems.append(StoreProblem(state, f"the store is {state} but {held}",
                                             "`hocvu restore BACKUP`, or `hocvu doctor --repair` to rebuild it "
                                             "from outputs/ (versions and releases come back; users and "
                                             "review history do not)"))
            return problems
        if state == "damaged":
            return [StoreProblem("damaged", detail, "`hocvu restore BACKUP`, or `hocvu doctor --repair` to set "
                                 "it aside and salvage what can be read")]
        broken = integrity(path)
        if broken:
            return [StoreProblem("damaged", f"integrity check failed: {'; '.join(broken[:3])}",
                                 "`hocvu restore BACKUP`, or `hocvu doctor --repair` to salvage what can be read")]
        if state == "unmigrated":
            problems.append(StoreProblem("migration", detail, "`hocvu doctor --repair` records the migration "
                                         "the tables match"))
            return problems
    engine = make_engine(url)
    try:
        from generator.review.db import current_revision

        with engine.connect() as conn:
            rev = current_revision(conn)
        if rev != HEAD:
            problems.append(StoreProblem("behind", f"the store is at migration {rev!r}, this hocvu at {HEAD!r}",
                                         "`hocvu doctor --repair` (or any command) upgrades it"))
            return problems
        for table, key, why in bad_rows(engine):
            problems.append(StoreProblem("row", f"{table} {key}: {why}",
                                         "`hocvu doctor --repair` rebuilds it from its folder, or restore"))
    except SQLAlchemyError as exc:
        problems.append(StoreProblem("damaged", str(store_error(exc)), "`hocvu restore BACKUP`"))
    finally:
        engine.dispose()
    return problems
