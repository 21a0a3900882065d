"""The coverage view: for one framework and language, which (competence, group, level) lessons exist and
how far each has come. A read model over ``ReviewStore.coverage_cells`` (five columns per lesson) and the
framework library; it decides nothing, it only groups the store's statuses into the four states the page
shows."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from generator.review import workflow as wf

if TYPE_CHECKING:
    from generator.frameworks import Library
    from generator.review.store import ReviewStore

#: The four states of a coverage cell, in the order of the legend.
STATES = ("approved", "in_review", "changes_requested", "missing")

_STATE_OF = {
    wf.Status.APPROVED: "approved", wf.Status.PUBLISHED: "approved",
    wf.Status.IN_REVIEW: "in_review", wf.Status.DRAFT: "in_review",
    wf.Status.CHANGES_REQUESTED: "changes_requested",
    wf.Status.REJECTED: "missing",  # a rejected lesson has to be drafted anew
}


def coverage_state(status: str | None) -> str:
    """The coverage state of a lesson status (None: no lesson)."""
    return _STATE_OF.get(wf.Status(status), "missing") if status else "missing"


@dataclass(frozen=True)
class SlotLesson:
    """The lesson in a slot: what the matrix links to and shows."""

    id: str
    status: str


@dataclass
class Slot:
    """One level of one competence for one group."""

    level: int
    state: str
    lesson: SlotLesson | None = None


@dataclass
class Row:
    """A competence and its slots, by group id."""

    code: str
    name: str
    cells: dict[str, list[Slot]]


@dataclass
class Coverage:
    """The matrix: competences × groups, each cell a list of levels."""

    framework: str
    language: str
    levels: list[int]
    groups: list[tuple[str, str]]  # (id, display name)
    rows: list[Row]
    totals: Counter[str] = field(default_factory=Counter)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form (for the API)."""
        return {
            "framework": self.framework, "language": self.language, "levels": self.levels,
            "groups": [g for g, _ in self.groups], "totals": {s: self.totals.get(s, 0) for s in STATES},
            "competences": [
                {"code": r.code, "name": r.name, "groups": {
                    g: [{"level": s.level, "state": s.state, "lesson": s.lesson.id if s.lesson else None,
                         "status": s.lesson.status if s.lesson else None} for s in slots]
                    for g, slots in r.cells.items()}}
                for r in self.rows
            ],
        }


def build_coverage(store: ReviewStore, library: Library, framework: str, language: str, *,
                   levels: list[int] | None = None, groups: list[str] | None = None,
                   ui_lang: str = "vi") -> Coverage:
    """The coverage of ``framework`` in ``language`` (optionally only some levels and groups)."""
    fw = library.framework(framework)
    all_levels = [lv.level for lv in fw.levels]
    chosen_levels = [lv for lv in (levels or all_levels) if lv in all_levels]
    group_ids = [g for g in (groups or sorted(library.groups)) if g in library.groups]
    lessons = {(comp, g, lv): SlotLesson(lid, status)
               for comp, g, lv, lid, status in store.coverage_cells(framework, language)}
    cov = Coverage(framework, language, chosen_levels,
                   [(g, library.group(g).names.get(ui_lang)) for g in group_ids], [])
    for comp in fw.competences:
        cells: dict[str, list[Slot]] = {}
        for g in group_ids:
            slots = []
            for lv in chosen_levels:
                found = lessons.get((comp.code, g, lv))
                slot = Slot(lv, coverage_state(found.status if found else None), found)
                cov.totals[slot.state] += 1
                slots.append(slot)
            cells[g] = slots
        cov.rows.append(Row(comp.code, comp.name.get(ui_lang), cells))
    return cov
