"""The review store as planning sees it: which lessons of a build already have a version with their key
(the versions themselves are made by ``generator.versions.make_version``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from generator.batch.plan import PlannedLesson, Status
    from generator.review.store import ReviewStore


class StoreSink:
    """Tells which lessons already have a version with a key (and whether it passed its checks)."""

    def __init__(self, store: ReviewStore | None) -> None:
        self.store = store

    def statuses(self, lessons: list[PlannedLesson], accept_failed: bool = False,
                 retry_failed: bool = False) -> list[Status]:
        """'cached' for each lesson some version of which was made from exactly these inputs and passed
        its checks (or failed them, with ``accept_failed``). With ``retry_failed`` only the lessons whose
        model-made version failed its checks are generated; the others not yet built are skipped."""
        if self.store is None:
            return ["skip" if retry_failed else "generate"] * len(lessons)
        known = self.store.known_cache_keys(p.cache_key for p in lessons)
        out: list[Status] = []
        for p in lessons:
            hit, failed = known.get(p.cache_key) == p.id, False
            if hit and not accept_failed:  # the newest version with the key: did it pass its checks?
                version = self.store.find_by_cache_key(p.cache_key)
                # a model may do better when asked again; the offline composer (no calls) would not
                failed = version is None or not (version.checks_passed or not version.lesson.provenance.usage.calls)
            if retry_failed:
                out.append("generate" if failed else "cached" if hit else "skip")
            else:
                out.append("cached" if hit and not failed else "generate")
        return out
