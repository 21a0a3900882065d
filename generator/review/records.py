"""Plain records the store returns: detached from any session, safe to keep and to print."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the pydantic lesson models load only when a lesson is read (lists never do)
    from generator.drafting.checks import CheckResult
    from generator.lesson import Lesson


def lesson_content_hash(lesson: Lesson) -> str:
    """sha256 of what a reviewer approves: the lesson's canonical JSON without its provenance."""
    return _canonical_hash(lesson.model_dump(mode="json", exclude={"provenance"}))


def stored_content_hash(lesson_json: str) -> str:
    """``lesson_content_hash`` of a stored lesson's JSON as it is stored, without the lesson models: equal to
    the recorded hash exactly when the stored text is what was recorded (the models may add defaults to an
    older version's text, so a mismatch here is not yet proof; ask ``lesson_content_hash`` then)."""
    data = json.loads(lesson_json)
    data.pop("provenance", None)
    return _canonical_hash(data)


def _canonical_hash(data: object) -> str:
    blob = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class User:
    """A registered user (the password hash stays in the store)."""

    name: str
    role: str
    has_password: bool
    created_at: datetime
    disabled: bool = False


@dataclass(frozen=True)
class Artifact:
    """A file made for a version, with the checksum it had when recorded."""

    name: str
    path: Path
    sha256: str
    size: int


@dataclass(frozen=True)
class Event:
    """One entry of a lesson's history."""

    id: int
    lesson_id: str
    version: int
    action: str
    actor: str
    created_at: datetime
    from_status: str | None = None
    to_status: str | None = None
    comment: str | None = None
    section: str | None = None
    content_hash: str | None = None
    ref_event_id: int | None = None


@dataclass(frozen=True)
class Comment:
    """A reviewer's comment (from a decision or a plain comment) and whether it is still open."""

    id: int
    lesson_id: str
    version: int
    actor: str
    action: str
    text: str
    section: str | None
    created_at: datetime
    open: bool


@dataclass
class VersionRecord:
    """One immutable version of a lesson."""

    lesson_id: str
    number: int
    kind: str
    parent_version: int | None
    author: str
    created_at: datetime
    content_hash: str
    lesson_json: str
    checks: list[CheckResult]
    artifacts: dict[str, Artifact]
    backend: str
    model: str
    prompt_hash: str
    framework_hash: str
    group_hash: str
    library_hash: str
    sources_hash: str
    folder: Path | None = None
    cache_key: str | None = None
    status: str = ""
    current: bool = False

    @cached_property
    def lesson(self) -> Lesson:
        """The lesson this version holds."""
        from generator.lesson import Lesson

        return Lesson.model_validate_json(self.lesson_json)

    @property
    def checks_passed(self) -> bool:
        """True when every stored check passed."""
        return all(c.passed for c in self.checks)


@dataclass
class LessonState:
    """A lesson and where its current version stands.

    ``row_version`` is the optimistic-concurrency token: pass it back as ``expected_version`` and the
    store refuses the action with ConflictError if anyone changed the lesson in between.
    ``outdated`` lists why the current version is out of date (filled when a Library was given).
    """

    id: str
    framework: str
    competence: str
    level: int
    group: str
    language: str
    title: str
    status: str
    current_version: int
    row_version: int
    created_at: datetime
    updated_at: datetime
    approved_by: str | None = None
    approved_at: datetime | None = None
    outdated: list[str] = field(default_factory=list)
    author: str = ""  # of the current version
    checks_passed: bool = True  # every check of the current version passed

    @property
    def is_outdated(self) -> bool:
        """True when the framework, group, content library or prompt changed since the version was made."""
        return bool(self.outdated)


@dataclass(frozen=True)
class LessonPage:
    """One page of a list of lessons, and how many match in all."""

    items: list[LessonState]
    total: int
    limit: int
    offset: int

    @property
    def pages(self) -> int:
        """How many pages of ``limit`` lessons the whole list makes (at least 1)."""
        return max(1, -(-self.total // self.limit)) if self.limit > 0 else 1


@dataclass(frozen=True)
class ReleaseItem:
    """A lesson version in a release."""

    lesson_id: str
    version: int
    content_hash: str


@dataclass(frozen=True)
class ReleaseRecord:
    """A release as recorded in the store."""

    name: str
    created_at: datetime
    created_by: str
    path: Path
    hocvu_version: str
    manifest_sha256: str
    filters: dict[str, str]
    items: list[ReleaseItem]


@dataclass(frozen=True)
class ContentVerification:
    """Who said one version (hash) of an offline content entry is checked, and when."""

    framework: str
    competence: str
    content_hash: str
    verified_by: str
    verified_at: datetime
    note: str = ""
