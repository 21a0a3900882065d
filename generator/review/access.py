"""Who may come in, and for how long: counted sign-ins and server-side sessions, in the store.

Sign-in failures are rows in the store, so every worker process sees them and a restart forgets nothing.
An attempt is counted *before* its password is checked, inside one write transaction that first reads
the count, so parallel guesses cannot all slip under the limit. Past the limit an account is slowed down
(each further try waits twice as long as the last, up to the window), never locked for everyone; one
address gets a much larger allowance, so a school or ward office behind one address is not locked out
by a single forgetful user.

A session is a random id kept in the (signed) cookie and, hashed, in the store: signing out deletes it;
a password change, a role change, disabling or removing the user, and "sign out everywhere" delete all
of that user's sessions. A session ends after ``session_idle_minutes`` without use and, however busy,
``session_hours`` after sign-in.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, delete, func, select, text

from generator.review.models import SessionRow, SignInFailureRow, UserRow, utcnow

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from generator.config import Settings
    from generator.review.records import User
    from generator.review.store import ReviewStore

#: Touch a session's last use at most this often (a write per page would serialize every reader).
TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class Limits:
    """Sign-in and session limits (from settings)."""

    max_failures: int = 5
    max_per_address: int = 100
    window_seconds: int = 900
    idle_minutes: int = 120
    hours: int = 12

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        """The limits ``settings`` name."""
        return cls(settings.signin_max_failures, settings.signin_max_per_address, settings.signin_window_seconds,
                   settings.session_idle_minutes, settings.session_hours)


def user_key(name: str) -> str:
    """The name as accounts are compared: NFC, case-folded."""
    import unicodedata

    return unicodedata.normalize("NFC", name.strip()).casefold()[:64]


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def _lock(s: Session) -> None:
    """Serialize sign-in bookkeeping: SQLite's BEGIN IMMEDIATE already does; PostgreSQL locks the table."""
    if s.get_bind().dialect.name == "postgresql":
        s.execute(text("LOCK TABLE sign_in_failures IN SHARE ROW EXCLUSIVE MODE"))


def _wait(times: list[datetime], limit: int, window: timedelta, now: datetime, backoff: bool) -> float:
    """Seconds to wait before the next try, given the failures ``times`` (oldest first) in the window."""
    if len(times) < limit:
        return 0.0
    if not backoff:  # the address allowance: wait until the oldest counted failure leaves the window
        return max(0.0, (times[len(times) - limit] + window - now).total_seconds())
    extra = len(times) - limit  # each failure past the limit doubles the wait: 30 s, 60 s, 120 s …
    wait = min(window.total_seconds(), 30.0 * 2 ** min(extra, 20))
    return max(0.0, (times[-1] + timedelta(seconds=wait) - now).total_seconds())


def begin_sign_in(store: ReviewStore, name: str, address: str, limits: Limits) -> tuple[float, int | None]:
    """Count a sign-in attempt before its password is checked: ``(0, attempt id)`` when it may go on
    (the attempt counts as a failure until ``end_sign_in`` says it succeeded), ``(seconds to wait, None)``
    when the account or the address must wait."""
    now = utcnow()
    window = timedelta(seconds=limits.window_seconds)
    key = user_key(name)
    address = address[:64]
    with store._tx() as s:
        _lock(s)
        s.execute(delete(SignInFailureRow).where(SignInFailureRow.at < now - window))
        mine = list(s.scalars(select(SignInFailureRow.at).where(SignInFailureRow.user_key == key)
                              .order_by(SignInFailureRow.at)))
        there = list(s.scalars(select(SignInFailureRow.at).where(SignInFailureRow.address == address)
                               .order_by(SignInFailureRow.at)))
        wait = max(_wait(mine, limits.max_failures, window, now, True),
                   _wait(there, limits.max_per_address, window, now, False))
        if wait > 0:
            return wait, None
        row = SignInFailureRow(user_key=key, address=address, at=now)
        s.add(row)
        s.flush()
        return 0.0, row.id


def end_sign_in(store: ReviewStore, name: str, attempt: int, ok: bool) -> None:
    """After the password check: a good sign-in forgets the account's failures; a bad one stays counted."""
    if not ok:
        return
    with store._tx() as s:
        s.execute(delete(SignInFailureRow).where((SignInFailureRow.id == attempt)
                                                 | (SignInFailureRow.user_key == user_key(name))))


def open_session(store: ReviewStore, name: str, address: str = "") -> str:
    """A new session for ``name``: returns the id to keep in the cookie (the store keeps its hash)."""
    sid = secrets.token_urlsafe(32)
    now = utcnow()
    with store._tx() as s:
        s.add(SessionRow(id=_hash(sid), user_name=name, created_at=now, last_seen=now, address=address[:64]))
    return sid


#: A session and its user in one query of plain columns (this runs on every page a signed-in user opens).
_SESSION_USER = (select(UserRow.name, UserRow.role, UserRow.password_hash, UserRow.created_at, UserRow.disabled,
                        SessionRow.created_at.label("signed_in"), SessionRow.last_seen)
                 .outerjoin(UserRow, UserRow.name == SessionRow.user_name)
                 .where(SessionRow.id == bindparam("sid")))


def session_user(store: ReviewStore, sid: str, limits: Limits) -> User | None:
    """The user of a live session, or None (unknown, signed out, expired, or the user disabled)."""
    from sqlalchemy.exc import SQLAlchemyError

    from generator.review.health import store_error
    from generator.review.records import User

    if not sid:
        return None
    now = utcnow()
    try:
        with store.engine.connect() as conn:
            row = conn.execute(_SESSION_USER, {"sid": _hash(sid)}).first()
    except SQLAlchemyError as exc:
        raise store_error(exc) from exc
    if row is None:  # unknown, or signed out
        return None
    expired = (now - row.last_seen > timedelta(minutes=limits.idle_minutes)
               or now - row.signed_in > timedelta(hours=limits.hours))
    if row.name is None or row.disabled or expired:  # the user removed or disabled, or the session old
        close_session(store, sid)
        return None
    if now - row.last_seen > TOUCH_EVERY:
        with store._tx() as s:
            live = s.get(SessionRow, _hash(sid))
            if live is not None:
                live.last_seen = now
    return User(row.name, row.role, bool(row.password_hash), row.created_at, bool(row.disabled))


def close_session(store: ReviewStore, sid: str) -> None:
    """Sign one browser out."""
    with store._tx() as s:
        s.execute(delete(SessionRow).where(SessionRow.id == _hash(sid)))


def end_sessions(s: Session, name: str) -> None:
    """Sign ``name`` out everywhere (inside the caller's transaction)."""
    s.execute(delete(SessionRow).where(SessionRow.user_name == name))


def close_sessions(store: ReviewStore, name: str) -> None:
    """Sign ``name`` out everywhere."""
    with store._tx() as s:
        end_sessions(s, name)


def session_count(store: ReviewStore, name: str) -> int:
    """How many live sessions ``name`` has."""
    with store._ro() as s:
        return int(s.scalar(select(func.count()).select_from(SessionRow).where(SessionRow.user_name == name)) or 0)
