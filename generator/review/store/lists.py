"""Lists of lessons and counts per status (the dashboard, the queue, the API, `review list`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from generator.errors import (
    NotFoundError,
    ReviewError,
)
from generator.review import workflow as wf
from generator.review.models import (
    LessonRow,
    VersionRow,
)
from generator.review.records import (
    LessonState,
)
from generator.review.store.core import StoreCore
from generator.textfold import fold

if TYPE_CHECKING:
    from generator.frameworks import Library

class ListsPart(StoreCore):
    """Lessons matching filters, and counts."""

    def list_lessons(
        self,
        status: str | Iterable[str] | None = None,
        group: str | None = None,
        framework: str | None = None,
        competence: str | None = None,
        level: int | None = None,
        language: str | None = None,
        search: str | None = None,
        outdated_only: bool = False,
        library: Library | None = None,
    ) -> list[LessonState]:
        """Lessons matching every filter given, by id; ``outdated`` filled when ``library`` is given."""
        statuses = [status] if isinstance(status, str) else list(status or [])
        for st in statuses:
            if st not in {x.value for x in wf.Status}:
                raise NotFoundError.unknown("status", st, [x.value for x in wf.Status])
        if outdated_only and library is None:
            raise ReviewError("outdated detection needs the framework library")
        q = select(LessonRow, VersionRow).join(
            VersionRow,
            (VersionRow.lesson_id == LessonRow.id) & (VersionRow.number == LessonRow.current_version),
        )
        if statuses:
            q = q.where(LessonRow.status.in_(statuses))
        for col, val in (
            (LessonRow.target_group, group),
            (LessonRow.framework, framework),
            (LessonRow.competence, competence),
            (LessonRow.level, level),
            (LessonRow.language, language),
        ):
            if val is not None:
                q = q.where(col == val)
        if search:  # without case or diacritics: "an toan" finds "An toàn"
            needle = fold(search.strip()).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            q = q.where(LessonRow.search_key.like(f"%{needle}%", escape="\\"))
        checker = None
        if library is not None:
            from generator.review.outdated import OutdatedChecker

            checker = OutdatedChecker(library)
        out: list[LessonState] = []
        with self._ro() as s:
            rows = s.execute(q.order_by(LessonRow.id)).all()
            approvals = self._approvals(s, [r.id for r, _ in rows])
            for row, vrow in rows:
                ok = row.status in wf.PUBLISHABLE
                state = self._state(row, approvals.get((row.id, row.current_version)) if ok else None)
                if checker is not None:
                    v = self._version(vrow, {}, row.current_version)
                    state.outdated = checker.reasons(v, row.framework, row.competence, row.target_group)
                if outdated_only and not state.outdated:
                    continue
                out.append(state)
        return out

    def counts(self) -> dict[str, int]:
        """Number of lessons per status (for dashboards)."""
        with self._ro() as s:
            rows = s.execute(select(LessonRow.status, func.count()).group_by(LessonRow.status)).all()
            return {st: n for st, n in rows}
