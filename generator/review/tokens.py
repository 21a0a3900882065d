"""API tokens: one per user, for the web app's JSON API (``Authorization: Bearer <token>``).

A token is 32 random bytes (``secrets.token_urlsafe``) behind a ``hocvu_`` prefix. Only its sha256 is
kept, in ``users.token_hash`` (as ``sha256:<hex>``), so the token is shown once, when issued, and a
stolen database reveals none. A plain hash is enough here (unlike passwords): the token has 256 bits of
entropy, nothing to guess, and a deterministic hash lets the store find its user with one indexed query.
Issuing a new token replaces the old one; revoking clears it.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from generator.errors import NotFoundError
from generator.review import workflow as wf
from generator.review.db import WRITE
from generator.review.models import UserRow, utcnow
from generator.review.records import User

if TYPE_CHECKING:
    from generator.review.store import ReviewStore

PREFIX = "hocvu_"
_SCHEME = "sha256:"


def token_digest(token: str) -> str:
    """What the store keeps for ``token``: ``sha256:<hex>``."""
    return _SCHEME + hashlib.sha256(token.encode("utf-8")).hexdigest()


def _authorize_admin(s: Session, by: str | None, name: str) -> None:
    """Only an admin may issue or revoke someone else's token (``by`` None: a local operator, the CLI)."""
    if by is None or by == name:
        return
    row = s.scalar(select(UserRow).where(UserRow.name == by))
    wf.check_permission(by, row.role if row else None, "manage_users")


def _user_row(s: Session, name: str) -> UserRow:
    row = s.scalar(select(UserRow).where(UserRow.name == name))
    if row is None:
        names = s.scalars(select(UserRow.name).order_by(UserRow.name)).all()
        raise NotFoundError.unknown("user", name, names)
    return row


def _set(store: ReviewStore, name: str, value: str | None, by: str | None) -> None:
    with Session(store.engine.execution_options(**WRITE)) as s, s.begin():
        _authorize_admin(s, by, name)
        row = _user_row(s, name)
        row.token_hash, row.updated_at = value, utcnow()


def issue_token(store: ReviewStore, name: str, *, by: str | None = None) -> str:
    """A new API token for user ``name`` (replacing any earlier one); returned once, stored only as a hash."""
    token = PREFIX + secrets.token_urlsafe(32)
    _set(store, name, token_digest(token), by)
    return token


def revoke_token(store: ReviewStore, name: str, *, by: str | None = None) -> None:
    """Remove user ``name``'s API token: requests carrying it are refused from now on."""
    _set(store, name, None, by)


def has_token(store: ReviewStore, name: str) -> bool:
    """True when user ``name`` holds an API token."""
    with Session(store.engine) as s:
        return bool(_user_row(s, name).token_hash)


#: The holder of a token, as plain columns (this runs on every API request).
_HOLDER = select(UserRow.name, UserRow.role, UserRow.password_hash, UserRow.created_at, UserRow.disabled).where(
    UserRow.token_hash == bindparam("digest"))


def user_for_token(store: ReviewStore, token: str | None) -> User | None:
    """The user holding ``token``, or None (none given, malformed, or replaced or revoked since)."""
    from sqlalchemy.exc import SQLAlchemyError

    from generator.review.health import store_error

    if not token or not token.startswith(PREFIX) or len(token) > 200:
        return None
    try:
        with store.engine.connect() as conn:
            row = conn.execute(_HOLDER, {"digest": token_digest(token)}).first()
    except SQLAlchemyError as exc:
        raise store_error(exc) from exc
    if row is None or row.disabled:
        return None
    return User(row.name, row.role, bool(row.password_hash), row.created_at)
