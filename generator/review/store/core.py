"""The store's core: engine and transactions, and the reads every part shares."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from generator.errors import (
    ConflictError,
    HocvuError,
    NotFoundError,
    PermissionError_,
    ReviewError,
)
from generator.i18n import N_, Message
from generator.review import workflow as wf
from generator.review.db import WRITE, database_url, make_engine, migrate
from generator.review.health import store_error
from generator.review.models import (
    EventRow,
    LessonRow,
    UserRow,
    VersionRow,
)
from generator.review.records import (
    Artifact,
    LessonState,
    User,
    VersionRecord,
)

if TYPE_CHECKING:
    from generator.config import Settings
    from generator.frameworks import Library

COMMENT_ACTIONS = (wf.Action.REQUEST_CHANGES, wf.Action.REJECT, wf.Action.COMMENT)
#: Per database, (when read, newest event id) as lists last read it (see lists.py); shared by every
#: store of the process, so a write through any of them makes the next list read afresh.
MARKERS: dict[str, tuple[float, int]] = {}


def open_comments(events: list[EventRow]) -> list[EventRow]:
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


class StoreCore:
    """The engine, its transactions and the row lookups the other parts build on."""

    def __init__(self, engine: Engine, *, four_eyes: bool = True, base_dir: Path | None = None) -> None:
        self.engine = engine
        self.four_eyes = four_eyes
        self.base_dir = base_dir.resolve() if base_dir else None
        migrate(engine)
        self._read = sessionmaker(engine, expire_on_commit=False)
        self._write = sessionmaker(engine.execution_options(**WRITE), expire_on_commit=False)
        self._hasher: Any = None
        self._dummy: str | None = None
        self._db = engine.url.render_as_string(hide_password=True)

    @classmethod
    def open(cls, settings: Settings) -> Self:
        """The store configured by ``settings`` (SQLite under ``<workspace>/.hocvu/`` by default)."""
        from generator.review.health import guard_open

        engine = make_engine(database_url(settings))
        guard_open(settings, engine)  # an empty or damaged store is never taken for a new one
        return cls(engine, four_eyes=settings.four_eyes, base_dir=settings.workspace)

    @classmethod
    def from_url(cls, url: str, *, four_eyes: bool = True, base_dir: Path | None = None) -> Self:
        """A store on any SQLAlchemy URL."""
        return cls(make_engine(url), four_eyes=four_eyes, base_dir=base_dir)

    def close(self) -> None:
        """Release the engine's connections."""
        self.engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _tx(self) -> Iterator[Session]:
        """A write transaction; a concurrent update becomes ConflictError and nothing is kept."""
        try:
            with self._write() as s, s.begin():
                yield s
            MARKERS.pop(self._db, None)  # this process changed the store: its next list reads afresh
        except StaleDataError as exc:
            raise ConflictError(
                "someone else changed this lesson at the same moment; "
                "reload it and try again (nothing was changed)"
            ) from exc
        except OperationalError as exc:
            if "locked" in str(exc).lower():
                raise ConflictError("the review store is busy (locked by another writer); try again") from exc
            raise store_error(exc) from exc
        except IntegrityError as exc:
            raise ConflictError(
                "someone else made the same change first ({orig}); reload and try again",
                orig=exc.orig,
            ) from exc
        except HocvuError:
            raise
        except (SQLAlchemyError, ValueError, KeyError, TypeError) as exc:  # a damaged file, a row that does not parse
            raise store_error(exc) from exc

    @contextmanager
    def _ro(self) -> Iterator[Session]:
        try:
            with self._read() as s:
                yield s
        except HocvuError:
            raise
        except (SQLAlchemyError, ValueError, KeyError, TypeError) as exc:  # a damaged file, a row that does not parse
            raise store_error(exc) from exc

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

    def _rel(self, path: Path) -> str:
        p = Path(path).resolve()
        if self.base_dir is not None and p.is_relative_to(self.base_dir):
            return p.relative_to(self.base_dir).as_posix()
        return str(p)

    def _abs(self, stored: str) -> Path:
        p = Path(stored)
        return p if p.is_absolute() or self.base_dir is None else self.base_dir / p

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
        from generator.drafting.checks import CheckResult  # the lesson models: only for a version read

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

    def _state(self, row: Any, approval: tuple[str, Any] | None = None) -> LessonState:
        """A LessonState from a lessons row (or a row of its shown columns)."""
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
            author=row.author,
            checks_passed=bool(row.checks_passed),
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
