"""The review store: users, lessons, immutable versions, review events and releases.

``ReviewStore`` is the one object the CLI, the web app and batch builds use to record and move lessons
through review. Every rule of the workflow (``workflow.py``) is enforced here, inside the transaction
that makes the change, so no caller can skip one. Reads return plain records (``records.py``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from generator.drafting.checks import CheckResult
from generator.errors import (
    ConflictError,
    NotFoundError,
    PermissionError_,
    PublishError,
    ReviewError,
)
from generator.fsutil import sha256_file
from generator.i18n import N_, Message
from generator.lesson import SECTIONS, Lesson
from generator.review import workflow as wf
from generator.review.access import end_sessions
from generator.review.db import WRITE, database_url, make_engine, migrate
from generator.review.models import (
    ContentVerificationRow,
    EventRow,
    LessonRow,
    ReleaseItemRow,
    ReleaseRow,
    UserRow,
    VersionRow,
    utcnow,
)
from generator.review.records import (
    Artifact,
    Comment,
    ContentVerification,
    Event,
    LessonState,
    ReleaseItem,
    ReleaseRecord,
    User,
    VersionRecord,
    lesson_content_hash,
)
from generator.textfold import fold

if TYPE_CHECKING:
    from generator.config import Settings
    from generator.frameworks import Library

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
_FILE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,120}$")
MIN_PASSWORD = 8
COMMENT_ACTIONS = (wf.Action.REQUEST_CHANGES, wf.Action.REJECT, wf.Action.COMMENT)


def check_user_name(name: str) -> str:
    """A user name: letters, digits and . _ @ - (up to 64), starting with a letter or digit."""
    if not _NAME.match(name or ""):
        raise ReviewError(
            "invalid user name {name!r}: use letters, digits and . _ @ - (up to 64 characters)",
            name=name,
        )
    return name


class ReviewStore:
    """The review store over one SQLAlchemy engine; the schema is migrated on open."""

    def __init__(self, engine: Engine, *, four_eyes: bool = True, base_dir: Path | None = None) -> None:
        self.engine = engine
        self.four_eyes = four_eyes
        self.base_dir = base_dir.resolve() if base_dir else None
        migrate(engine)
        self._read = sessionmaker(engine, expire_on_commit=False)
        self._write = sessionmaker(engine.execution_options(**WRITE), expire_on_commit=False)
        self._hasher: Any = None
        self._dummy: str | None = None

    @classmethod
    def open(cls, settings: Settings) -> ReviewStore:
        """The store configured by ``settings`` (SQLite under ``<workspace>/.hocvu/`` by default)."""
        return cls(
            make_engine(database_url(settings)), four_eyes=settings.four_eyes, base_dir=settings.workspace
        )

    @classmethod
    def from_url(cls, url: str, *, four_eyes: bool = True, base_dir: Path | None = None) -> ReviewStore:
        """A store on any SQLAlchemy URL."""
        return cls(make_engine(url), four_eyes=four_eyes, base_dir=base_dir)

    def close(self) -> None:
        """Release the engine's connections."""
        self.engine.dispose()

    def __enter__(self) -> ReviewStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transactions ----------------------------------------------------------------------------
    @contextmanager
    def _tx(self) -> Iterator[Session]:
        """A write transaction; a concurrent update becomes ConflictError and nothing is kept."""
        try:
            with self._write() as s, s.begin():
                yield s
        except StaleDataError as exc:
            raise ConflictError(
                "someone else changed this lesson at the same moment; "
                "reload it and try again (nothing was changed)"
            ) from exc
        except OperationalError as exc:
            if "locked" in str(exc).lower():
                raise ConflictError("the review store is busy (locked by another writer); try again") from exc
            raise ReviewError("the review store failed: {orig}", orig=exc.orig) from exc
        except IntegrityError as exc:
            raise ConflictError(
                "someone else made the same change first ({orig}); reload and try again",
                orig=exc.orig,
            ) from exc

    @contextmanager
    def _ro(self) -> Iterator[Session]:
        try:
            with self._read() as s:
                yield s
        except SQLAlchemyError as exc:
            raise ReviewError("the review store failed: {exc}", exc=exc) from exc

    # -- users -----------------------------------------------------------------------------------
    def _hash(self, password: str) -> str:
        from argon2 import PasswordHasher

        if len(password) < MIN_PASSWORD:
            raise ReviewError("the password is too short: use at least {min_password} characters",
                              min_password=MIN_PASSWORD)
        if self._hasher is None:
            self._hasher = PasswordHasher()
        return self._hasher.hash(password)  # type: ignore[no-any-return]

    @staticmethod
    def _user(row: UserRow) -> User:
        return User(row.name, row.role, bool(row.password_hash), row.created_at, bool(row.disabled))

    def _user_row(self, s: Session, name: str) -> UserRow:
        row = s.scalar(select(UserRow).where(UserRow.name == name))
        if row is None:
            names = s.scalars(select(UserRow.name).order_by(UserRow.name)).all()
            raise NotFoundError.unknown("user", name, names)
        return row

    def _authorize(self, s: Session, name: str, action: wf.Action | str) -> UserRow | None:
        if not (name or "").strip():
            raise ReviewError("no user given; pass --as NAME or set HOCVU_USER")
        row = s.scalar(select(UserRow).where(UserRow.name == name))
        if row is not None and row.disabled:
            raise PermissionError_("{name!r} is disabled; an admin can enable them with `hocvu users enable`",
                                   name=name)
        wf.check_permission(name, row.role if row else None, action)
        return row

    def add_user(self, name: str, role: str, password: str | None = None, *, by: str | None = None) -> User:
        """Register ``name`` with ``role``; ``by`` (when given) must be an admin."""
        check_user_name(name)
        if role not in wf.ROLES:
            raise NotFoundError.unknown("role", role, wf.ROLES)
        hashed = self._hash(password) if password else None
        with self._tx() as s:
            if by is not None:
                self._authorize(s, by, "manage_users")
            same = s.scalar(select(UserRow.name).where(func.lower(UserRow.name) == name.lower()))
            if same is not None:
                raise ReviewError(
                    "user {same!r} already exists (names are the same whatever their case); change the "
                    "password with `hocvu users set-password`",
                    same=same,
                )
            row = UserRow(name=name, role=role, password_hash=hashed)
            s.add(row)
            s.flush()
            return self._user(row)

    def get_user(self, name: str) -> User:
        """The user ``name``; NotFoundError listing the users otherwise."""
        with self._ro() as s:
            return self._user(self._user_row(s, name))

    def find_user(self, name: str) -> User | None:
        """The user ``name`` or None."""
        with self._ro() as s:
            row = s.scalar(select(UserRow).where(UserRow.name == name))
            return self._user(row) if row else None

    def list_users(self) -> list[User]:
        """Every user, by name."""
        with self._ro() as s:
            return [self._user(r) for r in s.scalars(select(UserRow).order_by(UserRow.name))]

    def set_password(self, name: str, password: str | None, *, by: str | None = None) -> None:
        """Set (or with None, remove) a user's password."""
        hashed = self._hash(password) if password else None
        with self._tx() as s:
            if by is not None and by != name:
                self._authorize(s, by, "manage_users")
            row = self._user_row(s, name)
            row.password_hash, row.updated_at = hashed, utcnow()
            end_sessions(s, name)  # a new password signs every browser out

    def set_role(self, name: str, role: str, *, by: str | None = None) -> User:
        """Change a user's role."""
        if role not in wf.ROLES:
            raise NotFoundError.unknown("role", role, wf.ROLES)
        with self._tx() as s:
            if by is not None:
                self._authorize(s, by, "manage_users")
            row = self._user_row(s, name)
            if row.role == wf.Role.ADMIN and role != wf.Role.ADMIN:
                self._keep_an_admin(s, name, N_("change the role of"))
            if row.role != role:
                end_sessions(s, name)
            row.role, row.updated_at = role, utcnow()
            return self._user(row)

    @staticmethod
    def _keep_an_admin(s: Session, name: str, what: str) -> None:
        admins = s.scalar(select(func.count()).select_from(UserRow).where(
            UserRow.role == wf.Role.ADMIN, UserRow.disabled.is_(False), UserRow.name != name))
        if not admins:
            raise ReviewError("cannot {what} {name!r}: they are the last admin; make another admin first",
                              what=Message(what), name=name)

    def set_disabled(self, name: str, disabled: bool, *, by: str | None = None) -> User:
        """Disable a user (signed out everywhere, no sign-in, no API token) or enable them again."""
        with self._tx() as s:
            if by is not None:
                self._authorize(s, by, "manage_users")
            row = self._user_row(s, name)
            if disabled and row.role == wf.Role.ADMIN:
                self._keep_an_admin(s, name, N_("disable"))
            row.disabled, row.updated_at = disabled, utcnow()
            end_sessions(s, name)
            return self._user(row)

    def remove_user(self, name: str, *, by: str | None = None) -> None:
        """Remove a user; what they did stays in the history under their name."""
        with self._tx() as s:
            if by is not None:
                self._authorize(s, by, "manage_users")
            row = self._user_row(s, name)
            if row.role == wf.Role.ADMIN:
                self._keep_an_admin(s, name, N_("remove"))
            end_sessions(s, name)
            s.delete(row)

    def verify_password(self, name: str, password: str) -> User | None:
        """The user when ``password`` is theirs, else None (unknown user, no password or a mismatch).

        An unknown name costs the same hash as a wrong password, so timing does not reveal who exists.
        """
        from argon2 import PasswordHasher
        from argon2.exceptions import InvalidHashError, VerificationError

        with self._ro() as s:
            row = s.scalar(select(UserRow).where(UserRow.name == name))
            hashed = row.password_hash if row else None
            user = self._user(row) if row else None
        if self._hasher is None:
            self._hasher = PasswordHasher()
        hasher = self._hasher
        try:
            hasher.verify(hashed or self._dummy_hash(), password)
        except (VerificationError, InvalidHashError):
            return None
        if not hashed or (user is not None and user.disabled):
            return None
        if hasher.check_needs_rehash(hashed):
            self.set_password(name, password)
        return user

    def _dummy_hash(self) -> str:
        if self._dummy is None:
            self._dummy = self._hasher.hash("hocvu: no such user")
        return self._dummy

    def authorize(self, name: str, action: str) -> User | None:
        """Refuse ``action`` (e.g. 'create', 'approve', 'publish') to ``name`` when the roles say so.

        Returns the user, or None for an unregistered local name (allowed to author and publish only).
        """
        with self._ro() as s:
            row = self._authorize(s, name, action)
            return self._user(row) if row else None

    # -- lessons and versions --------------------------------------------------------------------
    # -- content verification ------------------------------------------------------------------------
    def verify_content(self, framework: str, competence: str, content_hash: str, user: str,
                       note: str = "") -> ContentVerification:
        """Record that ``user`` (a reviewer or admin) checked this version of an offline content entry;
        verifying it again keeps the first record."""
        if not content_hash:
            raise ReviewError("{framework} {competence} has no offline content to verify",
                              framework=framework, competence=competence)
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

    def _rel(self, path: Path) -> str:
        p = Path(path).resolve()
        if self.base_dir is not None and p.is_relative_to(self.base_dir):
            return p.relative_to(self.base_dir).as_posix()
        return str(p)

    def _abs(self, stored: str) -> Path:
        p = Path(stored)
        return p if p.is_absolute() or self.base_dir is None else self.base_dir / p

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

    def _lesson_row(self, s: Session, lesson_id: str) -> LessonRow:
        row = s.get(LessonRow, lesson_id)
        if row is None:
            from difflib import get_close_matches

            ids = s.scalars(select(LessonRow.id)).all()
            near = get_close_matches(lesson_id, ids, n=3, cutoff=0.6)
            if near:
                raise NotFoundError("no lesson {lesson_id!r} in the review store; did you mean {near}?",
                                    lesson_id=lesson_id, near=", ".join(near))
            raise NotFoundError("no lesson {lesson_id!r} in the review store; see `hocvu review list`",
                                lesson_id=lesson_id)
        return row

    def _last_event(self, s: Session, lesson_id: str) -> EventRow | None:
        return s.scalar(
            select(EventRow).where(EventRow.lesson_id == lesson_id).order_by(EventRow.id.desc()).limit(1)
        )

    def _expect(
        self, s: Session, row: LessonRow, expected_version: int | None, version: int | None = None
    ) -> None:
        """ConflictError when the lesson changed since the caller read it."""
        if expected_version is not None and row.row_version != expected_version:
            last = self._last_event(s, row.id)
            what = (
                Message(_past(last.action), actor=last.actor, version=last.version,
                        when=last.created_at.strftime("%Y-%m-%d %H:%M"))
                if last
                else Message("it changed")
            )
            raise ConflictError(
                "{id} changed since you loaded it: {what}; "
                "nothing was changed — reload it and decide again",
                id=row.id, what=what,
            )
        if version is not None and version != row.current_version:
            v = s.scalar(
                select(VersionRow).where(
                    VersionRow.lesson_id == row.id, VersionRow.number == row.current_version
                )
            )
            raise ConflictError(
                "you reviewed {id} version {version}, but version {current_version} by {author} "
                "is current now; review that one (nothing was changed)",
                id=row.id, version=version, current_version=row.current_version, author=v.author if v else "?",
            )

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

    def _decide(
        self,
        lesson_id: str,
        user: str,
        action: wf.Action,
        comment: str | None,
        expected_version: int | None,
        version: int | None,
        section: str | None = None,
        resolve_open: bool = False,
    ) -> LessonState:
        wf.require_comment(action, comment)
        if section is not None and section not in SECTIONS:
            raise NotFoundError.unknown("section", section, SECTIONS)
        with self._tx() as s:
            row = self._lesson_row(s, lesson_id)
            self._expect(s, row, expected_version, version)
            self._authorize(s, user, action)
            current = self._version_row(s, lesson_id, row.current_version)
            new = wf.next_status(row.status, action, lesson_id=lesson_id, version=row.current_version)
            now = utcnow()
            if action == wf.Action.APPROVE:
                events = list(s.scalars(select(EventRow).where(EventRow.lesson_id == lesson_id)
                                        .order_by(EventRow.id)))
                wf.check_four_eyes(user, self._since_approval(s, current, events), enabled=self.four_eyes,
                                   lesson_id=lesson_id, version=current.number)
                still_open = _open_comments(events)
                if still_open and not resolve_open:
                    raise ReviewError(
                        "{n_still_open} comment(s) on {lesson_id} are still open; resolve them first, or "
                        "approve with --resolve-open (API: \"resolve_open\": true) to mark them resolved",
                        n_still_open=len(still_open), lesson_id=lesson_id,
                    )
                s.add_all(EventRow(lesson_id=lesson_id, version=e.version, action=wf.Action.RESOLVE, actor=user,
                                   created_at=now, ref_event_id=e.id) for e in still_open)
                if (
                    lesson_content_hash(Lesson.model_validate_json(current.lesson_json))
                    != current.content_hash
                ):
                    raise ReviewError(
                        "{lesson_id} version {number} does not match its recorded content "
                        "hash: the store was altered outside hocvu; do not approve it",
                        lesson_id=lesson_id, number=current.number,
                    )
            s.add(
                EventRow(
                    lesson_id=lesson_id,
                    version=current.number,
                    action=action,
                    actor=user,
                    created_at=now,
                    from_status=row.status,
                    to_status=new,
                    comment=(comment or "").strip() or None,
                    section=section,
                    content_hash=current.content_hash,
                )
            )
            row.status, row.updated_at = new, now
        return self.lesson_state(lesson_id)

    def _since_approval(self, s: Session, current: VersionRow, events: list[EventRow]) -> dict[int, str]:
        """Authors of ``current`` and its parents back to (not including) the last approved version."""
        approved = {e.version for e in events if e.action == wf.Action.APPROVE}
        out: dict[int, str] = {}
        row: VersionRow | None = current
        while row is not None and row.number not in approved and row.number not in out:
            out[row.number] = row.author
            row = (self._version_row(s, current.lesson_id, row.parent_version)
                   if row.parent_version else None)
        return out

    def submit(self, lesson_id: str, user: str, expected_version: int | None = None) -> LessonState:
        """Send a version kept as a draft to review."""
        return self._decide(lesson_id, user, wf.Action.SUBMIT, None, expected_version, None)

    def approve(
        self,
        lesson_id: str,
        user: str,
        comment: str | None = None,
        expected_version: int | None = None,
        *,
        version: int | None = None,
        resolve_open: bool = False,
    ) -> LessonState:
        """Approve the current version (bound to its content hash); four-eyes unless turned off: nobody
        approves text they wrote since the last approval.

        ``expected_version`` is the ``row_version`` the reviewer saw (ConflictError if anything changed
        since); ``version`` the version number reviewed (ConflictError if it is no longer current). Open
        comments refuse the approval unless ``resolve_open`` marks them resolved with it.
        """
        return self._decide(lesson_id, user, wf.Action.APPROVE, comment, expected_version, version,
                            resolve_open=resolve_open)

    def request_changes(
        self,
        lesson_id: str,
        user: str,
        comment: str,
        expected_version: int | None = None,
        *,
        version: int | None = None,
        section: str | None = None,
    ) -> LessonState:
        """Send the current version back with a comment (required), optionally about one section."""
        return self._decide(
            lesson_id, user, wf.Action.REQUEST_CHANGES, comment, expected_version, version, section
        )

    def reject(
        self,
        lesson_id: str,
        user: str,
        comment: str,
        expected_version: int | None = None,
        *,
        version: int | None = None,
    ) -> LessonState:
        """Reject the current version with a comment (required); the lesson can only be drafted anew."""
        return self._decide(lesson_id, user, wf.Action.REJECT, comment, expected_version, version)

    def add_comment(
        self, lesson_id: str, user: str, text: str, *, section: str | None = None, version: int | None = None
    ) -> Comment:
        """A comment that changes no status (open until resolved or the lesson is approved)."""
        if not text.strip():
            raise ReviewError("the comment is empty")
        if section is not None and section not in SECTIONS:
            raise NotFoundError.unknown("section", section, SECTIONS)
        with self._tx() as s:
            row = self._lesson_row(s, lesson_id)
            self._authorize(s, user, wf.Action.COMMENT)
            n = version or row.current_version
            self._version_row(s, lesson_id, n)
            ev = EventRow(
                lesson_id=lesson_id,
                version=n,
                action=wf.Action.COMMENT,
                actor=user,
                created_at=utcnow(),
                comment=text.strip(),
                section=section,
            )
            s.add(ev)
            s.flush()
            return Comment(ev.id, lesson_id, n, user, ev.action, text.strip(), section, ev.created_at, True)

    def resolve_comment(self, lesson_id: str, comment_id: int, user: str) -> None:
        """Mark a comment resolved."""
        with self._tx() as s:
            self._lesson_row(s, lesson_id)
            self._authorize(s, user, wf.Action.RESOLVE)
            ev = s.get(EventRow, comment_id)
            if ev is None or ev.lesson_id != lesson_id or ev.action not in COMMENT_ACTIONS or not ev.comment:
                raise NotFoundError("no comment {comment_id} on {lesson_id}",
                                    comment_id=comment_id, lesson_id=lesson_id)
            s.add(
                EventRow(
                    lesson_id=lesson_id,
                    version=ev.version,
                    action=wf.Action.RESOLVE,
                    actor=user,
                    created_at=utcnow(),
                    ref_event_id=comment_id,
                )
            )

    # -- reads -----------------------------------------------------------------------------------
    def _version_row(self, s: Session, lesson_id: str, n: int) -> VersionRow:
        row = s.scalar(select(VersionRow).where(VersionRow.lesson_id == lesson_id, VersionRow.number == n))
        if row is None:
            have = s.scalars(
                select(VersionRow.number).where(VersionRow.lesson_id == lesson_id).order_by(VersionRow.number)
            ).all()
            raise NotFoundError.unknown(Message("version of {lesson_id}", lesson_id=lesson_id), n, have)
        return row

    def _version(self, row: VersionRow, statuses: dict[int, str], current: int) -> VersionRecord:
        arts = {
            name: Artifact(name, self._abs(a["path"]), a["sha256"], a["size"])
            for name, a in json.loads(row.artifacts_json).items()
        }
        checks = [CheckResult(**c) for c in json.loads(row.checks_json)]
        status = statuses.get(row.number, "")
        if row.number != current and status in (wf.Status.DRAFT, wf.Status.IN_REVIEW):
            status = "superseded"
        return VersionRecord(
            lesson_id=row.lesson_id,
            number=row.number,
            kind=row.kind,
            parent_version=row.parent_version,
            author=row.author,
            created_at=row.created_at,
            content_hash=row.content_hash,
            lesson_json=row.lesson_json,
            checks=checks,
            artifacts=arts,
            backend=row.backend,
            model=row.model,
            prompt_hash=row.prompt_hash,
            framework_hash=row.framework_hash,
            group_hash=row.group_hash,
            library_hash=row.library_hash,
            sources_hash=row.sources_hash,
            folder=self._abs(row.folder) if row.folder else None,
            cache_key=row.cache_key,
            status=status,
            current=row.number == current,
        )

    @staticmethod
    def _statuses(s: Session, lesson_id: str) -> dict[int, str]:
        out: dict[int, str] = {}
        for v, st in s.execute(
            select(EventRow.version, EventRow.to_status)
            .where(EventRow.lesson_id == lesson_id, EventRow.to_status.is_not(None))
            .order_by(EventRow.id)
        ):
            out[v] = st or ""
        return out

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

    @staticmethod
    def _event(r: EventRow) -> Event:
        return Event(
            r.id,
            r.lesson_id,
            r.version,
            r.action,
            r.actor,
            r.created_at,
            r.from_status,
            r.to_status,
            r.comment,
            r.section,
            r.content_hash,
            r.ref_event_id,
        )

    def history(self, lesson_id: str) -> list[Event]:
        """Every event of a lesson, oldest first."""
        with self._ro() as s:
            self._lesson_row(s, lesson_id)
            rows = s.scalars(select(EventRow).where(EventRow.lesson_id == lesson_id).order_by(EventRow.id))
            return [self._event(r) for r in rows]

    def comments(self, lesson_id: str, open_only: bool = True) -> list[Comment]:
        """Reviewers' comments, oldest first; open ones are neither resolved nor followed by an approval."""
        events = self.history(lesson_id)
        resolved = {e.ref_event_id for e in events if e.action == wf.Action.RESOLVE}
        approvals = [e.id for e in events if e.action == wf.Action.APPROVE]
        out = []
        for e in events:
            if e.action in COMMENT_ACTIONS and e.comment:
                is_open = e.id not in resolved and not any(a > e.id for a in approvals)
                if is_open or not open_only:
                    out.append(
                        Comment(
                            e.id,
                            e.lesson_id,
                            e.version,
                            e.actor,
                            e.action,
                            e.comment,
                            e.section,
                            e.created_at,
                            is_open,
                        )
                    )
        return out

    def _state(self, row: LessonRow, approval: tuple[str, Any] | None = None) -> LessonState:
        return LessonState(
            id=row.id,
            framework=row.framework,
            competence=row.competence,
            level=row.level,
            group=row.target_group,
            language=row.language,
            title=row.title,
            status=row.status,
            current_version=row.current_version,
            row_version=row.row_version,
            created_at=row.created_at,
            updated_at=row.updated_at,
            approved_by=approval[0] if approval else None,
            approved_at=approval[1] if approval else None,
        )

    @staticmethod
    def _approvals(s: Session, lesson_ids: list[str]) -> dict[tuple[str, int], tuple[str, Any]]:
        out: dict[tuple[str, int], tuple[str, Any]] = {}
        for chunk in range(0, len(lesson_ids), 500):
            q = (
                select(EventRow)
                .where(
                    EventRow.action == wf.Action.APPROVE,
                    EventRow.lesson_id.in_(lesson_ids[chunk : chunk + 500]),
                )
                .order_by(EventRow.id)
            )
            for e in s.scalars(q):
                out[(e.lesson_id, e.version)] = (e.actor, e.created_at)
        return out

    def lesson_state(self, lesson_id: str, library: Library | None = None) -> LessonState:
        """Where a lesson stands (with outdated reasons when ``library`` is given)."""
        with self._ro() as s:
            row = self._lesson_row(s, lesson_id)
            approval = self._approvals(s, [lesson_id]).get((lesson_id, row.current_version))
            state = self._state(row, approval if row.status in wf.PUBLISHABLE else None)
            if library is not None:
                from generator.review.outdated import OutdatedChecker

                v = self._version(
                    self._version_row(s, lesson_id, row.current_version), {}, row.current_version
                )
                state.outdated = OutdatedChecker(library).reasons(
                    v, row.framework, row.competence, row.target_group
                )
            return state

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

    # -- releases --------------------------------------------------------------------------------
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
                    "release {name!r} already exists (made by {created_by} on "
                    "{created_at:%Y-%m-%d %H:%M} UTC); releases are immutable, choose a new name",
                    name=name, created_by=old.created_by, created_at=old.created_at,
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
                        "{lesson_id} changed while release {name} was built (now version "
                        "{current_version}, {status}); publish again",
                        lesson_id=item.lesson_id, name=name, current_version=row.current_version, status=row.status,
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


