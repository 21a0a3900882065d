"""A read-only path to the default SQLite store for the commands that only look: ``review list`` and
``history``.

Importing SQLAlchemy and mapping the store's tables costs more than all the rest of such a command, so
these two reads are also written here with the standard library's ``sqlite3``: the same tables, the same
filters and sort orders as ``ListsPart`` and ``DecisionsPart.history``, the same records back. The SQL
is all in this module, and ``tests/test_store_fastread.py`` compares its answers with the store's on one
workspace across every filter, so the two cannot drift apart unnoticed.

It answers only when it can answer exactly as the store would, and says ``None`` otherwise — the caller
then opens the full ``ReviewStore``:

- another database than the default SQLite file (PostgreSQL, a configured URL), or no file yet;
- a schema at another migration than ``SCHEMA_HEAD`` (the store migrates on open; this never writes);
- a lesson whose outdated flag was computed against other sources than today's (the store rechecks it,
  which is a write);
- an unknown lesson (the store's error suggests near ids), or any SQLite error (the store explains it).

Every write — drafts, decisions, migrations, outdated flags — stays with the store.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Self

from generator.errors import NotFoundError
from generator.review import workflow as wf
from generator.review.records import Event, LessonPage, LessonState
from generator.review.store.filters import LessonFilter
from generator.textfold import fold

if TYPE_CHECKING:
    from generator.config import Settings
    from generator.config_light import LightSettings
    from generator.frameworks import Library

#: The migration this module's SQL is written for (``db.HEAD``; a test keeps the two equal).
SCHEMA_HEAD = "0006"
#: As ``lists.SORTS``: name → ORDER BY (the id breaks ties).
SORTS = {
    "id": "id",
    "updated": "updated_at DESC, id",
    "title": "title, id",
    "status": "status, id",
}
#: As ``lists._SHOWN``: the columns a list shows.
_SHOWN = ("id, framework, competence, level, target_group, language, title, status, current_version, "
          "row_version, created_at, updated_at, author, checks_passed, outdated_reasons")
_EVENT = ("id, lesson_id, version, action, actor, created_at, from_status, to_status, comment, section, "
          "content_hash, ref_event_id")


def _when(value: Any) -> datetime | None:
    """A stored time as the store's ``UTCDateTime`` returns it: aware, UTC."""
    if value is None:
        return None
    dt = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


