"""Lessons and their immutable versions: recording a new version, reading versions back."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from generator.errors import (
    ConflictError,
    NotFoundError,
    ReviewError,
)
from generator.fsutil import sha256_file
from generator.review import workflow as wf
from generator.review.models import (
    EventRow,
    LessonRow,
    VersionRow,
    utcnow,
)
from generator.review.records import (
    LessonState,
    VersionRecord,
    lesson_content_hash,
)
from generator.review.store.core import StoreCore
from generator.textfold import fold

if TYPE_CHECKING:
    from generator.drafting.checks import CheckResult
    from generator.lesson import Lesson

_FILE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,120}$")


class VersionsPart(StoreCore):
    """New versions of lessons and the versions already recorded."""

    def _record_artifacts(self, artifacts: dict[str, Path]) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for name, path in sorted(artifacts.items()):
            if not _FILE.match(name):
                raise ReviewError(
                    "artifact name {name!r} must be a plain file name (letters, digits, . _ -)",
                    name=name,
                )
            p = Path(path)
            if not p.is_file():
                raise NotFoundError("artifact {name} is missing: {p}", name=name, p=p)
            out[name] = {"path": self._rel(p), "sha256": sha256_file(p), "size": p.stat().st_size}
        return out

    def preflight_version(self, lesson_id: str, author: str, kind: str) -> LessonState:
        """Refuse early (before any costly work) a new version the store would refuse to record."""
        with self._ro() as s:
            row = self._lesson_row(s, lesson_id)
            wf.new_version_status(row.status, kind, lesson_id=lesson_id)
            self._authorize(s, author, "create")
        return self.lesson_state(lesson_id)

    def submit_version(
        self,
        lesson: Lesson,
        checks: list[CheckResult],
        artifacts: dict[str, Path],
        author: str,
        parent_version: int | None = None,
        *,
        kind: str | None = None,
        expected_version: int | None = None,
        submit: bool = True,
        folder: Path | None = None,
        cache_key: str | None = None,
        note: str | None = None,
    ) -> VersionRecord:
        """Record a new immutable version of ``lesson`` (status in_review, or draft with ``submit=False``).

        ``kind`` is draft (a fresh draft, the default without a parent), edit (the default with one) or
        revise. ``parent_version`` must still be the current version, or ConflictError: someone else
        made a version meanwhile. ``artifacts`` maps plain file names to files, recorded with sha256.
        """
        kind = kind or ("draft" if parent_version is None else "edit")
        arts = self._record_artifacts(artifacts)
        content_hash = lesson_content_hash(lesson)
        p = lesson.provenance
        now = utcnow()
        with self._tx() as s:
            self._authorize(s, author, "create")
            row = s.get(LessonRow, lesson.id)
            status = wf.Status(row.status) if row else None
            if row is None and parent_version is not None:
                raise NotFoundError("no lesson {id!r} in the review store to make a version from",
                                    id=lesson.id)
            new_status = wf.new_version_status(status, kind, submit=submit, lesson_id=lesson.id)
            if row is not None:
                if parent_version is not None and parent_version != row.current_version:
                    v = s.scalar(
                        select(VersionRow).where(
                            VersionRow.lesson_id == row.id, VersionRow.number == row.current_version
                        )
                    )
                    raise ConflictError(
                        "{id}: you worked from version {parent_version}, but version "
                        "{current_version} by {author} was made meanwhile; start again from it",
                        id=lesson.id, parent_version=parent_version, current_version=row.current_version,
                        author=v.author if v else "?",
                    )
                self._expect(s, row, expected_version)
                number = row.current_version + 1
                row.status, row.current_version, row.title, row.updated_at = (
                    new_status,
                    number,
                    lesson.title,
                    now,
                )
                row.search_key = fold(f"{lesson.title} {lesson.id}")[:800]
                row.author, row.checks_passed = author, all(c.passed for c in checks)
                # A new version is made from the sources as they are: current until they change, which
                # the next list's refresh finds (the empty stamp asks it to check this lesson).
                row.outdated, row.outdated_reasons, row.outdated_stamp = False, "[]", ""
            else:
                number = 1
                row = LessonRow(
                    id=lesson.id,
                    framework=lesson.framework,
                    competence=lesson.competence,
                    level=lesson.level,
                    target_group=lesson.group,
                    language=lesson.language,
                    title=lesson.title,
                    search_key=fold(f"{lesson.title} {lesson.id}")[:800],
                    status=new_status,
                    current_version=1,
                    created_at=now,
                    updated_at=now,
                    author=author,
                    checks_passed=all(c.passed for c in checks),
                    outdated=False,
                    outdated_reasons="[]",
                    outdated_stamp="",
                )
                s.add(row)
            s.flush()
            version = VersionRow(
                lesson_id=lesson.id,
                number=number,
                kind=kind,
                parent_version=parent_version,
                author=author,
                created_at=now,
                content_hash=content_hash,
                lesson_json=lesson.model_dump_json(),
                checks_json=json.dumps([c.to_dict() for c in checks], ensure_ascii=False),
                checks_passed=all(c.passed for c in checks),
                artifacts_json=json.dumps(arts, ensure_ascii=False),
                backend=p.backend,
                model=p.model,
                prompt_hash=p.prompt_hash,
                framework_hash=p.framework_hash,
                group_hash=p.group_hash,
                library_hash=p.content_hash,
                sources_hash=p.sources_hash,
                folder=self._rel(folder) if folder else None,
                cache_key=cache_key,
            )
            s.add(version)
            s.add(
                EventRow(
                    lesson_id=lesson.id,
                    version=number,
                    action=wf.Action.CREATE,
                    actor=author,
                    created_at=now,
                    from_status=status,
                    to_status=new_status,
                    comment=note,
                    section=kind,
                    content_hash=content_hash,
                )
            )
            s.flush()
            return self._version(version, {number: new_status}, number)

    def get_version(self, lesson_id: str, n: int | None = None) -> VersionRecord:
        """Version ``n`` of a lesson (default: the current one)."""
        with self._ro() as s:
            row = self._lesson_row(s, lesson_id)
            v = self._version_row(s, lesson_id, row.current_version if n is None else n)
            return self._version(v, self._statuses(s, lesson_id), row.current_version)

    def versions(self, lesson_id: str) -> list[VersionRecord]:
        """Every version of a lesson, oldest first."""
        with self._ro() as s:
            row = self._lesson_row(s, lesson_id)
            statuses = self._statuses(s, lesson_id)
            rows = s.scalars(
                select(VersionRow).where(VersionRow.lesson_id == lesson_id).order_by(VersionRow.number)
            )
            return [self._version(v, statuses, row.current_version) for v in rows]

    def known_cache_keys(self, keys: Iterable[str]) -> dict[str, str]:
        """Of ``keys``, those some version was recorded with, each mapped to its lesson id (one query)."""
        wanted = list(dict.fromkeys(keys))
        found: dict[str, str] = {}
        with self._ro() as s:
            for start in range(0, len(wanted), 500):  # stay under SQLite's bound-parameter limit
                chunk = wanted[start:start + 500]
                rows = s.execute(select(VersionRow.cache_key, VersionRow.lesson_id)
                                 .where(VersionRow.cache_key.in_(chunk)))
                found.update({k: lid for k, lid in rows if k})
        return found

    def find_by_cache_key(self, cache_key: str) -> VersionRecord | None:
        """The newest version recorded with ``cache_key`` (batch builds skip lessons that have one)."""
        with self._ro() as s:
            v = s.scalar(
                select(VersionRow)
                .where(VersionRow.cache_key == cache_key)
                .order_by(VersionRow.id.desc())
                .limit(1)
            )
            if v is None:
                return None
            row = self._lesson_row(s, v.lesson_id)
            return self._version(v, self._statuses(s, v.lesson_id), row.current_version)
