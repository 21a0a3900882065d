"""Releases: recording an immutable release and marking its lessons published, all or nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from generator.errors import (
    ConflictError,
    NotFoundError,
    PublishError,
)
from generator.review import workflow as wf
from generator.review.models import (
    EventRow,
    ReleaseItemRow,
    ReleaseRow,
    utcnow,
)
from generator.review.records import (
    ReleaseItem,
    ReleaseRecord,
)
from generator.review.store.core import StoreCore

if TYPE_CHECKING:
    pass

class ReleasesPart(StoreCore):
    """Releases and their items."""

    def create_release(
        self,
        name: str,
        items: list[ReleaseItem],
        *,
        by: str,
        path: Path,
        manifest_sha256: str,
        hocvu_version: str,
        filters: dict[str, str] | None = None,
        place: Callable[[], None] | None = None,
    ) -> ReleaseRecord:
        """Record a release and mark its lessons published, all or nothing.

        Each item must still be its lesson's current, approved version with the same content hash
        (ConflictError otherwise). ``place`` (e.g. renaming the built folder into place) runs inside the
        transaction, after every check: if it fails, nothing is recorded.
        """
        now = utcnow()
        with self._tx() as s:
            old = s.scalar(select(ReleaseRow).where(ReleaseRow.name == name))
            if old is not None:
                raise PublishError(
                    f"release {name!r} already exists (made by {old.created_by} on "
                    f"{old.created_at:%Y-%m-%d %H:%M} UTC); releases are immutable, choose a new name"
                )
            self._authorize(s, by, wf.Action.PUBLISH)
            rel = ReleaseRow(
                name=name,
                created_at=now,
                created_by=by,
                path=self._rel(path),
                hocvu_version=hocvu_version,
                manifest_sha256=manifest_sha256,
                filters_json=json.dumps(filters or {}, ensure_ascii=False, sort_keys=True),
            )
            s.add(rel)
            s.flush()
            for item in items:
                row = self._lesson_row(s, item.lesson_id)
                v = self._version_row(s, item.lesson_id, row.current_version)
                if (
                    row.current_version != item.version
                    or v.content_hash != item.content_hash
                    or row.status not in wf.PUBLISHABLE
                ):
                    raise ConflictError(
                        f"{item.lesson_id} changed while release {name} was built (now version "
                        f"{row.current_version}, {row.status}); publish again"
                    )
                new = wf.next_status(
                    row.status, wf.Action.PUBLISH, lesson_id=row.id, version=row.current_version
                )
                s.add(
                    EventRow(
                        lesson_id=row.id,
                        version=item.version,
                        action=wf.Action.PUBLISH,
                        actor=by,
                        created_at=now,
                        from_status=row.status,
                        to_status=new,
                        comment=f"release {name}",
                        content_hash=item.content_hash,
                    )
                )
                row.status, row.updated_at = new, now
                s.add(
                    ReleaseItemRow(
                        release_id=rel.id,
                        lesson_id=item.lesson_id,
                        version=item.version,
                        content_hash=item.content_hash,
                    )
                )
            s.flush()
            if place is not None:
                place()
        return self.get_release(name)

    def get_release(self, name: str) -> ReleaseRecord:
        """The release ``name``; NotFoundError listing the releases otherwise."""
        with self._ro() as s:
            rel = s.scalar(select(ReleaseRow).where(ReleaseRow.name == name))
            if rel is None:
                raise NotFoundError.unknown("release", name, s.scalars(select(ReleaseRow.name)).all())
            return self._release(s, rel)

    def list_releases(self) -> list[ReleaseRecord]:
        """Every release, oldest first."""
        with self._ro() as s:
            return [self._release(s, r) for r in s.scalars(select(ReleaseRow).order_by(ReleaseRow.id))]

    def _release(self, s: Session, rel: ReleaseRow) -> ReleaseRecord:
        items = [
            ReleaseItem(i.lesson_id, i.version, i.content_hash)
            for i in s.scalars(
                select(ReleaseItemRow)
                .where(ReleaseItemRow.release_id == rel.id)
                .order_by(ReleaseItemRow.lesson_id)
            )
        ]
        return ReleaseRecord(
            rel.name,
            rel.created_at,
            rel.created_by,
            self._abs(rel.path),
            rel.hocvu_version,
            rel.manifest_sha256,
            json.loads(rel.filters_json),
            items,
        )
