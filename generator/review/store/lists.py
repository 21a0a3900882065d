"""Lists of lessons and counts per status (the dashboard, the queue, the API, coverage, `review list`).

Everything a list shows or filters on is a column of ``lessons`` (the current version's author and
checks, the outdated flag and its reasons are kept there by the store), so a list is one indexed query
that filters, sorts and pages in SQL and never reads a version. The outdated flags are brought up to date
first by ``refresh_outdated``: a no-op (one indexed query) unless a source changed or a version was
recorded since the last check.
"""

from __future__ import annotations

import json
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table, and_, bindparam, func, or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from generator.errors import NotFoundError, ReviewError
from generator.review import workflow as wf
from generator.review.models import EventRow, LessonRow, VersionRow
from generator.review.records import LessonPage, LessonState
from generator.review.store.core import MARKERS, StoreCore
from generator.review.store.filters import LessonFilter

if TYPE_CHECKING:
    from generator.frameworks import Library

#: How lists may be sorted: name → ORDER BY (the id breaks ties, so pages never overlap).
SORTS = {
    "id": (LessonRow.id,),
    "updated": (LessonRow.updated_at.desc(), LessonRow.id),
    "title": (LessonRow.title, LessonRow.id),
    "status": (LessonRow.status, LessonRow.id),
}
#: The columns a list shows (never a version, never the search key).
_SHOWN = (LessonRow.id, LessonRow.framework, LessonRow.competence, LessonRow.level, LessonRow.target_group,
          LessonRow.language, LessonRow.title, LessonRow.status, LessonRow.current_version,
          LessonRow.row_version, LessonRow.created_at, LessonRow.updated_at, LessonRow.author,
          LessonRow.checks_passed, LessonRow.outdated_reasons)
#: A sources stamp is reused for this long (seconds): under load, one computation serves many requests.
STAMP_TTL = 1.0
#: A list answer is reused while the store has recorded no new event, for at most this long (seconds):
#: twenty reviewers opening the same queue page cost one query. (The age bound covers PostgreSQL, where
#: event ids may become visible out of order.)
LIST_TTL = 2.0
#: The change marker is read again after this long (seconds), or at once after this process wrote: a
#: page's several lists, and a burst of requests, share one read; another process's change shows within it.
MARKER_TTL = 0.25
LIST_CACHE_SIZE = 256
_CACHE_LOCK = threading.Lock()
_MARKER = select(func.max(EventRow.id))


