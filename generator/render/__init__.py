"""Render a validated lesson into files: handout and guide (.docx), slides (.pptx), narration (.mp3) and
a web page (.html), each by the ``Renderer`` of its format in ``generator.registry.formats``, all in the
lesson's language.

    result = render_lesson(lesson, group, out_dir, ["handout", "slides", "page"], settings)
    result.files["slides"]  # out_dir / "slides.pptx"

Importing this package is cheap; python-docx, python-pptx, Pillow, gTTS, mutagen and lameenc are
imported by the renderers that use them.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from generator.errors import HocvuError, RenderError
from generator.render.base import FormatSpec, RenderContext, Renderer, file_names, format_spec, get_renderer

if TYPE_CHECKING:
    from generator.config import Settings
    from generator.lesson import Lesson
    from generator.render.tts import TTSBackend
    from generator.schema import TargetGroup

__all__ = [
    "FILE_NAMES",
    "RENDERERS",
    "FormatSpec",
    "RenderContext",
    "RenderResult",
    "Renderer",
    "file_names",
    "format_spec",
    "get_renderer",
    "record_notes",
    "render_lesson",
    "render_page_html",
]


def __getattr__(name: str) -> object:
    # Views of the format registry under their old names (read each time, plugins included).
    from generator.render import base

    if name in ("FILE_NAMES", "RENDERERS"):
        return getattr(base, name)
    raise AttributeError(name)


@dataclass
class RenderResult:
    """What ``render_lesson`` wrote: files by format, notes for the provenance, seconds per format."""

    files: dict[str, Path] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


def _order(formats: Sequence[str]) -> list[str]:
    """Requested formats without repeats, the ones that link to the others (the page) last; an unknown
    name is a NotFoundError listing the known formats, before any work."""
    seen: list[str] = []
    for f in formats:
        f = f.strip()
        if f and f not in seen:
            seen.append(f)
    return sorted(seen, key=lambda f: format_spec(f).last)


def render_lesson(
    lesson: Lesson,
    group: TargetGroup,
    out_dir: Path,
    formats: Sequence[str],
    settings: Settings,
    tts: TTSBackend | None = None,
) -> RenderResult:
    """Render ``lesson`` for ``group`` into ``out_dir`` in each of ``formats``.

    ``tts`` defaults to the engine the settings choose (only built when 'audio' is asked for). A failure
    raises RenderError naming the lesson and the format; files finished before it are kept.
    """
    order = _order(formats)
    if not order:
        raise RenderError("no format to render; choose from: {renderers}", renderers=", ".join(file_names()))
    specs = {fmt: format_spec(fmt) for fmt in order}
    renderers = {fmt: spec.make() for fmt, spec in specs.items()}  # unknown names fail before any work
    if lesson.group != group.id:
        raise RenderError(
            "lesson {id} is written for group {group!r}, not {other!r}; "
            "render it with its own group",
            id=lesson.id, group=lesson.group, other=group.id,
        )
    if any(spec.speaks for spec in specs.values()) and tts is None:
        from generator.render.tts import make_tts

        tts = make_tts(settings)
    ctx = RenderContext.from_settings(settings, tts)
    if sum(spec.speaks for spec in specs.values()) > 1:  # audio and video: speak once, keep it for both
        ctx.speech = {}
    if settings.images != "sketch" and any(spec.pictured for spec in specs.values()):
        from generator.render.images import make_image_backend
        from generator.render.pictures import step_pictures

        ctx.pictures = step_pictures(lesson, make_image_backend(settings), ctx.notes)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RenderError("cannot create {out_dir}: {strerror}; choose another --out folder",
                          out_dir=out_dir, strerror=exc.strerror) from exc
    result = RenderResult(notes=ctx.notes)
    for fmt in order:
        start = time.perf_counter()
        try:
            path = renderers[fmt].render(lesson, group, out_dir, ctx)
        except HocvuError as exc:
            if specs[fmt].soft:  # the lesson keeps its other files and says why this one is missing
                ctx.notes.append(f"{fmt}: not made: {exc}")
                continue
            raise RenderError("{id}: {fmt}: {exc}", id=lesson.id, fmt=fmt, exc=exc) from exc
        except OSError as exc:
            raise RenderError(
                "{id}: {fmt}: cannot write in {out_dir}: {reason}; "
                "check the folder is writable and has space",
                id=lesson.id, fmt=fmt, out_dir=out_dir, reason=exc.strerror or exc,
            ) from exc
        result.timings[fmt] = time.perf_counter() - start
        result.files[fmt] = ctx.files[fmt] = path
    return result


def record_notes(lesson: Lesson, notes: Sequence[str]) -> Lesson:
    """A copy of ``lesson`` whose provenance also lists ``notes`` (e.g. a TTS fallback), without repeats."""
    prov = lesson.provenance
    added = [n for n in notes if n not in prov.notes]
    if not added:
        return lesson
    return lesson.model_copy(update={"provenance": prov.model_copy(update={"notes": [*prov.notes, *added]})})


def render_page_html(
    lesson: Lesson, group: TargetGroup, files: dict[str, str] | None = None, audio_url: str | None = None,
    pictures: Sequence[object] | None = None,
) -> str:
    """The lesson's self-contained web page as a string (for the review app and publishing)."""
    from generator.render.page import render_page_html as render

    return render(lesson, group, files, audio_url, pictures=list(pictures) if pictures is not None else None)
