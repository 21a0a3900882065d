"""Whether the offline content a lesson was drafted from has been checked by a person.

Content files ship with ``verified: false`` until someone who knows the facts has read them. A file may
say ``verified: true`` itself, or a reviewer or admin records in the store that they checked one version
of it (by its hash, so an edited file is unverified again) — in the review app or with
``hocvu review verify-content``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from generator.frameworks import Library
    from generator.lesson import Lesson
    from generator.review.store import ReviewStore


@dataclass(frozen=True)
class ContentStatus:
    """The verification of a lesson's offline content; ``applies`` is False for lessons written by a model."""

    applies: bool
    verified: bool = False
    by: str = ""  # who verified it in the store ("" when the file says verified: true)
    at: datetime | None = None
    content_hash: str = ""


def content_status(store: ReviewStore, library: Library, lesson: Lesson) -> ContentStatus:
    """How far the content ``lesson`` was drafted from is verified."""
    from generator.drafting.backend import uses_content_library

    h = lesson.provenance.content_hash
    if not uses_content_library(lesson.provenance.backend) or not h:
        return ContentStatus(applies=False)
    found = store.content_verification(lesson.framework, lesson.competence, h)
    if found is not None:
        return ContentStatus(True, True, found.verified_by, found.verified_at, h)
    if library.content_hash(lesson.framework, lesson.competence) == h and \
            library.content(lesson.framework, lesson.competence).verified:
        return ContentStatus(True, True, content_hash=h)
    return ContentStatus(True, False, content_hash=h)
