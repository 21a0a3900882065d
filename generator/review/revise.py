"""Feedback-driven revision: the open comments and the current version go to the backend, which
regenerates one section (or the whole lesson); the result is checked, rendered and recorded as a new
version in review.

Whatever the backend returns, only the asked section is taken from it: the other sections of the new
version are the current version's, byte for byte.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from generator.drafting.backend import LLMBackend, RevisionRequest, SourcePassage, run_sync, uses_content_library
from generator.drafting.service import Drafted, build_request, check_lesson
from generator.errors import BackendError, NotFoundError
from generator.lesson import SECTIONS, Lesson, LessonDraft, Provenance
from generator.review.notes import note
from generator.review.records import Comment

if TYPE_CHECKING:
    from generator.config import Settings
    from generator.drafting.backend import DraftResult
    from generator.frameworks import Library
    from generator.review.store import ReviewStore
    from generator.versions import NewVersion, RenderFn


@dataclass
class Revised:
    """The new version a revision made and what the backend said about it."""

    version: NewVersion
    section: str
    comments: list[Comment]
    changed: list[str]
    notes: list[str] = field(default_factory=list)


def comments_for(comments: list[Comment], section: str) -> list[Comment]:
    """The open comments that concern ``section``: general ones and those about that section."""
    return [c for c in comments if section == "all" or c.section in (None, section)]


def comment_texts(comments: list[Comment]) -> list[str]:
    """Comments as the backend reads them, each with its section when it has one."""
    return [f"[{c.section}] {c.text}" if c.section else c.text for c in comments]


def merge_section(parent: Lesson, revised: LessonDraft, section: str, limits: Any) -> LessonDraft:
    """The parent's sections with only ``section`` (or all, for 'all') taken from ``revised``."""
    if section == "all":
        return revised
    data = parent.draft_part()
    data[section] = revised.draft_part()[section]
    try:
        return LessonDraft.model_validate(data, context=limits.context())
    except ValidationError as exc:
        raise BackendError(
            "the revised section '{section}' does not fit the rest of the lesson: "
            "{errors}; revise 'all' or edit the lesson",
            section=section, errors=exc.errors()[0]['msg'],
        ) from exc


def revised_provenance(
    parent: Lesson, result: DraftResult, section: str, library: Library, n_comments: int, parent_version: int
) -> Provenance:
    """Provenance of a revision: a whole-lesson revision is made from today's library; a one-section
    revision still rests on what the parent was made from, so the parent's hashes are kept."""
    p = parent.provenance
    fresh = section == "all"
    revised = note("revised", section=section, version=parent_version, n=n_comments)
    return Provenance(
        backend=result.backend,
        model=result.model,
        prompt_hash=result.prompt_hash,
        framework_hash=library.competence_hash(parent.framework, parent.competence)
        if fresh
        else p.framework_hash,
        group_hash=library.group_hash(parent.group) if fresh else p.group_hash,
        content_hash=library.content_hash(parent.framework, parent.competence) if fresh else p.content_hash,
        content_verified=(library.content(parent.framework, parent.competence).verified
                          if fresh and uses_content_library(result.backend) and library.content_hash(parent.framework,
                                                                                            parent.competence)
                          else p.content_verified),
        sources_hash=p.sources_hash,
        retrieved=list(p.retrieved),
        usage=result.usage,
        cost_usd=round(result.cost_usd, 6),
        attempts=result.attempts,
        notes=[*result.notes, revised],
    )


def revise_lesson(
    library: Library,
    settings: Settings,
    store: ReviewStore,
    backend: LLMBackend,
    lesson_id: str,
    *,
    section: str = "all",
    author: str,
    formats: Sequence[str] | None = None,
    tts: Any = None,
    render: RenderFn | None = None,
) -> Revised:
    """comments → revise → merge → check → write → render → record (a new version in review)."""
    from generator.versions import make_version

    if section != "all" and section not in SECTIONS:
        raise NotFoundError.unknown("section", section, ("all", *SECTIONS))
    state = store.preflight_version(lesson_id, author, "revise")
    current = store.get_version(lesson_id)
    parent = current.lesson
    comments = comments_for(store.comments(lesson_id, open_only=True), section)
    passages = [
        SourcePassage(id=s.id, text=s.text, title=s.title, file=s.file, page=s.page) for s in parent.sources
    ]
    req = build_request(
        library, parent.framework, parent.competence, parent.level, parent.group, parent.language, passages
    )
    result = run_sync(backend.arevise(RevisionRequest(req, parent, section, comment_texts(comments))))
    draft = merge_section(parent, result.draft, section, req.limits)
    cited = {i for k in draft.key_points for i in k.sources} | {i for st in draft.steps for i in st.sources}
    lesson = Lesson.assemble(
        draft,
        framework=parent.framework,
        competence=parent.competence,
        level=parent.level,
        group=parent.group,
        language=parent.language,
        sources=[s for s in parent.sources if s.id in cited],
        provenance=revised_provenance(parent, result, section, library, len(comments), current.number),
    )
    before, after = parent.draft_part(), lesson.draft_part()
    changed = [s for s in SECTIONS if before[s] != after[s]]
    notes = list(result.notes)
    if not changed:
        notes.append(note("revise_unchanged", section=section, lesson_id=lesson_id))
    new = make_version(
        Drafted(lesson, check_lesson(lesson, library, settings)),
        library,
        settings,
        store,
        author=author,
        kind="revise",
        parent_version=current.number,
        expected_version=state.row_version,
        formats=formats,
        tts=tts,
        render=render,
        note="; ".join([lesson.provenance.notes[-1], *notes]),
    )
    return Revised(new, section, comments, changed, notes)
