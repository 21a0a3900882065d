"""The review store: users, lessons, immutable versions, review events and releases.

``ReviewStore`` is the one object the CLI, the web app and batch builds use to record and move lessons
through review. Every rule of the workflow (``workflow.py``) is enforced here, inside the transaction
that makes the change, so no caller can skip one. Reads return plain records (``records.py``).

The class is composed of one part per concern, each in its own module:

    core.py        engine, transactions, row lookups and the one-lesson read every part shares
    users.py       users, roles, passwords, permissions
    content.py     verification of offline content entries
    versions.py    recording new versions, reading versions back
    decisions.py   submit, approve, request changes, reject; comments and the event history
    lists.py       lessons matching filters, counts per status
    releases.py    immutable releases
    review_store.py  the class made of these parts

``fastread.py`` is a read-only path for `review list` and `history` on the default SQLite file, with the
standard library's sqlite3 (see its docstring). So that it loads without SQLAlchemy, this package imports
its parts only when a name is asked for (``from generator.review.store import ReviewStore`` works as ever).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from generator.review.store.core import COMMENT_ACTIONS
    from generator.review.store.review_store import ReviewStore
    from generator.review.store.users import MIN_PASSWORD, check_user_name, default_author

__all__ = ["COMMENT_ACTIONS", "MIN_PASSWORD", "ReviewStore", "check_user_name", "default_author"]

#: Where each exported name lives.
_HOME = {
    "COMMENT_ACTIONS": "core",
    "MIN_PASSWORD": "users",
    "ReviewStore": "review_store",
    "check_user_name": "users",
    "default_author": "users",
}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_HOME[name]}"), name)
