"""The stages every new version goes through after its content exists: write → render → record.

Drafts (``pipeline.draft_one``), edits and revisions all take this path, so each version in the store
has its folder ``outputs/drafts/<lesson-id>/v<N>/``, its files with checksums, and its check results.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator.drafting.service import Drafted, commit_version, fill_version, stage_version
from generator.fsutil import write_text_atomic

if TYPE_CHECKING:
    from generator.config import Settings
    from generator.frameworks import Library
    from generator.review.records import VersionRecord
    from generator.review.store import ReviewStore

#: ``render_lesson(lesson, group, out_dir, formats, settings, tts=None) -> RenderResult`` (generator.render).
RenderFn = Callable[..., Any]


def default_renderer() -> RenderFn:
    """The real renderer (imported only when a version is rendered)."""
    from generator.render import render_lesson  # type: ignore[attr-defined]

    return render_lesson  # type: ignore[no-any-return]


def collect_artifacts(folder: Path) -> dict[str, Path]:
    """Every file of a version folder, by file name (hidden temporary files left out)."""
    return {p.name: p for p in sorted(folder.iterdir()) if p.is_file() and not p.name.startswith(".")}


@dataclass
class NewVersion:
    """What writing, rendering and recording a version produced."""

    record: VersionRecord
    drafted: Drafted
    path: Path
    render_notes: list[str] = field(default_factory=list)


def render_into(
    drafted: Drafted,
    library: Library,
    settings: Settings,
    folder: Path,
    formats: Sequence[str] | None,
    tts: Any = None,
    render: RenderFn | None = None,
) -> list[str]:
    """Render the lesson into its version folder; notes (e.g. a TTS fallback) go into its provenance."""
    lesson = drafted.lesson
    group = library.group(lesson.group)
    chosen = list(formats) if formats is not None else list(group.default_formats)
    if not chosen:
        return []
    result = (render or default_renderer())(lesson, group, folder, chosen, settings, tts=tts)
    notes = list(getattr(result, "notes", []) or [])
    if notes:
        prov = lesson.provenance.model_copy(update={"notes": [*lesson.provenance.notes, *notes]})
        drafted.lesson = lesson.model_copy(update={"provenance": prov})
        write_text_atomic(folder / "lesson.json", drafted.lesson.model_dump_json(indent=2))
    return notes


def write_render_record(
    drafted: Drafted,
    library: Library,
    settings: Settings,
    store: ReviewStore,
    *,
    author: str,
    kind: str,
    parent_version: int | None = None,
    expected_version: int | None = None,
    formats: Sequence[str] | None = None,
    tts: Any = None,
    render: RenderFn | None = None,
    note: str | None = None,
    cache_key: str | None = None,
) -> NewVersion:
    """write → render → record as one step. The version is written and rendered in a hidden staging folder
    that becomes ``v<N>`` only when whole; if rendering or recording fails, nothing is left behind."""
    tmp = stage_version(settings.outputs_dir, drafted.lesson.id)
    path: Path | None = None
    try:
        fill_version(tmp, drafted)
        notes = render_into(drafted, library, settings, tmp, formats, tts, render)
        path = commit_version(tmp)
        record = store.submit_version(
            drafted.lesson,
            drafted.checks,
            collect_artifacts(path),
            author,
            parent_version,
            kind=kind,
            expected_version=expected_version,
            folder=path,
            note=note,
            cache_key=cache_key,
        )
    except BaseException:
        shutil.rmtree(path or tmp, ignore_errors=True)
        raise
    return NewVersion(record, drafted, path, notes)
