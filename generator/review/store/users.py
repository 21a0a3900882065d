"""Users and passwords (argon2): registering, roles, disabling, signing in, permissions."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from generator.errors import (
    NotFoundError,
    ReviewError,
)
from generator.review import workflow as wf
from generator.review.access import end_sessions
from generator.review.models import (
    UserRow,
    utcnow,
)
from generator.review.records import (
    User,
)
from generator.review.store.core import StoreCore

if TYPE_CHECKING:
    from generator.config import Settings

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
MIN_PASSWORD = 8


def check_user_name(name: str) -> str:
    """A user name: letters, digits and . _ @ - (up to 64), starting with a letter or digit."""
    if not _NAME.match(name or ""):
        raise ReviewError(
            f"invalid user name {name!r}: use letters, digits and . _ @ - (up to 64 characters)"
        )
    return name


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


class UsersPart(StoreCore):
    """Users, their roles and passwords."""

    def _hash(self, password: str) -> str:
        from argon2 import PasswordHasher

        if len(password) < MIN_PASSWORD:
            raise ReviewError(f"the password is too short: use at least {MIN_PASSWORD} characters")
        if self._hasher is None:
            self._hasher = PasswordHasher()
        return self._hasher.hash(password)  # type: ignore[no-any-return]

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
                    f"user {same!r} already exists (names are the same whatever their case); change the "
                    "password with `hocvu users set-password`"
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
                self._keep_an_admin(s, name, "change the role of")
            if row.role != role:
                end_sessions(s, name)
            row.role, row.updated_at = role, utcnow()
            return self._user(row)

    @staticmethod
    def _keep_an_admin(s: Session, name: str, what: str) -> None:
        admins = s.scalar(select(func.count()).select_from(UserRow).where(
            UserRow.role == wf.Role.ADMIN, UserRow.disabled.is_(False), UserRow.name != name))
        if not admins:
            raise ReviewError(f"cannot {what} {name!r}: they are the last admin; make another admin first")

    def set_disabled(self, name: str, disabled: bool, *, by: str | None = None) -> User:
        """Disable a user (signed out everywhere, no sign-in, no API token) or enable them again."""
        with self._tx() as s:
            if by is not None:
                self._authorize(s, by, "manage_users")
            row = self._user_row(s, name)
            if disabled and row.role == wf.Role.ADMIN:
                self._keep_an_admin(s, name, "disable")
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
                self._keep_an_admin(s, name, "remove")
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
