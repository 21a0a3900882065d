"""The lesson web page (.html): one self-contained, mobile-first page with the text, an audio player,
the quiz (answerable with a few lines of plain JavaScript, readable without it) and links to the files.

Jinja2 with autoescaping: every lesson text is escaped, none reaches the script. The markup is also
well-formed XML, so a strict parser can check it. The review app and publishing call
``render_page_html`` with their own links.
"""

from __future__ import annotations

import base64
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator.fsutil import write_text_atomic
from generator.render.base import LANG_TAGS, RenderContext, format_spec, format_specs
from generator.render.handout import meta_line, paragraphs, reference_numbers, source_line
from generator.render.labels import LETTERS, labels

if TYPE_CHECKING:
    from jinja2 import Template

    from generator.lesson import Lesson
    from generator.schema import TargetGroup

TEMPLATES = Path(__file__).resolve().parent / "templates"


def linked_formats() -> list[str]:
    """The formats the page links to, in registry order (every format but the page itself)."""
    return [spec.name for spec in format_specs() if spec.linked]


@lru_cache(maxsize=1)
def _template() -> Template:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=False,
        keep_trailing_newline=True,
    )
    return env.get_template("page.html.j2")


def render_page_html(
    lesson: Lesson, group: TargetGroup, files: dict[str, str] | None = None, audio_url: str | None = None,
    pictures: list[Any] | None = None,
) -> str:
    """The full HTML page for ``lesson``. ``files`` maps formats ('handout', 'guide', 'slides',
    'audio') to URLs to link; ``audio_url`` (default: ``files['audio']``) feeds the player."""
    files = dict(files or {})
    audio_url = audio_url or files.get("audio")
    w = labels(lesson.language, group)
    acc = group.accessibility
    downloads = [(w.get(f"file_{fmt}") or format_spec(fmt).label(lesson.language), files[fmt])
                 for fmt in linked_formats() if files.get(fmt)]
    from generator.render.icons import CREDIT, ICONS, icon_png

    ink = "#FFE14D" if acc.high_contrast else "#0B3D91"
    icons = {k: "data:image/png;base64," + base64.b64encode(icon_png(k, ink, 44)).decode("ascii") for k in ICONS}
    refs = reference_numbers(lesson)
    return _template().render(
        icons=icons,
        icon_credit=CREDIT.get(lesson.language, CREDIT["en"]),
        video_url=files.get("video"),
        captions_url=files.get("captions"),
        pictures=_pictures(lesson, group, pictures),
        picture_px=round(240 * _scale(group)),
        lesson=lesson,
        w=w,
        letters=LETTERS,
        lang_tag=LANG_TAGS.get(lesson.language, "en-US"),
        meta=meta_line(lesson),
        root_pct=round(100 * min(acc.font_scale, 1.6)),
        high_contrast=acc.high_contrast,
        audio_first=acc.audio_first,
        audio_url=audio_url,
        narration=paragraphs(lesson.narration),
        example=paragraphs(lesson.example),
        sources=[source_line(s, lesson.language) for s in lesson.sources],
        key_refs=[_numbers(k.sources, refs) for k in lesson.key_points],
        step_refs=[_numbers(s.sources, refs) for s in lesson.steps],
        downloads=downloads,
    )


def _numbers(ids: list[str], refs: dict[str, int]) -> list[int]:
    """The Sources-list numbers a claim citing ``ids`` points to."""
    return sorted({refs[i] for i in ids if i in refs})


def _scale(group: TargetGroup) -> float:
    from generator.render.pictures import picture_scale

    return picture_scale(group)


def _pictures(lesson: Lesson, group: TargetGroup, given: list[Any] | None = None) -> dict[int, dict[str, str]]:
    """Step number -> the step's phone screen as a data: URL (the page stays one self-contained file, in
    the review app's sandboxed frame, the published site and SCORM alike) and its alt text."""
    if "sight" in group.modality.excludes:
        return {}
    from generator.render.pictures import step_pictures

    return {p.step: {"src": "data:image/png;base64," + base64.b64encode(p.png).decode("ascii"), "alt": p.alt}
            for p in (given if given is not None else step_pictures(lesson))}


class PageRenderer:
    """Lesson web page (.html); rendered last so it can link to the files beside it."""

    format = "page"
    suffix = ".html"

    def render(self, lesson: Lesson, group: TargetGroup, out_dir: Path, ctx: RenderContext) -> Path:
        """Write ``index.html`` in ``out_dir``, linking the files rendered now or already there."""
        files: dict[str, str] = {}
        for spec in format_specs():
            if spec.linked and (spec.name in ctx.files or (out_dir / spec.file).is_file()):
                files[spec.name] = spec.file
                files.update({key: name for key, name in spec.side_files.items() if (out_dir / name).is_file()})
        path = out_dir / format_spec(self.format).file
        write_text_atomic(path, render_page_html(lesson, group, files, pictures=ctx.pictures))
        return path
