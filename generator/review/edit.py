"""Editing a lesson by hand: its sections as YAML, validated and checked before becoming a new version."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from generator.drafting.service import Drafted, check_lesson
from generator.errors import CheckError, DataError, ReviewError
from generator.i18n import Joined
from generator.lesson import SECTIONS, Lesson, LessonDraft, Limits
from generator.review.notes import note
from generator.yamlio import compose_text, describe_validation, to_nfc

if TYPE_CHECKING:
    from generator.config import Settings
    from generator.frameworks import Library
    from generator.review.store import ReviewStore
    from generator.versions import NewVersion, RenderFn

HEADER = """\
# {id} — version {n} ({status})
# Edit the sections below and save. Identity, sources and provenance are not editable here.
# The lesson must keep within the group's limits: {max_words} words, {max_sentence} words per sentence.
"""

#: Fields of a full lesson that an edit file may carry but cannot change.
IDENTITY = ("id", "framework", "competence", "level", "group", "language")


def _str_presenter(dumper: Any, data: str) -> Any:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


def to_yaml(data: Any) -> str:
    """YAML for people: Unicode as is, key order kept, multi-line text as literal blocks."""
    import yaml

    class Dumper(yaml.SafeDumper):
        pass

    Dumper.add_representer(str, _str_presenter)
    return yaml.dump(data, Dumper=Dumper, allow_unicode=True, sort_keys=False, width=100)


def lesson_yaml(lesson: Lesson, *, version: int = 0, status: str = "", limits: Limits | None = None) -> str:
    """The editable sections of ``lesson`` as commented YAML."""
    head = HEADER.format(
        id=lesson.id,
        n=version,
        status=status or "current",
        max_words=limits.max_words if limits else "?",
        max_sentence=limits.max_sentence_words if limits else "?",
    )
    return head + to_yaml(lesson.draft_part())


def parse_edit(text: str, lesson: Lesson, limits: Limits, *, label: str = "edited lesson") -> LessonDraft:
    """Parse edited YAML into sections valid against the group's limits; DataError naming line and field."""
    node, data = compose_text(text, label)
    if not isinstance(data, dict):
        raise DataError("{label}: expected the lesson's sections as a YAML mapping (title, summary, ...)",
                        label=label)
    for key in IDENTITY:
        if key in data and str(data[key]) != str(getattr(lesson, key)):
            raise DataError(
                "{label}: {key} cannot be changed by an edit ({old!r} → {new!r})",
                label=label, key=key, old=getattr(lesson, key), new=data[key],
            )
    unknown = sorted(k for k in data if k not in SECTIONS and k not in (*IDENTITY, "sources", "provenance"))
    if unknown:
        raise DataError(
            "{label}: unknown field(s) {unknown}; the sections are {sections}",
            label=label, unknown=', '.join(unknown), sections=', '.join(SECTIONS),
        )
    sections = {k: v for k, v in to_nfc(data).items() if k in SECTIONS}
    try:
        return LessonDraft.model_validate(sections, context=limits.context())
    except ValidationError as exc:
        raise DataError(describe_validation(label, node, exc)) from exc


def edited_lesson(parent: Lesson, draft: LessonDraft, author: str, parent_version: int) -> Lesson:
    """The parent with the edited sections; provenance carried over with a note of the edit."""
    cited = {i for k in draft.key_points for i in k.sources} | {i for s in draft.steps for i in s.sources}
    prov = parent.provenance.model_copy(
        update={
            "notes": [*parent.provenance.notes, note("edited", author=author, version=parent_version)],
        }
    )
    return Lesson.assemble(
        draft,
        framework=parent.framework,
        competence=parent.competence,
        level=parent.level,
        group=parent.group,
        language=parent.language,
        provenance=prov,
        sources=[s for s in parent.sources if s.id in cited],
    )


@dataclass
class Edited:
    """The new version an edit made, and the sections it changed."""

    version: NewVersion
    changed: list[str]


def edit_lesson(
    library: Library,
    settings: Settings,
    store: ReviewStore,
    lesson_id: str,
    text: str,
    *,
    author: str,
    expected_version: int | None = None,
    formats: Sequence[str] | None = None,
    tts: Any = None,
    render: RenderFn | None = None,
    label: str = "edited lesson",
) -> Edited:
    """Apply an edited YAML text to the current version: validate → check → write → render → record.

    Refused when nothing changed, when the text breaks the schema or the group's limits, or when a check
    that passed on the current version fails on the edit (CheckError listing them).
    """
    from generator.versions import make_version

    state = store.preflight_version(lesson_id, author, "edit")
    current = store.get_version(lesson_id)
    parent = current.lesson
    limits = Limits.for_group(library.group(parent.group), parent.language)
    draft = parse_edit(text, parent, limits, label=label)
    before, after = parent.draft_part(), draft.draft_part()
    changed = [s for s in SECTIONS if before[s] != after[s]]
    if not changed:
        raise ReviewError("nothing changed in {lesson_id} version {number}; no new version made",
                          lesson_id=lesson_id, number=current.number)
    lesson = edited_lesson(parent, draft, author, current.number)
    checks = check_lesson(lesson, library, settings)
    passed_before = {c.name for c in current.checks if c.passed}
    broken = [c for c in checks if not c.passed and c.name in passed_before]
    if broken:
        raise CheckError("the edit breaks {n} check(s) that version {number} passed: {problems}",
                         n=len(broken), number=current.number, problems=Joined([c.summary() for c in broken]))
    new = make_version(
        Drafted(lesson, checks),
        library,
        settings,
        store,
        author=author,
        kind="edit",
        parent_version=current.number,
        expected_version=expected_version if expected_version is not None else state.row_version,
        formats=formats,
        tts=tts,
        render=render,
        note=note("edited_sections", sections=", ".join(changed)),
    )
    return Edited(new, changed)
