"""Review decisions, comments and the event history of a lesson."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from generator.errors import (
    NotFoundError,
    ReviewError,
)
from generator.review import workflow as wf
from generator.review.models import (
    EventRow,
    VersionRow,
    utcnow,
)
from generator.review.records import (
    Comment,
    Event,
    LessonState,
    lesson_content_hash,
    stored_content_hash,
)
from generator.review.store.core import COMMENT_ACTIONS, StoreCore, open_comments

if TYPE_CHECKING:
    pass


def _check_section(section: str | None) -> None:
    if section is not None:
        from generator.lesson import SECTIONS  # the lesson models: only when a section is named

        if section not in SECTIONS:
            raise NotFoundError.unknown("section", section, SECTIONS)

class DecisionsPart(StoreCore):
    """Submit, approve, request changes, reject; comments and the history."""

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
        _check_section(section)
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
                still_open = open_comments(events)
                if still_open and not resolve_open:
                    raise ReviewError(
                        "{n_still_open} comment(s) on {lesson_id} are still open; resolve them first, or "
                        "approve with --resolve-open (API: \"resolve_open\": true) to mark them resolved",
                        n_still_open=len(still_open), lesson_id=lesson_id,
                    )
                s.add_all(EventRow(lesson_id=lesson_id, version=e.version, action=wf.Action.RESOLVE, actor=user,
                                   created_at=now, ref_event_id=e.id) for e in still_open)
                if not self._content_intact(current):
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

    @staticmethod
    def _content_intact(current: VersionRow) -> bool:
        """True when the stored lesson still has the content hash recorded with it (the stored text as it is
        first, which needs no lesson models; then as the models read it, for versions recorded before a
        field was added)."""
        if stored_content_hash(current.lesson_json) == current.content_hash:
            return True
        from generator.lesson import Lesson

        return lesson_content_hash(Lesson.model_validate_json(current.lesson_json)) == current.content_hash

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
        _check_section(section)
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
