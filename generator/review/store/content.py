"""Content verification: a reviewer's word that one version of an offline content entry is checked."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from generator.errors import (
    ReviewError,
)
from generator.review.models import (
    ContentVerificationRow,
    utcnow,
)
from generator.review.records import (
    ContentVerification,
)
from generator.review.store.core import StoreCore

if TYPE_CHECKING:
    pass

class ContentPart(StoreCore):
    """Who verified which version of an offline content entry."""

    def verify_content(self, framework: str, competence: str, content_hash: str, user: str,
                       note: str = "") -> ContentVerification:
        """Record that ``user`` (a reviewer or admin) checked this version of an offline content entry;
        verifying it again keeps the first record."""
        if not content_hash:
            raise ReviewError(f"{framework} {competence} has no offline content to verify")
        with self._tx() as s:
            self._authorize(s, user, "verify_content")
            row = s.scalar(select(ContentVerificationRow).where(
                ContentVerificationRow.framework == framework, ContentVerificationRow.competence == competence,
                ContentVerificationRow.content_hash == content_hash))
            if row is None:
                row = ContentVerificationRow(framework=framework, competence=competence, content_hash=content_hash,
                                             verified_by=user, verified_at=utcnow(), note=note.strip())
                s.add(row)
                s.flush()
            return self._verification(row)

    def content_verification(self, framework: str, competence: str, content_hash: str
                             ) -> ContentVerification | None:
        """Who verified this version of an offline content entry, or None."""
        with self._ro() as s:
            row = s.scalar(select(ContentVerificationRow).where(
                ContentVerificationRow.framework == framework, ContentVerificationRow.competence == competence,
                ContentVerificationRow.content_hash == content_hash))
            return self._verification(row) if row else None

    @staticmethod
    def _verification(row: ContentVerificationRow) -> ContentVerification:
        return ContentVerification(row.framework, row.competence, row.content_hash, row.verified_by,
                                   row.verified_at, row.note)