def _open_comments(events: list[EventRow]) -> list[EventRow]:
    """Comments neither resolved nor followed by an approval."""
    resolved = {e.ref_event_id for e in events if e.action == wf.Action.RESOLVE}
    approvals = [e.id for e in events if e.action == wf.Action.APPROVE]
    return [e for e in events if e.action in COMMENT_ACTIONS and e.comment and e.id not in resolved
            and not any(a > e.id for a in approvals)]


def _past(action: str) -> str:
    """What the last event did, as a sentence with {actor}, {version} and {when}."""
    return {
        "create": N_("{actor} made version {version} at {when} UTC"),
        "approve": N_("{actor} approved version {version} at {when} UTC"),
        "request_changes": N_("{actor} requested changes on version {version} at {when} UTC"),
        "reject": N_("{actor} rejected version {version} at {when} UTC"),
        "publish": N_("{actor} published version {version} at {when} UTC"),
        "submit": N_("{actor} submitted version {version} at {when} UTC"),
        "comment": N_("{actor} commented on version {version} at {when} UTC"),
        "resolve": N_("{actor} resolved a comment on version {version} at {when} UTC"),
    }.get(action, N_("{actor} changed version {version} at {when} UTC"))


def default_author(settings: Settings) -> str:
    """Who is acting when no ``--as`` is given: HOCVU_USER (settings.user), else the OS user name."""
    name = getattr(settings, "user", None)
    if name:
        return str(name)
    import getpass

    try:
        return getpass.getuser()
    except Exception:  # no user database entry (some containers)
        return "unknown"