class ListsPart(StoreCore):
    """Lessons matching filters, a page at a time, and counts."""

    #: How long a read change marker is trusted (``MARKER_TTL``); 0 where several server processes share
    #: the store, so a page after your own decision, served by another process, shows it.
    marker_ttl: float = MARKER_TTL
    _stamp_memo: tuple[weakref.ref[Library], float, str] | None = None
    _list_cache: OrderedDict[tuple[Any, ...], tuple[float, Any]] | None = None
    _frameworks_memo: tuple[int, list[str]] | None = None
    _refreshed: tuple[str, int] | None = None

    def list_lessons(self, where: LessonFilter | None = None, library: Library | None = None, *,
                     sort: str = "id", limit: int | None = None, offset: int = 0,
                     **fields: Any) -> list[LessonState]:
        """Lessons matching ``where`` — or the filter ``fields`` name as keywords (``status=``, ``group=``,
        … as ``LessonFilter.of`` takes them) — sorted by id unless ``sort`` says otherwise, at most
        ``limit`` from ``offset``; ``outdated`` filled (and brought up to date) when ``library`` is given."""
        flt = _where(where, library, fields)

        def read() -> list[LessonState]:
            with self._ro() as s:
                return self._page(s, flt, sort, limit, offset, with_outdated=library is not None)

        return list(self._cached(("list", flt, sort, limit, offset, library is not None), library, read))

    def lesson_page(self, where: LessonFilter | None = None, library: Library | None = None, *,
                    sort: str = "id", limit: int = 50, offset: int = 0, **fields: Any) -> LessonPage:
        """One page of the lessons matching the filter (as ``list_lessons``), with how many match in all
        (two queries)."""
        flt = _where(where, library, fields)

        def read() -> LessonPage:
            with self._ro() as s:
                total = s.scalar(flt.apply(select(func.count()).select_from(LessonRow))) or 0
                items = self._page(s, flt, sort, limit, offset, with_outdated=library is not None) if total else []
            return LessonPage(items, total, limit, offset)

        page: LessonPage = self._cached(("page", flt, sort, limit, offset, library is not None), library, read)
        return LessonPage(list(page.items), page.total, page.limit, page.offset)

    def count_lessons(self, where: LessonFilter | None = None, library: Library | None = None,
                      **fields: Any) -> int:
        """How many lessons match the filter (as ``list_lessons``)."""
        flt = _where(where, library, fields)

        def read() -> int:
            with self._ro() as s:
                return s.scalar(flt.apply(select(func.count()).select_from(LessonRow))) or 0

        return int(self._cached(("count", flt), library, read))

    def counts(self) -> dict[str, int]:
        """Number of lessons per status (for dashboards): one grouped query."""
        def read() -> dict[str, int]:
            with self._ro() as s:
                rows = s.execute(select(LessonRow.status, func.count()).group_by(LessonRow.status)).all()
                return {st: n for st, n in rows}

        return dict(self._cached(("counts",), None, read))

    def coverage_cells(self, framework: str, language: str) -> list[tuple[str, str, int, str, str]]:
        """(competence, group, level, lesson id, status) of every lesson of ``framework`` in ``language``."""
        def read() -> list[tuple[str, str, int, str, str]]:
            with self._ro() as s:
                q = (select(LessonRow.competence, LessonRow.target_group, LessonRow.level, LessonRow.id,
                            LessonRow.status)
                     .where(LessonRow.framework == framework, LessonRow.language == language)
                     .order_by(LessonRow.id))
                return [(c, g, lv, lid, st) for c, g, lv, lid, st in s.execute(q)]

        return list(self._cached(("cells", framework, language), None, read))

    def change_marker(self) -> int:
        """A number that grows with every change a list can show (the newest event's id: every new
        version, decision, comment and publication records one); equal markers, equal lists."""
        memo, now = MARKERS.get(self._db), time.monotonic()
        if memo is not None and now - memo[0] < self.marker_ttl:
            return memo[1]
        try:
            with self.engine.connect() as conn:  # a bare connection: this runs on every list request
                marker = int(conn.execute(_MARKER).scalar() or 0)
        except SQLAlchemyError as exc:
            raise ReviewError("the review store failed: {exc}", exc=exc) from exc
        MARKERS[self._db] = (now, marker)
        return marker

    def list_token(self, library: Library | None) -> tuple[int, str]:
        """(change marker, sources stamp) for the lists as they are now, after bringing the outdated flags
        up to date: two equal tokens, two equal answers (the key of every cached list and page part)."""
        marker = self.change_marker()
        if library is None:
            return marker, ""
        stamp = self.sources_stamp(library)
        if self._refreshed != (stamp, marker):  # no new version and the same sources: nothing is stale
            self.refresh_outdated(library)
            self._refreshed = (stamp, marker)  # a refresh records no event: the marker still holds
        return marker, stamp

    # -- outdated flags ------------------------------------------------------------------------------
    def sources_stamp(self, library: Library) -> str:
        """The current sources stamp for the lessons in the store (reused for ``STAMP_TTL`` seconds)."""
        from generator.review.outdated import sources_stamp

        memo, now = self._stamp_memo, time.monotonic()
        if memo is not None and memo[0]() is library and now - memo[1] < STAMP_TTL:
            return memo[2]
        stamp = sources_stamp(library, self._lesson_frameworks())
        self._stamp_memo = (weakref.ref(library), now, stamp)
        return stamp

    def refresh_outdated(self, library: Library) -> int:
        """Recheck the lessons whose outdated flag was computed against other sources (or never);
        returns how many were rechecked. Decisions' concurrency tokens are left alone."""
        from generator.review.outdated import OutdatedChecker

        stamp = self.sources_stamp(library)
        stale = or_(LessonRow.outdated_stamp < stamp, LessonRow.outdated_stamp > stamp)  # both use the index
        with self._ro() as s:
            if s.scalar(select(LessonRow.id).where(stale).limit(1)) is None:
                return 0
        checker = OutdatedChecker(library)
        q = (select(LessonRow.id, LessonRow.framework, LessonRow.competence, LessonRow.target_group,
                    LessonRow.current_version, LessonRow.outdated_stamp, VersionRow.backend,
                    VersionRow.prompt_hash, VersionRow.framework_hash, VersionRow.group_hash,
                    VersionRow.library_hash, VersionRow.sources_hash)
             .join(VersionRow, and_(VersionRow.lesson_id == LessonRow.id,
                                    VersionRow.number == LessonRow.current_version))
             .where(stale))
        table = cast(Table, LessonRow.__table__)
        change = (update(table)
                  .where(table.c.id == bindparam("lid"), table.c.current_version == bindparam("v"),
                         table.c.outdated_stamp == bindparam("seen"))
                  .values(outdated=bindparam("flag"), outdated_reasons=bindparam("why"), outdated_stamp=stamp))
        with self._tx() as s:
            params = []
            for r in s.execute(q):
                row: Any = r
                if r.sources_hash:  # drafted with sources: its cited passages, read only for these few
                    body = s.scalar(select(VersionRow.lesson_json).where(
                        VersionRow.lesson_id == r.id, VersionRow.number == r.current_version))
                    row = _WithSources(r, [(c.get("id", ""), c.get("file") or "")
                                           for c in json.loads(body or "{}").get("sources", [])])
                why = checker.reasons(row, r.framework, r.competence, r.target_group)
                params.append({"lid": r.id, "v": r.current_version, "seen": r.outdated_stamp,
                               "flag": bool(why), "why": json.dumps(why, ensure_ascii=False)})
            if params:
                s.connection().execute(change, params)
        return len(params)

    # -- helpers -------------------------------------------------------------------------------------

    def _lesson_frameworks(self) -> list[str]:
        """The frameworks the store has lessons of: read again only after a change (a new lesson records an
        event), not every time the stamp is (an index scan of every lesson)."""
        marker, memo = self.change_marker(), self._frameworks_memo
        if memo is None or memo[0] != marker:
            with self._ro() as s:
                memo = self._frameworks_memo = (marker, list(s.scalars(select(LessonRow.framework).distinct())))
        return memo[1]

    def _cached(self, key: tuple[Any, ...], library: Library | None, read: Callable[[], Any]) -> Any:
        """``read()``, or its answer for the same key while nothing changed (see ``LIST_TTL``)."""
        full, now = (*key, *self.list_token(library)), time.monotonic()
        with _CACHE_LOCK:
            if self._list_cache is None:
                self._list_cache = OrderedDict()
            hit = self._list_cache.get(full)
            if hit is not None and now - hit[0] < LIST_TTL:
                return hit[1]
        value = read()
        with _CACHE_LOCK:
            self._list_cache[full] = (now, value)
            self._list_cache.move_to_end(full)
            while len(self._list_cache) > LIST_CACHE_SIZE:
                self._list_cache.popitem(last=False)
        return value

    def _page(self, s: Any, flt: LessonFilter, sort: str, limit: int | None, offset: int, *,
              with_outdated: bool) -> list[LessonState]:
        if sort not in SORTS:
            raise NotFoundError.unknown("sort order", sort, list(SORTS))
        q = flt.apply(select(*_SHOWN)).order_by(*SORTS[sort])
        if limit is not None:
            q = q.limit(max(0, limit))
        if offset:
            q = q.offset(max(0, offset))
        rows = s.execute(q).all()
        shown = [r.id for r in rows if r.status in wf.PUBLISHABLE]
        approvals = self._approvals(s, shown) if shown else {}
        out = []
        for r in rows:
            ok = r.status in wf.PUBLISHABLE
            state = self._state(r, approvals.get((r.id, r.current_version)) if ok else None)
            if with_outdated:
                state.outdated = json.loads(r.outdated_reasons or "[]")
            out.append(state)
        return out


def _where(where: LessonFilter | None, library: Library | None, fields: dict[str, Any]) -> LessonFilter:
    """The filter a list call asks for (``LessonFilter.given``), with the library outdated detection needs."""
    flt = LessonFilter.given(where, fields)
    if flt.outdated_only and library is None:
        raise ReviewError("outdated detection needs the framework library")
    return flt


class _WithSources:
    """A list row with the (id, file) of the passages its version cites, for outdated detection."""

    def __init__(self, row: Any, cited: list[tuple[str, str]]) -> None:
        self._row, self.cited_sources = row, cited

    def __getattr__(self, name: str) -> Any:
        return getattr(self._row, name)
