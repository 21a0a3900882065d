"""Fitting text into slide boxes with real font metrics: shrink within limits, then split.

python-pptx's auto-fit only sets a flag that PowerPoint may honour later (LibreOffice and phones often
do not), so we lay text out ourselves: every paragraph gets an exact line spacing, and ``TextMeasure``
breaks its lines as the viewer will. A slide's content is a list of *units* (paragraphs kept together,
e.g. a step and its result). We try the profile's size, then smaller sizes down to a floor; if it still
does not fit, the units are spread over as few slides as the floor size allows, balanced, at the largest
size all of them fit; a unit taller than a whole slide is cut at sentence boundaries (at line breaks as
a last resort).
``frame_fit`` reads a saved shape back and measures it the same way, so a test can check every box.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

from generator.lesson import sentences

if TYPE_CHECKING:
    from generator.render.fonts import TextMeasure

Kind = Literal["plain", "bullet", "number", "letter", "cont"]

LINE_EM = 1.3  # exact line spacing in ems; Be Vietnam Pro needs 1.27, DejaVu Sans 1.17
INDENT_EM = 1.5  # hanging indent for bullets, numbers and letters
GAP_EM = 0.45  # space before a paragraph (never before a frame's first one)
CONT_GAP_EM = 0.12  # space before a paragraph that continues the item above (a step's result)
WIDTH_SAFETY = 0.98  # kerning and the viewer's own rounding


@dataclass(frozen=True)
class Para:
    """A paragraph on a slide. ``rel`` scales it against the slide's body size."""

    text: str
    kind: Kind = "plain"
    start: int = 1
    bold: bool = False
    rel: float = 1.0


Unit = tuple[Para, ...]


@dataclass(frozen=True)
class Page:
    """What one slide holds: its units, laid out at ``size`` points."""

    size: float
    units: tuple[Unit, ...]

    @property
    def paras(self) -> list[Para]:
        """The page's paragraphs in order."""
        return [p for u in self.units for p in u]


def line_pts(size: float) -> float:
    """Exact line spacing at ``size`` points, rounded as PowerPoint stores it (1/100 pt)."""
    return round(size * LINE_EM, 2)


def indent_pts(p: Para, size: float) -> float:
    """Left margin of ``p``'s text at body size ``size``."""
    return 0.0 if p.kind == "plain" else round(INDENT_EM * size, 1)


def gap_pts(p: Para, size: float) -> float:
    """Space before ``p`` when it is not the first paragraph of its frame."""
    return round((CONT_GAP_EM if p.kind == "cont" else GAP_EM) * size, 1)


