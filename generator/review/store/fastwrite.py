"""``hocvu review approve`` on the default SQLite store with the standard library's ``sqlite3``.

Importing SQLAlchemy and mapping the store's tables is ~0.4 s of CPU, several times the rest of an
approval. This module makes the same approval as ``DecisionsPart.approve`` for the plain case — the
current version, approved by a registered reviewer who passes the same workflow checks (permission,
status, four-eyes), no open comments, the stored text matching its content hash — in one ``BEGIN
IMMEDIATE`` transaction as the store's writes are: the same approval event, the same lesson row
(status, ``updated_at``, ``row_version`` bumped only where it still has the value read, as SQLAlchemy's
optimistic counter does).

Anything else makes it say ``None`` before it writes anything (the transaction is rolled back), and the
caller hands the approval to the full ``ReviewStore``, which then approves or gives its usual error: an
unknown lesson or user, a disabled user, a role that may not approve, a status that cannot be approved, a
four-eyes conflict, open comments (with or without ``--resolve-open``), a hash that needs the lesson
models to recheck, a version number that is not the current one, a row changed meanwhile, any SQLite error.
``tests/test_store_fastwrite.py`` compares both tables after the same approval made both ways.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from generator.errors import HocvuError
from generator.review import workflow as wf
from generator.review.records import LessonState, stored_content_hash
from generator.review.store.fastread import _SHOWN, FastReader, _approvals, _state

if TYPE_CHECKING:
    from generator.config import Settings
    from generator.config_light import LightSettings

#: As ``core.COMMENT_ACTIONS`` (a test keeps the two equal).
COMMENT_ACTIONS = ("request_changes", "reject", "comment")


class _AsideError(Exception):
    """The store must decide: roll back and say None."""


def _stored_time(dt: datetime) -> str:
    """A time as SQLAlchemy's SQLite ``DateTime`` stores the store's ``UTCDateTime`` (UTC, no zone)."""
    return dt.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


class FastApprover(FastReader):
    """The plain approval on the default SQLite store, or None where the store must approve."""

    four_eyes: bool = True
    #: True once an approval is committed (the caller must then never approve again through the store).
    approved: bool = False

    @classmethod
    def for_settings(cls, settings: Settings | LightSettings) -> FastApprover | None:
        """An approver on the workspace's SQLite store (as ``FastReader.open``), or None."""
        fast = cls.open(settings)
        if fast is not None:
            fast.four_eyes = bool(settings.four_eyes)
            fast._conn.execute("PRAGMA foreign_keys=ON")  # as the store's connections
            fast._conn.execute("PRAGMA synchronous=NORMAL")
        return fast

    def approve(self, lesson_id: str, user: str, comment: str | None = None, *, version: int | None = None,
                now: Callable[[], datetime] | None = None) -> LessonState | None:
        """As ``ReviewStore.approve(lesson_id, user, comment, version=version)`` for a registered ``user``
        when nothing stands in the way; None (nothing written) otherwise — or None with ``approved`` set
        when the approval was committed but its state could not be read back (ask the store for it)."""
        cur = self._conn.cursor()
        try:
            cur.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc).lower():  # waited the store's whole timeout already: say so, as the store would
                from generator.errors import ConflictError

                raise ConflictError("the review store is busy (locked by another writer); try again") from exc
            return None
        except sqlite3.Error:
            return None
        try:
            self._approve(cur, lesson_id, user, comment, version, (now or (lambda: datetime.now(UTC)))())
            cur.execute("COMMIT")
            self.approved = True
        except (_AsideError, HocvuError, sqlite3.Error, ValueError, KeyError, TypeError):
            try:
                cur.execute("ROLLBACK")
            except sqlite3.Error:
                pass
            return None
        return self._state_of(lesson_id)

    def _approve(self, cur: sqlite3.Cursor, lesson_id: str, user: str, comment: str | None, version: int | None,
                 now: datetime) -> None:
        lesson = cur.execute("select status, current_version, row_version from lessons where id = ?",
                             (lesson_id,)).fetchone()
        if lesson is None:
            raise _AsideError("unknown lesson")
        status, current, row_version = lesson
        if version is not None and version != current:
            raise _AsideError("not the current version")
        account = cur.execute("select role, disabled from users where name = ?", (user,)).fetchone()
        if account is None or account[1]:
            raise _AsideError("unknown or disabled user")
        wf.check_permission(user, account[0], wf.Action.APPROVE)
        versions = {n: (author, parent, digest, text) for n, author, parent, digest, text in cur.execute(
            "select number, author, parent_version, content_hash, lesson_json from versions where lesson_id = ?",
            (lesson_id,))}
        if current not in versions:
            raise _AsideError("no current version")
        new = wf.next_status(status, wf.Action.APPROVE, lesson_id=lesson_id, version=current)
        events = cur.execute("select id, version, action, comment, ref_event_id from events where lesson_id = ? "
                             "order by id", (lesson_id,)).fetchall()
        approved = {e[1] for e in events if e[2] == wf.Action.APPROVE.value}
        since: dict[int, str] = {}
        n: int | None = current
        while n is not None and n not in approved and n not in since:  # as DecisionsPart._since_approval
            if n not in versions:
                raise _AsideError("a parent version is missing")
            since[n] = versions[n][0]
            n = versions[n][1] or None
        wf.check_four_eyes(user, since, enabled=self.four_eyes, lesson_id=lesson_id, version=current)
        resolved = {e[4] for e in events if e[2] == wf.Action.RESOLVE.value}
        approvals = [e[0] for e in events if e[2] == wf.Action.APPROVE.value]
        if any(e[2] in COMMENT_ACTIONS and e[3] and e[0] not in resolved and not any(a > e[0] for a in approvals)
               for e in events):
            raise _AsideError("open comments")
        _, _, digest, text = versions[current]
        if stored_content_hash(text) != digest:
            raise _AsideError("the hash needs the lesson models")
        at = _stored_time(now)
        cur.execute("insert into events (lesson_id, version, action, actor, created_at, from_status, to_status, "
                    "comment, section, content_hash, ref_event_id) values (?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, NULL)",
                    (lesson_id, current, wf.Action.APPROVE.value, user, at, status, str(new),
                     (comment or "").strip() or None, digest))
        done = cur.execute("update lessons set status = ?, updated_at = ?, row_version = ? "
                           "where id = ? and row_version = ?", (str(new), at, row_version + 1, lesson_id, row_version))
        if done.rowcount != 1:
            raise _AsideError("changed meanwhile")

    def _state_of(self, lesson_id: str) -> LessonState | None:
        """As ``StoreCore.lesson_state(lesson_id)`` (no library: no outdated reasons)."""
        def read(cur: sqlite3.Cursor) -> LessonState | None:
            row = cur.execute(f"select {_SHOWN} from lessons where id = ?", (lesson_id,)).fetchone()
            if row is None:
                return None
            approvals = _approvals(cur, [lesson_id]) if row[7] in wf.PUBLISHABLE else {}
            return _state(row, approvals, with_outdated=False)

        state: LessonState | None = self._read(read)
        return state
