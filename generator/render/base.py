"""The renderer seam: one ``Renderer`` per format, the ``FormatSpec`` that describes a format to the rest
of hocvu, and the context renderers share.

Formats live in ``generator.registry.formats`` (entry-point group ``hocvu.formats``); the built-ins are
registered there by ``"module:attribute"`` like any plugin, so importing this module stays light.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from generator.config import Settings
    from generator.lesson import Lesson
    from generator.registry import Registry
    from generator.render.tts import TTSBackend
    from generator.schema import TargetGroup

#: BCP 47 tags for the lesson languages, as Office and HTML want them.
LANG_TAGS: dict[str, str] = {"vi": "vi-VN", "en": "en-US"}


@dataclass
class RenderContext:
    """What renderers share during one ``render_lesson`` call.

    ``notes`` collects lines for the lesson's provenance (e.g. a TTS fallback); ``files`` holds what
    this run has written so far, so the page (rendered last) can link to it; ``speech`` shares the spoken
    narration between the formats that speak, when more than one is rendered.
    """

    tts: TTSBackend | None = None
    tts_fallback: bool = True
    tts_timeout: float = 20.0
    notes: list[str] = field(default_factory=list)
    files: dict[str, Path] = field(default_factory=dict)
    pictures: list[Any] | None = None  # the steps' pictures when not the drawn sketches (generated images)
    #: Narration spoken once for audio and video alike; None (nothing kept) unless both are rendered, so a
    #: lesson's whole speech is freed as soon as its MP3 is written (BENCHMARKS.md, "Build memory").
    speech: dict[Any, Any] | None = None

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


@dataclass(frozen=True)
class FormatSpec:
    """A format as every part of hocvu sees it, known without importing its renderer: the file it
    writes, how the page, the site, publishing and the review app show it, and how to build its renderer.

    Register one in ``generator.registry.formats`` (entry-point group ``hocvu.formats``): that is all a
    new format needs besides its renderer.
    """

    name: str
    file: str
    renderer: str | RendererFactory  # "module:Class", or a zero-argument factory
    labels: Mapping[str, str] = field(default_factory=dict)  # lesson language -> download label
    speaks: bool = False  # needs a TTS engine
    pictured: bool = True  # shows the steps' pictures
    soft: bool = False  # a failure leaves the lesson's other files in place, with a note
    linked: bool = True  # the page links it, releases and SCORM packages carry it, downloads list it
    listed: bool = True  # the release's index lists it beside each lesson
    last: bool = False  # rendered after the others (it links to them)
    side_files: Mapping[str, str] = field(default_factory=dict)  # link key -> file written beside it
    also_published: tuple[str, ...] = ()  # more files of this format a release carries

    def make(self) -> Renderer:
        """A new renderer for this format (its module imported now)."""
        if isinstance(self.renderer, str):
            from generator.registry import load_target

            return load_target(self.renderer)()  # type: ignore[no-any-return]
        return self.renderer()

    def label(self, lang: str) -> str:
        """The download label in ``lang`` (English, then the file name, when it has none)."""
        return self.labels.get(lang) or self.labels.get("en") or self.file


def _formats() -> Registry[FormatSpec]:
    from generator.registry import formats

    return formats


def format_spec(fmt: str) -> FormatSpec:
    """The spec of format ``fmt``; NotFoundError listing the known formats otherwise."""
    spec = _formats().get(fmt)
    if spec.name != fmt:  # the file names, links and downloads all go by the spec's own name
        from generator.errors import ConfigError

        raise ConfigError("format {format!r} is registered with a FormatSpec named {name!r}; "
                          "register it under {name!r}", format=fmt, name=spec.name)
    return spec


def format_specs() -> list[FormatSpec]:
    """Every registered format, built-ins first, in the order they are listed."""
    return [format_spec(name) for name in _formats().names()]


def file_names() -> dict[str, str]:
    """Output file name of each format, in ``out_dir``."""
    return {spec.name: spec.file for spec in format_specs()}


def get_renderer(fmt: str) -> Renderer:
    """The renderer for ``fmt``; NotFoundError listing the known formats otherwise."""
    return format_spec(fmt).make()


def __getattr__(name: str) -> object:
    # Read-only views kept for callers of the old constants; both read the registry.
    if name == "FILE_NAMES":
        return file_names()
    if name == "RENDERERS":
        return _formats()
    raise AttributeError(name)
