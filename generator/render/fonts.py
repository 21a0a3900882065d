"""Fonts that render Vietnamese, and text measurement with their real metrics.

Be Vietnam Pro comes from the ``fontpkg-be-vietnam-pro`` package; DejaVu Sans (Debian's
``fonts-dejavu-core``) is the fallback. Documents name the family and embed nothing; a viewer without
Be Vietnam Pro substitutes a sans font, usually DejaVu, which is a little wider. ``TextMeasure``
therefore measures every word in each available face and keeps the widest, so a box that fits here
fits wherever the deck is opened.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from generator.errors import RenderError

if TYPE_CHECKING:
    from PIL.ImageFont import FreeTypeFont

DEJAVU_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/local/share/fonts/dejavu"),
)


@dataclass(frozen=True)
class FontFace:
    """A font family and the TTF files of its regular and bold faces."""

    family: str
    regular: Path
    bold: Path


def _be_vietnam_pro() -> FontFace | None:
    try:
        import fontpkg_be_vietnam_pro as pkg
    except ImportError:
        return None
    files = Path(pkg.ROOT) / "files"
    regular, bold = files / "BeVietnamPro-Regular.ttf", files / "BeVietnamPro-Bold.ttf"
    if regular.is_file() and bold.is_file():
        return FontFace(str(getattr(pkg, "FAMILY", "Be Vietnam Pro")), regular, bold)
    return None


def _dejavu() -> FontFace | None:
    for d in DEJAVU_DIRS:
        regular, bold = d / "DejaVuSans.ttf", d / "DejaVuSans-Bold.ttf"
        if regular.is_file() and bold.is_file():
            return FontFace("DejaVu Sans", regular, bold)
    return None


@lru_cache(maxsize=1)
def available_faces() -> tuple[FontFace, ...]:
    """Every usable face, preferred first; RenderError with the fix when there is none."""
    faces = tuple(f for f in (_be_vietnam_pro(), _dejavu()) if f is not None)
    if not faces:
        raise RenderError(
            "no font that renders Vietnamese was found; install one with "
            "'pip install fontpkg-be-vietnam-pro' or 'apt-get install fonts-dejavu-core'"
        )
    return faces


def find_font() -> FontFace:
    """The font documents use: Be Vietnam Pro when installed, else DejaVu Sans."""
    return available_faces()[0]


_REF = 200  # pixel size at which widths are measured; they scale linearly with the point size


class TextMeasure:
    """Widths, line breaks and line heights in points, from the fonts' real metrics (Pillow)."""

    def __init__(self, faces: Sequence[FontFace]) -> None:
        from PIL import ImageFont

        self._fonts: dict[bool, list[FreeTypeFont]] = {
            False: [ImageFont.truetype(str(f.regular), _REF) for f in faces],
            True: [ImageFont.truetype(str(f.bold), _REF) for f in faces],
        }
        self._cache: dict[tuple[str, bool], float] = {}
        asc_desc = [sum(f.getmetrics()) / _REF for f in self._fonts[False]]
        #: the tallest face's ascent + descent, in ems: the least line spacing that never clips
        self.natural_line = max(asc_desc)

    def _em(self, word: str, bold: bool) -> float:
        key = (word, bold)
        w = self._cache.get(key)
        if w is None:
            w = max(f.getlength(word) for f in self._fonts[bold]) / _REF
            self._cache[key] = w
        return w

    def width(self, text: str, size: float, bold: bool = False) -> float:
        """Width of ``text`` in points at ``size`` points (words plus the spaces between them)."""
        words = text.split()
        if not words:
            return 0.0
        em = sum(self._em(w, bold) for w in words) + self._em(" ", bold) * (len(words) - 1)
        return em * size

    def wrap(self, text: str, size: float, width: float, bold: bool = False) -> list[str]:
        """Greedy line breaks at spaces, as PowerPoint and Word make them; long words are cut."""
        space = self._em(" ", bold) * size
        lines: list[str] = []
        for para in text.split("\n"):
            line: list[str] = []
            line_w = 0.0
            for word in para.split():
                w = self._em(word, bold) * size
                if w > width:  # a word longer than the line: break it by characters
                    if line:
                        lines.append(" ".join(line))
                    pieces = self._cut(word, size, width, bold)
                    lines.extend(pieces[:-1])
                    line, line_w = [pieces[-1]], self._em(pieces[-1], bold) * size
                    continue
                extra = w + (space if line else 0.0)
                if line and line_w + extra > width:
                    lines.append(" ".join(line))
                    line, line_w = [word], w
                else:
                    line.append(word)
                    line_w += extra
            lines.append(" ".join(line))
        return lines

    def _cut(self, word: str, size: float, width: float, bold: bool) -> list[str]:
        pieces, cur = [], ""
        for ch in word:
            if cur and self._em(cur + ch, bold) * size > width:
                pieces.append(cur)
                cur = ch
            else:
                cur += ch
        pieces.append(cur)
        return pieces


@lru_cache(maxsize=1)
def text_measure() -> TextMeasure:
    """A shared measure over every available face (loaded once per process)."""
    return TextMeasure(available_faces())
