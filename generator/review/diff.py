"""Section-by-section differences between two versions of a lesson."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from generator.lesson import SECTIONS, Lesson
from generator.review.edit import to_yaml

DIFF_SECTIONS = (*SECTIONS, "sources")


@dataclass(frozen=True)
class SectionDiff:
    """One section: whether it changed and a unified diff of its YAML text."""

    section: str
    changed: bool
    lines: list[str]


def section_text(lesson: Lesson, section: str) -> str:
    """A section as readable YAML (the unit the diff compares)."""
    if section == "sources":
        data: object = [s.model_dump(mode="json", exclude={"text"}) for s in lesson.sources]
    else:
        data = lesson.draft_part()[section]
    return to_yaml(data)


def diff_lessons(
    old: Lesson, new: Lesson, *, old_label: str = "old", new_label: str = "new", context: int = 2
) -> list[SectionDiff]:
    """Every section in lesson order, with a unified diff of those that changed."""
    out = []
    for name in DIFF_SECTIONS:
        a, b = section_text(old, name), section_text(new, name)
        lines = (
            []
            if a == b
            else list(
                difflib.unified_diff(
                    a.splitlines(),
                    b.splitlines(),
                    f"{old_label}/{name}",
                    f"{new_label}/{name}",
                    n=context,
                    lineterm="",
                )
            )
        )
        out.append(SectionDiff(name, a != b, lines))
    return out
