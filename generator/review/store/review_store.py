"""The review store assembled from its parts (see the package docstring)."""

from __future__ import annotations

from generator.review.store.content import ContentPart
from generator.review.store.core import StoreCore
from generator.review.store.decisions import DecisionsPart
from generator.review.store.lists import ListsPart
from generator.review.store.releases import ReleasesPart
from generator.review.store.users import UsersPart
from generator.review.store.versions import VersionsPart


class ReviewStore(UsersPart, ContentPart, VersionsPart, DecisionsPart, ListsPart, ReleasesPart, StoreCore):
    """The review store over one SQLAlchemy engine; the schema is migrated on open."""
