"""The renderer seam: one ``Renderer`` per format, a registry of factories, and the context they share.

Built-in renderers are registered by dotted name so that importing this module stays light; other
packages add formats through the ``hocvu.renderers`` entry-point group (a name -> a zero-argument
factory), the same path the built-ins take.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from generator.errors import NotFoundError

if TYPE_CHECKING:
    from generator.config import Settings
    from generator.lesson import Lesson
    from generator.render.tts import TTSBackend
    from generator.schema import TargetGroup

#: Output file name of each built-in format, in ``out_dir``.
FILE_NAMES: dict[str, str] = {
    "handout": "handout.docx",
    "guide": "guide.docx",
    "slides": "slides.pptx",
    "audio": "narration.mp3",
    "page": "index.html",
    "video": "lesson.mp4",
    "card": "card.docx",
}

#: BCP 47 tags for the lesson languages, as Office and HTML want them.
LANG_TAGS: dict[str, str] = {"vi": "vi-VN", "en": "en-US"}


@dataclass
class RenderContext:
    """What renderers share during one ``render_lesson`` call.

    ``notes`` collects lines for the lesson's provenance (e.g. a TTS fallback); ``files`` holds what
    this run has written so far, so the page (rendered last) can link to it.
    """

    tts: TTSBackend | None = None
    tts_fallback: bool = True
    tts_timeout: float = 20.0
    notes: list[str] = field(default_factory=list)
    files: dict[str, Path] = field(default_factory=dict)
    pictures: list[Any] | None = None  # the steps' pictures when not the drawn sketches (generated images)
    speech: dict[Any, Any] = field(default_factory=dict)  # narration spoken once, for audio and video alike

    @classmethod
    def from_settings(cls, settings: Settings, tts: TTSBackend | None = None) -> RenderContext:
        """A context with the options ``settings`` gives and the TTS backend to use."""
        return cls(tts=tts, tts_fallback=settings.tts_fallback, tts_timeout=settings.tts_timeout)


@runtime_checkable
class Renderer(Protocol):
    """Turns a validated lesson into one file in ``out_dir`` and returns its path."""

    format: str
    suffix: str

    def render(self, lesson: Lesson, group: TargetGroup, out_dir: Path, ctx: RenderContext) -> Path:
        """Write the file (atomically) and return its path."""
        ...


RendererFactory = Callable[[], Renderer]


def _lazy(target: str) -> RendererFactory:
    """A factory that imports ``module:Class`` only when a renderer is wanted."""
    module, _, name = target.partition(":")

    def factory() -> Renderer:
        cls = getattr(importlib.import_module(module), name)
        return cls()  # type: ignore[no-any-return]

    factory.__doc__ = f"Build {target}."
    return factory


#: Format name -> renderer factory. Extend through the ``hocvu.renderers`` entry-point group.
RENDERERS: dict[str, RendererFactory] = {
    "handout": _lazy("generator.render.handout:HandoutRenderer"),
    "guide": _lazy("generator.render.guide:GuideRenderer"),
    "slides": _lazy("generator.render.slides:SlidesRenderer"),
    "audio": _lazy("generator.render.audio:AudioRenderer"),
    "page": _lazy("generator.render.page:PageRenderer"),
    "video": _lazy("generator.render.video:VideoRenderer"),
    "card": _lazy("generator.render.card:CardRenderer"),
}

_plugins_loaded = False


def _load_plugins() -> None:
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    from importlib.metadata import entry_points

    for ep in entry_points(group="hocvu.renderers"):
        RENDERERS.setdefault(ep.name, ep.load())


def get_renderer(fmt: str) -> Renderer:
    """The renderer for ``fmt``; NotFoundError listing the known formats otherwise."""
    if fmt not in RENDERERS:
        _load_plugins()
    try:
        factory = RENDERERS[fmt]
    except KeyError:
        raise NotFoundError.unknown("format", fmt, list(RENDERERS)) from None
    return factory()
