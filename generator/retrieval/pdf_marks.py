"""What the position and size of a PDF page's text say that its extracted text does not: struck-through
runs, footnote markers and footnotes.

pypdf extracts text in content order and reports, through its visitor hooks, each text run with its
position and font size and each path operator (``m``/``l`` lines, ``re`` rectangles). That is enough to:

- **skip struck-through text**: a run crossed at mid-height by a thin horizontal line or rectangle
  (how Word and InDesign draw strikethrough; the DigComp 3.0 report strikes out DigComp 2.2 wording);
- **keep footnotes apart**: a superscript marker (a short run of digits in a smaller size on a body
  line) becomes ``[n]``, and the footnote text at the page foot (smaller runs below the body, starting
  with a marker) is taken out, to be put in a paragraph of its own after the page's cleaned text,
  instead of being read as part of the sentence it interrupts.

pdfplumber (pdfminer) reports the same facts with exact character boxes, but would add a second PDF
parser beside pypdf; run widths here are estimated from the font size (half an em a character), which
is enough to tell whether a line crosses a run.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

__all__ = ["PageMarks", "apply_marks", "page_marks"]

_MARKER = re.compile(r"^\s*(?:\d{1,3}|[*†‡§])\s*$")
_FOOTNOTE_START = re.compile(r"^\s*(\d{1,3}|[*†‡§])\s+\S")


@dataclass
class _Run:
    text: str
    x: float
    y: float
    size: float

    @property
    def end(self) -> float:
        return self.x + 0.5 * self.size * len(self.text)


@dataclass
class PageMarks:
    """Struck runs, footnote markers (with the run before each) and footnote lines of one page."""

    struck: list[str] = field(default_factory=list)
    markers: list[tuple[str, str]] = field(default_factory=list)
    footnotes: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.struck or self.markers or self.footnotes)


def _apply(m: list[float], x: float, y: float) -> tuple[float, float]:
    return x * m[0] + y * m[2] + m[4], x * m[1] + y * m[3] + m[5]


def page_marks(page: Any) -> tuple[str, PageMarks]:
    """The page's extracted text (pypdf, plain mode) and the marks found while extracting it."""
    runs: list[_Run] = []
    bars: list[tuple[float, float, float]] = []  # (x0, x1, y) of thin horizontal lines
    pen: list[tuple[float, float]] = []

    def on_text(text: str, cm: list[float], tm: list[float], font: Any, size: float) -> None:
        if text.strip():
            x, y = _apply(cm, tm[4], tm[5])
            scale = abs(tm[3] * cm[3]) or 1.0
            runs.append(_Run(text, x, y, float(size) * scale))

    def on_op(op: bytes, args: list[Any], cm: list[float], tm: list[float]) -> None:
        try:
            if op == b"m":
                pen[:] = [_apply(cm, float(args[0]), float(args[1]))]
            elif op == b"l" and pen:
                x, y = _apply(cm, float(args[0]), float(args[1]))
                x0, y0 = pen[-1]
                if abs(y - y0) < 0.5 and abs(x - x0) > 2:
                    bars.append((min(x, x0), max(x, x0), y))
                pen[:] = [(x, y)]
            elif op == b"re":
                x, y, w, h = (float(a) for a in args[:4])
                if abs(h) <= 1.5 and abs(w) > 2:
                    (ax, ay), (bx, _) = _apply(cm, x, y + h / 2), _apply(cm, x + w, y + h / 2)
                    bars.append((min(ax, bx), max(ax, bx), ay))
        except (TypeError, ValueError, IndexError):
            pass  # an operator with operands we do not understand draws nothing we look for

    text = page.extract_text(visitor_text=on_text, visitor_operand_before=on_op) or ""
    return text, _marks(runs, bars)


def _marks(runs: list[_Run], bars: list[tuple[float, float, float]]) -> PageMarks:
    marks = PageMarks()
    if not runs:
        return marks
    sizes: Counter[float] = Counter()
    for r in runs:
        sizes[round(r.size, 1)] += len(r.text)
    body = sizes.most_common(1)[0][0]
    for r in runs:
        width = r.end - r.x
        for x0, x1, y in bars:
            overlap = min(x1, r.end) - max(x0, r.x)
            if r.y + 0.1 * r.size <= y <= r.y + 0.7 * r.size and overlap >= 0.5 * width:
                marks.struck.append(r.text)
                break
    body_ys = [r.y for r in runs if abs(r.size - body) < 0.5]
    lowest_body = min(body_ys) if body_ys else 0.0
    in_note = False
    for i, r in enumerate(runs):
        small = r.size <= 0.8 * body
        if small and _MARKER.match(r.text) and i and any(abs(r.y - y) < body for y in body_ys):
            marks.markers.append((runs[i - 1].text, r.text))
        elif small and r.y < lowest_body and (in_note or _FOOTNOTE_START.match(r.text)):
            marks.footnotes.append(r.text)
            in_note = True
        else:
            in_note = False
    return marks


def apply_marks(text: str, marks: PageMarks) -> tuple[str, list[str]]:
    """``text`` without struck runs and footnote lines, markers written ``[n]``; and the footnotes, each
    as ``[n] text``, for the caller to put after the page's cleaned text."""
    for struck in marks.struck:
        text = re.sub(r"(?m)^[ \t]*" + re.escape(struck.strip()) + r"[ \t]*\n?", "", text, count=1)
        text = text.replace(struck, "", 1)
    for before, marker in marks.markers:
        if before and before + marker in text:
            text = text.replace(before + marker, f"{before.rstrip()}[{marker.strip()}]", 1)
    notes: list[str] = []
    for line in marks.footnotes:
        text = re.sub(r"(?m)^[ \t]*" + re.escape(line.strip()) + r"[ \t]*\n?", "", text, count=1)
        if notes and not _FOOTNOTE_START.match(line):
            notes[-1] += " " + line.strip()  # the next line of the same footnote
        else:
            notes.append(_FOOTNOTE_START.sub(lambda m: f"[{m.group(1)}] {m.group(0)[-1]}", line.strip(), count=1))
    return text, notes
