"""The job queue: one owner for a job row's whole life, over the review store's engine.

States::

    queued ──claim──▶ running ──finish──▶ done | failed
      │                  │ cancel (flag; the worker stops between lessons)
      └──cancel──▶ cancelled ◀──┘
    running, its worker silent for ``stale_after`` seconds ──claim──▶ running (another worker resumes it)

Claims are atomic on SQLite and PostgreSQL alike: the candidate row is updated only while it still is
what was read (``UPDATE … WHERE id = :id AND state = :state AND heartbeat_at IS :seen``), and a claim
that loses the race looks again. A resumed job repeats no finished lesson: batch builds are keyed.
"""

from __future__ import annotations

import builtins
import json
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from generator.batch.spec import BatchSpec
from generator.errors import NotFoundError, ReviewError, TransitionError
from generator.i18n import N_, Message
from generator.review.db import WRITE
from generator.review.models import JobRow, WorkspaceEventRow, utcnow

if TYPE_CHECKING:
    from sqlalchemy import Engine

STATES = ("queued", "running", "done", "failed", "cancelled")
FINAL = (N_("done"), N_("failed"), N_("cancelled"))


@dataclass
class Job:
    """A job as read from the store."""

    id: int
    name: str
    spec: BatchSpec
    executor: str
    state: str
    cancel_requested: bool
    progress: dict[str, Any]
    report: dict[str, Any] | None
    error: str | None
    worker: str | None
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    heartbeat_at: datetime | None

    @property
    def final(self) -> bool:
        """True once the job is done, failed or cancelled."""
        return self.state in FINAL

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the progress endpoint)."""
        return {"id": self.id, "name": self.name, "state": self.state, "executor": self.executor,
                "cancel_requested": self.cancel_requested, "progress": self.progress, "error": self.error,
                "created_by": self.created_by, "final": self.final,
                "totals": (self.report or {}).get("totals")}


@dataclass
class WorkspaceEvent:
    """A workspace change made from the web app."""

    kind: str
    name: str
    actor: str
    at: datetime
    detail: str


def worker_name() -> str:
    """host:pid of this process, recorded on the jobs it claims."""
    return f"{socket.gethostname()}:{os.getpid()}"


class JobQueue:
    """Enqueue, claim, report progress, cancel and finish jobs in the review store's database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._read = sessionmaker(engine, expire_on_commit=False)
        self._write = sessionmaker(engine.execution_options(**WRITE), expire_on_commit=False)

    @contextmanager
    def _tx(self) -> Iterator[Session]:
        try:
            with self._write() as s, s.begin():
                yield s
        except SQLAlchemyError as exc:
            raise ReviewError("the job queue failed: {kind}: {problem}", kind=exc.__class__.__name__,
                              problem=exc) from exc

    @contextmanager
    def _ro(self) -> Iterator[Session]:
        try:
            with self._read() as s:
                yield s
        except SQLAlchemyError as exc:
            raise ReviewError("the job queue failed: {kind}: {problem}", kind=exc.__class__.__name__,
                              problem=exc) from exc

    @staticmethod
    def _job(row: JobRow) -> Job:
        return Job(row.id, row.name, BatchSpec.model_validate_json(row.spec_json), row.executor, row.state,
                   bool(row.cancel_requested), json.loads(row.progress_json or "{}"),
                   json.loads(row.report_json) if row.report_json else None, row.error, row.worker,
                   row.created_by, row.created_at, row.started_at, row.finished_at, row.heartbeat_at)

    # -- the web side ----------------------------------------------------------------------------
    def enqueue(self, spec: BatchSpec, by: str, executor: str = "local", plan: dict[str, Any] | None = None) -> Job:
        """Queue a job for ``spec``; a worker picks it up. ``plan`` (counts) seeds its progress."""
        progress = {"total": 0, "finished": 0, "stages": {}, "failed": []} | (plan or {})
        with self._tx() as s:
            row = JobRow(name=spec.name, spec_json=spec.model_dump_json(), executor=executor, state="queued",
                         progress_json=json.dumps(progress, ensure_ascii=False), created_by=by)
            s.add(row)
            s.flush()
            return self._job(row)

    def get(self, job_id: int) -> Job:
        """The job ``job_id``; NotFoundError when there is none."""
        with self._ro() as s:
            row = s.get(JobRow, job_id)
            if row is None:
                raise NotFoundError("no job {id}; the job history lists them", id=job_id)
            return self._job(row)

    def list(self, limit: int = 100, by: str | None = None) -> list[Job]:
        """The newest jobs first."""
        with self._ro() as s:
            q = select(JobRow).order_by(JobRow.id.desc()).limit(limit)
            if by:
                q = q.where(JobRow.created_by == by)
            return [self._job(r) for r in s.scalars(q)]

    def cancel(self, job_id: int, by: str) -> Job:
        """Cancel a queued job at once; ask a running one to stop (its worker stops between lessons,
        keeping every finished version and leaving no half one). TransitionError once it has ended."""
        with self._tx() as s:
            row = s.get(JobRow, job_id)
            if row is None:
                raise NotFoundError("no job {id}; the job history lists them", id=job_id)
            if row.state in FINAL:
                raise TransitionError("job {id} has already ended ({state}); nothing to cancel", id=job_id,
                                      state=Message(row.state))
            if row.state == "queued":
                row.state, row.finished_at = "cancelled", utcnow()
                row.error = f"cancelled by {by} before it started"
            else:
                row.cancel_requested = True
                row.error = f"cancelled by {by}"
            return self._job(row)

    # -- the worker side -------------------------------------------------------------------------
    def claim(self, worker: str, executor: str = "local", stale_after: float = 60.0) -> Job | None:
        """Take the oldest queued job of ``executor`` (or a running one whose worker fell silent); None
        when there is none. Atomic: two workers never both get one job."""
        for _ in range(20):
            now = utcnow()
            stale = now - timedelta(seconds=stale_after)
            with self._tx() as s:
                row = s.scalars(
                    select(JobRow).where(JobRow.executor == executor, or_(
                        JobRow.state == "queued",
                        and_(JobRow.state == "running", JobRow.heartbeat_at < stale)))
                    .order_by(JobRow.id).limit(1)).first()
                if row is None:
                    return None
                seen_state, seen_beat = row.state, row.heartbeat_at
                cond = [JobRow.id == row.id, JobRow.state == seen_state,
                        JobRow.heartbeat_at.is_(None) if seen_beat is None else JobRow.heartbeat_at == seen_beat]
                values: dict[str, Any] = {"state": "running", "worker": worker, "heartbeat_at": now}
                if seen_state == "queued":
                    values["started_at"] = now
                done = s.execute(update(JobRow).where(*cond).values(**values)
                                 .execution_options(synchronize_session=False))
                if getattr(done, "rowcount", 0) != 1:  # another worker was faster: look again
                    continue
            return self.get(row.id)
        return None

    def progress(self, job_id: int, progress: dict[str, Any]) -> bool:
        """Record the job's progress and that its worker is alive; returns whether cancel was asked."""
        with self._tx() as s:
            row = s.get(JobRow, job_id)
            if row is None:
                return True
            row.progress_json = json.dumps(progress, ensure_ascii=False)
            row.heartbeat_at = utcnow()
            return bool(row.cancel_requested)

    def cancel_requested(self, job_id: int) -> bool:
        """Whether someone asked the job to stop."""
        with self._ro() as s:
            row = s.get(JobRow, job_id)
            return row is None or bool(row.cancel_requested)

    def finish(self, job_id: int, state: str, report: dict[str, Any] | None = None, error: str | None = None,
               progress: dict[str, Any] | None = None) -> Job:
        """End the job as ``state`` (done, failed, cancelled) with its report."""
        if state not in FINAL:
            raise ValueError(f"a job ends as one of {FINAL}, not {state!r}")
        with self._tx() as s:
            row = s.get(JobRow, job_id)
            if row is None:
                raise NotFoundError("no job {id}", id=job_id)
            row.state, row.finished_at, row.heartbeat_at = state, utcnow(), utcnow()
            if report is not None:
                row.report_json = json.dumps(report, ensure_ascii=False)
            if progress is not None:
                row.progress_json = json.dumps(progress, ensure_ascii=False)
            if error is not None or state != "cancelled":
                row.error = error
            return self._job(row)

    def release(self, job_id: int) -> None:
        """Put a running job back in the queue (its worker is stopping); the next worker resumes it."""
        with self._tx() as s:
            row = s.get(JobRow, job_id)
            if row is not None and row.state == "running":
                row.state, row.worker, row.heartbeat_at = "queued", None, None

    # -- workspace changes -----------------------------------------------------------------------
    def record_change(self, kind: str, name: str, actor: str, detail: str = "") -> None:
        """Record a workspace change made from the web app (who, when)."""
        with self._tx() as s:
            s.add(WorkspaceEventRow(kind=kind, name=name, actor=actor, detail=detail))

    def changes(self, kind: str | None = None, limit: int = 50) -> builtins.list[WorkspaceEvent]:
        """The newest workspace changes first."""
        with self._ro() as s:
            q = select(WorkspaceEventRow).order_by(WorkspaceEventRow.id.desc()).limit(limit)
            if kind:
                q = q.where(WorkspaceEventRow.kind == kind)
            return [WorkspaceEvent(r.kind, r.name, r.actor, r.at, r.detail) for r in s.scalars(q)]
