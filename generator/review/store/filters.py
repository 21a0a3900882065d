"""Which lessons a list shows: one ``LessonFilter`` for the store's lists (SQLAlchemy) and the
read-only ``fastread`` path (stdlib sqlite3) — light enough to import without SQLAlchemy."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from generator.errors import NotFoundError
from generator.review import workflow as wf
from generator.textfold import fold


@dataclass(frozen=True)
class LessonFilter:
    """Which lessons a list shows; every field given must match."""

    status: tuple[str, ...] = ()
    group: str | None = None
    framework: str | None = None
    competence: str | None = None
    level: int | None = None
    language: str | None = None
    search: str | None = None
    outdated_only: bool = False
    failed_checks: bool = False
    not_author: str | None = None  # lessons whose current version someone else made (four-eyes)

    @classmethod
    def of(cls, status: str | Iterable[str] | None = None, **fields: Any) -> LessonFilter:
        """A filter from keyword arguments; NotFoundError for an unknown status."""
        statuses = (status,) if isinstance(status, str) else tuple(status or ())
        valid = [x.value for x in wf.Status]
        for st in statuses:
            if st not in valid:
                raise NotFoundError.unknown("status", st, valid)
        return cls(statuses, **fields)

    @classmethod
    def given(cls, where: LessonFilter | None, fields: dict[str, Any]) -> LessonFilter:
        """The filter a list call asks for: ``where``, or one made of keyword ``fields`` (not both)."""
        if where is not None and fields:
            raise TypeError(f"give a LessonFilter or filter keywords, not both: {sorted(fields)}")
        return where if where is not None else cls.of(**fields)

    def apply(self, q: Any) -> Any:
        """``q`` (a SQLAlchemy select) with this filter's WHERE clauses."""
        from generator.review.models import LessonRow

        if self.status:
            q = q.where(LessonRow.status.in_(self.status))
        for col, val in ((LessonRow.target_group, self.group), (LessonRow.framework, self.framework),
                         (LessonRow.competence, self.competence), (LessonRow.level, self.level),
                         (LessonRow.language, self.language)):
            if val is not None:
                q = q.where(col == val)
        if self.search:  # without case or diacritics: "an toan" finds "An toàn"
            needle = fold(self.search.strip()).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            q = q.where(LessonRow.search_key.like(f"%{needle}%", escape="\\"))
        if self.outdated_only:
            q = q.where(LessonRow.outdated.is_(True))
        if self.failed_checks:
            q = q.where(LessonRow.checks_passed.is_(False))
        if self.not_author is not None:
            q = q.where(LessonRow.author != self.not_author)
        return q
