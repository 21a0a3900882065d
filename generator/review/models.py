"""The store's tables as SQLAlchemy 2 ORM classes.

The schema itself is created and changed only by the Alembic migrations in ``migrations/``; these classes
describe it for queries, and a test checks that they and the migrations agree.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no zone; we put UTC back on)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base with constraint naming that migrations repeat."""

    metadata = MetaData(naming_convention=NAMING)


class UserRow(Base):
    """A person who edits, reviews or administers."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    token_hash: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class LessonRow(Base):
    """One lesson (framework, competence, level, group, language) and where its current version stands.

    ``row_version`` is SQLAlchemy's optimistic-concurrency counter: every change bumps it, and an update
    made from a stale read matches no row.
    """

    __tablename__ = "lessons"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    framework: Mapped[str] = mapped_column(String(64))
    competence: Mapped[str] = mapped_column(String(32))
    level: Mapped[int] = mapped_column(Integer)
    target_group: Mapped[str] = mapped_column(String(64), index=True)
    language: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(500))
    search_key: Mapped[str] = mapped_column(String(800), default="", server_default="")
    status: Mapped[str] = mapped_column(String(32), index=True)
    current_version: Mapped[int] = mapped_column(Integer)
    row_version: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # What lists show, kept current by the store so that no list reads a version (migration 0005):
    author: Mapped[str] = mapped_column(String(64), default="", server_default="")
    checks_passed: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    outdated: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    outdated_reasons: Mapped[str] = mapped_column(Text, default="[]", server_default="[]")
    #: The sources stamp (``outdated.sources_stamp``) the flag was computed against; "" = not yet checked.
    outdated_stamp: Mapped[str] = mapped_column(String(64), default="", server_default="")

    __table_args__ = (
        Index("ix_lessons_framework_competence", "framework", "competence"),
        Index("ix_lessons_status_id", "status", "id"),
        Index("ix_lessons_outdated_id", "outdated", "id"),
        Index("ix_lessons_outdated_stamp", "outdated_stamp"),
        Index("ix_lessons_framework_language_level", "framework", "language", "level"),
        Index("ix_lessons_level", "level"),
        Index("ix_lessons_language", "language"),
        Index("ix_lessons_author", "author"),
        Index("ix_lessons_updated_at", "updated_at"),
    )
    __mapper_args__ = {"version_id_col": row_version}


class VersionRow(Base):
    """An immutable version of a lesson: its JSON, content hash, checks, artifacts and author."""

    __tablename__ = "versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lesson_id: Mapped[str] = mapped_column(String(200), ForeignKey("lessons.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    parent_version: Mapped[int | None] = mapped_column(Integer)
    author: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    content_hash: Mapped[str] = mapped_column(String(64))
    lesson_json: Mapped[str] = mapped_column(Text)
    checks_json: Mapped[str] = mapped_column(Text)
    checks_passed: Mapped[bool] = mapped_column(Boolean)
    artifacts_json: Mapped[str] = mapped_column(Text)
    backend: Mapped[str] = mapped_column(String(64))
    model: Mapped[str] = mapped_column(String(200))
    prompt_hash: Mapped[str] = mapped_column(String(64))
    framework_hash: Mapped[str] = mapped_column(String(64))
    group_hash: Mapped[str] = mapped_column(String(64))
    library_hash: Mapped[str] = mapped_column(String(64))
    sources_hash: Mapped[str] = mapped_column(String(64))
    folder: Mapped[str | None] = mapped_column(String(1000))
    cache_key: Mapped[str | None] = mapped_column(String(128), index=True)

    __table_args__ = (UniqueConstraint("lesson_id", "number"),)


class EventRow(Base):
    """One review event: who did what to which version, when, and why."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lesson_id: Mapped[str] = mapped_column(String(200), ForeignKey("lessons.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str | None] = mapped_column(String(32))
    comment: Mapped[str | None] = mapped_column(Text)
    section: Mapped[str | None] = mapped_column(String(32))
    content_hash: Mapped[str | None] = mapped_column(String(64))
    ref_event_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("events.id"))

    __table_args__ = (Index("ix_events_lesson_id_id", "lesson_id", "id"),)


class ReleaseRow(Base):
    """An immutable release: its name, folder, manifest checksum and who built it."""

    __tablename__ = "releases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(String(1000))
    hocvu_version: Mapped[str] = mapped_column(String(32))
    manifest_sha256: Mapped[str] = mapped_column(String(64))
    filters_json: Mapped[str] = mapped_column(Text)


class ReleaseItemRow(Base):
    """A lesson version included in a release."""

    __tablename__ = "release_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    release_id: Mapped[int] = mapped_column(Integer, ForeignKey("releases.id", ondelete="CASCADE"))
    lesson_id: Mapped[str] = mapped_column(String(200), ForeignKey("lessons.id"))
    version: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (UniqueConstraint("release_id", "lesson_id"),)


class ContentVerificationRow(Base):
    """A person's word that one version (hash) of an offline content entry is checked and current."""

    __tablename__ = "content_verifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    framework: Mapped[str] = mapped_column(String(64))
    competence: Mapped[str] = mapped_column(String(16))
    content_hash: Mapped[str] = mapped_column(String(64))
    verified_by: Mapped[str] = mapped_column(String(64))
    verified_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    note: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (UniqueConstraint("framework", "competence", "content_hash"),)


class SessionRow(Base):
    """A signed-in browser: the hash of its session id, whose it is, and when it was made and last used."""

    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_name: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    address: Mapped[str] = mapped_column(String(64), default="")


class SignInFailureRow(Base):
    """One failed (or still running) sign-in: for whom (case-folded name), from where, when."""

    __tablename__ = "sign_in_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_key: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (Index("ix_sign_in_failures_user_key_at", "user_key", "at"),
                      Index("ix_sign_in_failures_address_at", "address", "at"))
