"""The review store as the destination of batch builds."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from generator.drafting.checks import CheckResult
from generator.lesson import Lesson

if TYPE_CHECKING:
    from generator.batch.plan import PlannedLesson, Status
    from generator.review.store import ReviewStore


class StoreSink:
    """Submits finished versions as in_review, and tells which lessons already have a version with a key."""

    def __init__(self, store: ReviewStore | None, author: str) -> None:
        self.store = store
        self.author = author

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

    def next_number(self, lesson_id: str) -> int:
        """The number the store gives the lesson's next version."""
        from generator.review.versioning import next_number

        assert self.store is not None
        return next_number(self.store, lesson_id)

    def submit(self, lesson: Lesson, checks: list[CheckResult], version_dir: Path,
               artifacts: dict[str, Path]) -> str:
        """Record the version in the review store, in review."""
        assert self.store is not None
        files = {p.name: p for p in artifacts.values()}
        rec = self.store.submit_version(lesson, checks, files, self.author, folder=version_dir,
                                        cache_key=lesson.provenance.cache_key)
        return f"in review: version {rec.number}"