class Fitter:
    """Lays paragraphs out in a box of ``width`` x ``height`` points (inside the insets)."""

    def __init__(self, measure: TextMeasure, width: float, height: float) -> None:
        self.m = measure
        self.box_w = width
        self.box_h = height

    def lines(self, p: Para, size: float) -> list[str]:
        """``p`` broken into lines at body size ``size``."""
        usable = (self.box_w - indent_pts(p, size)) * WIDTH_SAFETY
        return self.m.wrap(p.text, size * p.rel, usable, p.bold)

    def para_height(self, p: Para, size: float, first: bool) -> float:
        """Height of ``p`` with the space before it."""
        h = len(self.lines(p, size)) * line_pts(size * p.rel)
        return h if first else h + gap_pts(p, size)

    def height(self, paras: list[Para], size: float) -> float:
        """Height of ``paras`` stacked in one frame."""
        return sum(self.para_height(p, size, i == 0) for i, p in enumerate(paras))

    def fits(self, paras: list[Para], size: float) -> bool:
        """True when ``paras`` fit the box at ``size``."""
        return self.height(paras, size) <= self.box_h

    # -- one slide, shrinking within limits ------------------------------------------------------
    def best_size(self, paras: list[Para], base: float, floor: float) -> float | None:
        """The largest whole-point size from ``base`` down to ``floor`` at which ``paras`` fit."""
        size = base
        while size >= floor:
            if self.fits(paras, size):
                return size
            size -= 1
        return None

    # -- several slides --------------------------------------------------------------------------
    def paginate(self, units: list[Unit], base: float, floor: float) -> list[Page]:
        """Pages for ``units``: one page at the largest size from ``base`` down to ``floor`` that fits;
        else as few pages as ``floor`` allows, balanced, all at the largest size every page fits."""
        flat = [p for u in units for p in u]
        size = self.best_size(flat, base, floor)
        if size is not None:
            return [Page(size, tuple(units))]
        pieces: list[Unit] = []
        for u in units:
            pieces.extend(self._split_unit(u, floor))
        groups = self._balance(pieces, floor)
        size = min(self.best_size([p for u in g for p in u], base, floor) or floor for g in groups)
        return [Page(size, g) for g in groups]

    def _split_unit(self, unit: Unit, size: float) -> list[Unit]:
        if self.fits(list(unit), size):
            return [unit]
        if len(unit) > 1:
            out: list[Unit] = []
            for p in unit:
                out.extend(self._split_unit((p,), size))
            return out
        return [(p,) for p in self._split_para(unit[0], size)]

    def _split_para(self, p: Para, size: float) -> list[Para]:
        """Cut one paragraph taller than the box into pieces that each fit (sentences, then lines)."""
        parts = sentences(p.text)
        if len(parts) <= 1:
            parts = self.lines(p, size)
            if len(parts) <= 1:
                return [p]
        pieces: list[Para] = []
        cur: list[str] = []
        for s in parts:
            trial = replace(p, text=" ".join([*cur, s]), kind=p.kind if not pieces else _cont(p.kind))
            if cur and not self.fits([trial], size):
                pieces.append(replace(p, text=" ".join(cur), kind=p.kind if not pieces else _cont(p.kind)))
                cur = [s]
            else:
                cur.append(s)
        if cur:
            pieces.append(replace(p, text=" ".join(cur), kind=p.kind if not pieces else _cont(p.kind)))
        out: list[Para] = []
        for piece in pieces:  # a single sentence still too tall: cut it at line breaks
            out.extend(
                self._split_para(piece, size) if not self.fits([piece], size) and piece != p else [piece]
            )
        return out

    def _unit_height(self, units: list[Unit], size: float) -> float:
        return self.height([p for u in units for p in u], size)

    def _balance(self, units: list[Unit], size: float) -> list[tuple[Unit, ...]]:
        """Split ``units`` into as few pages as fit, evening out their heights."""
        n = len(units)
        fits = [[False] * (n + 1) for _ in range(n + 1)]  # fits[i][j]: units[i:j] on one page
        hts = [[0.0] * (n + 1) for _ in range(n + 1)]
        for i in range(n):
            for j in range(i + 1, n + 1):
                h = self._unit_height(units[i:j], size)
                hts[i][j] = h
                fits[i][j] = h <= self.box_h or j == i + 1
                if not fits[i][j]:
                    break
        # fewest pages first, then the smallest tallest page
        inf = (n + 1, float("inf"))
        best: list[tuple[int, float]] = [inf] * (n + 1)
        cut = [0] * (n + 1)
        best[0] = (0, 0.0)
        for j in range(1, n + 1):
            for i in range(j):
                if not fits[i][j] or best[i] == inf:
                    continue
                cand = (best[i][0] + 1, max(best[i][1], hts[i][j]))
                if cand < best[j]:
                    best[j], cut[j] = cand, i
        groups: list[tuple[Unit, ...]] = []
        j = n
        while j > 0:
            groups.append(tuple(units[cut[j] : j]))
            j = cut[j]
        return groups[::-1]


def _cont(kind: Kind) -> Kind:
    return "plain" if kind == "plain" else "cont"


def fit_title(
    measure: TextMeasure, text: str, width: float, base: float, floor: float, max_lines: int = 2
) -> tuple[float, list[str]]:
    """The largest size from ``base`` to ``floor`` at which a bold title takes ``max_lines`` or fewer;
    at ``floor`` it may take more lines (the caller gives it the height)."""
    size = base
    while True:
        lines = measure.wrap(text, size, width * WIDTH_SAFETY, bold=True)
        if len(lines) <= max_lines or size - 1 < floor:
            return size, lines
        size -= 1


@dataclass(frozen=True)
class FrameFit:
    """How much height a saved text frame's text needs, and how much the frame offers (points)."""

    needed: float
    available: float
    width_ok: bool

    @property
    def fits(self) -> bool:
        """True when the text fits in both directions."""
        return self.width_ok and (self.needed == 0 or self.needed <= self.available + 0.01)


def frame_fit(shape: Any, measure: TextMeasure) -> FrameFit:
    """Measure a python-pptx shape's text as laid out in the saved file (sizes, indents, spacing)."""
    from pptx.util import Emu

    tf = shape.text_frame
    emu_pt = 12700
    body = tf._txBody.bodyPr
    ins = {
        k: int(body.get(k, d)) / emu_pt
        for k, d in (("lIns", 91440), ("rIns", 91440), ("tIns", 45720), ("bIns", 45720))
    }
    width = Emu(shape.width).pt - ins["lIns"] - ins["rIns"]
    available = Emu(shape.height).pt - ins["tIns"] - ins["bIns"]
    needed = 0.0
    width_ok = True
    for i, p in enumerate(tf.paragraphs):
        runs = p.runs
        if not runs:
            continue
        size = runs[0].font.size.pt
        bold = bool(runs[0].font.bold)
        ppr = p._p.pPr
        mar_l = int(ppr.get("marL", "0")) / emu_pt if ppr is not None else 0.0
        line = (
            p.line_spacing.pt if p.line_spacing is not None and hasattr(p.line_spacing, "pt") else size * 1.2
        )
        before = p.space_before.pt if p.space_before is not None else 0.0
        text = "".join(r.text for r in runs)
        lines = measure.wrap(text, size, (width - mar_l) * WIDTH_SAFETY, bold)
        width_ok &= all(measure.width(ln, size, bold) <= width - mar_l + 0.01 for ln in lines)
        needed += len(lines) * line + (before if i else 0.0)
    return FrameFit(needed, available, width_ok)