class FastReader:
    """Read-only answers from the default SQLite store, or ``None`` where the store must answer."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    @classmethod
    def open(cls, settings: Settings | LightSettings) -> Self | None:
        """A reader on the workspace's SQLite store, or None when the full store must be opened (the settings
        as ``Settings`` or ``config_light`` read them: only the database URL and the workspace are used)."""
        if settings.database_url:  # PostgreSQL or a chosen URL: the store's engine, always
            return None
        path = settings.state_dir / "hocvu.db"
        if not path.is_file():
            return None
        conn: sqlite3.Connection | None = None
        try:  # mode=rw: never creates a file; the store decides what an empty or damaged one means
            conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=rw", uri=True, timeout=30,
                                   isolation_level=None, check_same_thread=False)
            head = conn.execute("select version_num from alembic_version").fetchall()
        except sqlite3.Error:
            if conn is not None:
                conn.close()
            return None
        if head != [(SCHEMA_HEAD,)]:
            conn.close()
            return None
        return cls(conn)

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _read(self, fn: Any) -> Any:
        """``fn(cursor)`` inside one read transaction (a count and its page see the same store)."""
        try:
            cur = self._conn.cursor()
            cur.execute("BEGIN")
            try:
                return fn(cur)
            finally:
                cur.execute("COMMIT")
        except sqlite3.Error:
            return None  # the store will say what is wrong

    def lesson_page(self, where: LessonFilter | None = None, library: Library | None = None, *,
                    sort: str = "id", limit: int = 50, offset: int = 0, **fields: Any) -> LessonPage | None:
        """As ``ReviewStore.lesson_page`` (the same ``LessonFilter``, or its fields as keywords); None when a
        lesson's outdated flag must be rechecked first (or ``outdated_only`` without a library: the store's
        error)."""
        flt = LessonFilter.given(where, fields)
        if sort not in SORTS:
            raise NotFoundError.unknown("sort order", sort, list(SORTS))
        if flt.outdated_only and library is None:
            return None
        where_sql, params = _where(flt)

        def read(cur: sqlite3.Cursor) -> LessonPage | None:
            if library is not None and self._stale(cur, library):
                return None
            total = cur.execute(f"select count(*) from lessons{where_sql}", params).fetchone()[0]
            if not total:
                return LessonPage([], 0, limit, offset)
            rows = cur.execute(f"select {_SHOWN} from lessons{where_sql} order by {SORTS[sort]} limit ? offset ?",
                               [*params, max(0, limit), max(0, offset)]).fetchall()
            approvals = _approvals(cur, [r[0] for r in rows if r[7] in wf.PUBLISHABLE])
            return LessonPage([_state(r, approvals, with_outdated=library is not None) for r in rows],
                              total, limit, offset)

        page: LessonPage | None = self._read(read)
        return page

    def history(self, lesson_id: str) -> list[Event] | None:
        """As ``ReviewStore.history``; None for an unknown lesson (the store's error names near ids)."""
        def read(cur: sqlite3.Cursor) -> list[Event] | None:
            if cur.execute("select 1 from lessons where id = ?", (lesson_id,)).fetchone() is None:
                return None
            rows = cur.execute(f"select {_EVENT} from events where lesson_id = ? order by id", (lesson_id,))
            return [Event(r[0], r[1], r[2], r[3], r[4], _when(r[5]), *r[6:]) for r in rows]  # type: ignore[arg-type]

        events: list[Event] | None = self._read(read)
        return events

    @staticmethod
    def _stale(cur: sqlite3.Cursor, library: Library) -> bool:
        """True when some lesson's outdated flag was computed against other sources than today's."""
        from generator.review.outdated import sources_stamp

        frameworks = [r[0] for r in cur.execute("select distinct framework from lessons")]
        stamp = sources_stamp(library, frameworks)
        return cur.execute("select 1 from lessons where outdated_stamp < ? or outdated_stamp > ? limit 1",
                           (stamp, stamp)).fetchone() is not None


def _where(flt: LessonFilter) -> tuple[str, list[Any]]:
    """As ``LessonFilter.apply``: the WHERE clause and its parameters."""
    parts: list[str] = []
    params: list[Any] = []
    if flt.status:
        parts.append(f"status in ({', '.join('?' * len(flt.status))})")
        params += flt.status
    for col, val in (("target_group", flt.group), ("framework", flt.framework), ("competence", flt.competence),
                     ("level", flt.level), ("language", flt.language)):
        if val is not None:
            parts.append(f"{col} = ?")
            params.append(val)
    if flt.search:  # without case or diacritics, as the store's search key is kept
        needle = fold(flt.search.strip()).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        parts.append("search_key like ? escape '\\'")
        params.append(f"%{needle}%")
    if flt.outdated_only:
        parts.append("outdated is 1")
    if flt.failed_checks:
        parts.append("checks_passed is 0")
    if flt.not_author is not None:
        parts.append("author != ?")
        params.append(flt.not_author)
    return (" where " + " and ".join(parts) if parts else ""), params


def _approvals(cur: sqlite3.Cursor, lesson_ids: list[str]) -> dict[tuple[str, int], tuple[str, Any]]:
    """As ``StoreCore._approvals``: (lesson, version) → (who approved, when), the latest approval."""
    out: dict[tuple[str, int], tuple[str, Any]] = {}
    for chunk in range(0, len(lesson_ids), 500):
        ids = lesson_ids[chunk : chunk + 500]
        q = (f"select lesson_id, version, actor, created_at from events where action = ? "
             f"and lesson_id in ({', '.join('?' * len(ids))}) order by id")
        for lid, version, who, at in cur.execute(q, [wf.Action.APPROVE.value, *ids]):
            out[(lid, version)] = (who, _when(at))
    return out


def _state(r: Any, approvals: dict[tuple[str, int], tuple[str, Any]], *, with_outdated: bool) -> LessonState:
    """As ``StoreCore._state`` over the shown columns."""
    approval = approvals.get((r[0], r[8])) if r[7] in wf.PUBLISHABLE else None
    return LessonState(
        id=r[0], framework=r[1], competence=r[2], level=r[3], group=r[4], language=r[5], title=r[6],
        status=r[7], current_version=r[8], row_version=r[9], created_at=_when(r[10]),  # type: ignore[arg-type]
        updated_at=_when(r[11]),  # type: ignore[arg-type]
        approved_by=approval[0] if approval else None, approved_at=approval[1] if approval else None,
        outdated=json.loads(r[14] or "[]") if with_outdated else [],
        author=r[12], checks_passed=bool(r[13]),
    )
