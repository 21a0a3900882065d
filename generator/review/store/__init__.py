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
"""

from __future__ import annotations

from generator.review.store.content import ContentPart
from generator.review.store.core import COMMENT_ACTIONS, StoreCore
from generator.review.store.decisions import DecisionsPart
from generator.review.store.lists import ListsPart
from generator.review.store.releases import ReleasesPart
from generator.review.store.users import MIN_PASSWORD, UsersPart, check_user_name, default_author
from generator.review.store.versions import VersionsPart

__all__ = ["COMMENT_ACTIONS", "MIN_PASSWORD", "ReviewStore", "check_user_name", "default_author"]


class ReviewStore(UsersPart, ContentPart, VersionsPart, DecisionsPart, ListsPart, ReleasesPart, StoreCore):
    """The review store over one SQLAlchemy engine; the schema is migrated on open."""
