"""Step pictures: a drawn phone screen for every hands-on step, from its declarative sketch.

A sketch (``generator.sketch.ScreenSketch``) says which app and screen, what the learner sees and what to
tap; this module draws it with Pillow in the lesson's font (Be Vietnam Pro, or DejaVu Sans): the app's top
bar, the items (switches drawn as switches), the buttons, a banner for a message, and the control to tap
ringed in red with an arrow. Drawn, not photographed: screenshots are copyrighted and go stale with every
app update. A step without a sketch gets one made from its own words: the labels it quotes (“Cài đặt”)
become the items and the last one the target.

    pics = step_pictures(lesson)     # a StepPicture per step that shows a control, in order
    pics[0].png, pics[0].alt         # PNG bytes (embedded in the documents, the deck and the page)

Pictures are cached in memory by a hash of the sketch, so the formats of one lesson draw each once.
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from generator.sketch import ScreenSketch, switch_state

if TYPE_CHECKING:
    from generator.lesson import Lesson
    from generator.render.images import ImageBackend
    from generator.schema import TargetGroup

#: Picture size in pixels (9:16, a phone held upright); crisp at slide size and in print at 6 cm.
WIDTH, HEIGHT = 720, 1280
#: Top bar colour per app (its own brand colour where it has a well-known one), else hocvu blue.
APP_COLOURS: dict[str, str] = {
    "zalo": "#0068FF", "facebook": "#1877F2", "messenger": "#0084FF", "vneid": "#C8102E", "youtube": "#FF0000",
    "tiktok": "#111111", "gmail": "#D93025", "google": "#1A73E8", "chrome": "#1A73E8", "momo": "#A50064",
    "zalopay": "#0068FF", "shopee": "#EE4D2D", "word": "#2B579A", "excel": "#217346", "chatgpt": "#10A37F",
    "cài đặt": "#3C4043", "settings": "#3C4043", "dịch vụ công": "#B71C1C", "canva": "#00C4CC",
}
DEFAULT_COLOUR = "#0B3D91"
RING = "#D0021B"
_QUOTED = re.compile(r"[“\"]([^”\"]{1,40})[”\"]")


@dataclass(frozen=True)
class StepPicture:
    """The picture of one step (1-based): PNG bytes and the alt text that says what the learner does."""

    step: int
    png: bytes
    alt: str


def picture_scale(group: TargetGroup) -> float:
    """How much larger than usual a group's pictures are: deaf learners learn by seeing, and learners
    with low vision read large print (their profile scales the fonts)."""
    bigger = "hearing" in group.modality.excludes or group.accessibility.font_scale >= 1.3
    return 1.5 if bigger else 1.0


def sketch_for(action: str, expect: str, app: str, lang: str) -> ScreenSketch | None:
    """A sketch made from a step's own words: the labels it quotes are what the learner sees and taps
    (None when the step quotes nothing: there is no control to show)."""
    labels = list(dict.fromkeys(m.strip() for m in _QUOTED.findall(action) if m.strip()))[:6]
    if not labels:
        return None
    note = expect if len(expect) <= 200 else expect[:197] + "…"
    return ScreenSketch(app=app[:40] or ("Điện thoại" if lang == "vi" else "Phone"), title="", kind="list",
                        items=[x[:60] for x in labels], tap=labels[-1][:60], note=note)


def result_sketch(expect: str, app: str, lang: str) -> ScreenSketch:
    """For a step that names no control: the screen showing what the learner should see."""
    text = expect if len(expect) <= 60 else expect[:59].rsplit(" ", 1)[0] + "…"
    return ScreenSketch(app=app[:40] or ("Điện thoại" if lang == "vi" else "Phone"), kind="message",
                        items=[text], tap=text)


def step_pictures(lesson: Lesson, images: ImageBackend | None = None,
                  notes: list[str] | None = None) -> list[StepPicture]:
    """A picture for every step, in step order: its own screen, else one made from the controls it
    quotes, else the screen showing the result it expects. ``images`` may generate the pictures of steps
    with a screen instead of drawing them (its notes go to ``notes``)."""
    app = next((s.screen.app for s in lesson.steps if s.screen is not None), "")
    pics: list[StepPicture] = []
    for i, step in enumerate(lesson.steps, 1):
        sketch = step.screen or sketch_for(step.action, step.expect, app, lesson.language)
        if sketch is not None:
            png = draw_png(sketch)
            if images is not None and images.name != "sketch":
                png, note = images.picture(sketch, step.action, lesson.language)
                if note and notes is not None and note not in notes:
                    notes.append(note)
            pics.append(StepPicture(i, png, sketch.alt_text(lesson.language)))
            continue
        sketch = result_sketch(step.expect, app, lesson.language)
        where = sketch.app
        alt = f"Màn hình {where}: {step.expect}" if lesson.language == "vi" else f"{where} screen: {step.expect}"
        pics.append(StepPicture(i, draw_png(sketch), alt))
    return pics


def sketch_key(sketch: ScreenSketch) -> str:
    """A stable hash of what a sketch draws (and of the drawing code's version)."""
    return hashlib.sha256(("v1" + sketch.model_dump_json()).encode()).hexdigest()[:16]


def draw_png(sketch: ScreenSketch) -> bytes:
    """The sketch drawn as PNG bytes (cached in memory by the sketch's hash)."""
    return _draw_cached(sketch_key(sketch), sketch.model_dump_json())


@lru_cache(maxsize=256)
def _draw_cached(key: str, data: str) -> bytes:
    sketch = ScreenSketch.model_validate_json(data)
    image = _Painter(sketch).draw()
    buf = io.BytesIO()
    # zlib's default level without Pillow's optimize pass: 2.4× faster to encode for ~8 % more bytes (3
    # lessons' step pictures: 0.78 s → 0.32 s of CPU, 309 → 333 KB), and drawing pictures was most of a
    # page's render time in a batch build
    image.save(buf, format="PNG", compress_level=6)
    return buf.getvalue()


# -- drawing ------------------------------------------------------------------------------------------
@lru_cache(maxsize=32)
def font_at(size: int, bold: bool = False) -> Any:
    """The lesson font (Be Vietnam Pro, or DejaVu Sans) at ``size`` pixels, for Pillow."""
    from PIL import ImageFont

    from generator.render.fonts import find_font

    face = find_font()
    return ImageFont.truetype(str(face.bold if bold else face.regular), size)


class _Painter:
    """Draws one sketch on a phone-shaped canvas."""

    PAD = 36

    def __init__(self, sketch: ScreenSketch) -> None:
        from PIL import Image, ImageDraw

        self.s = sketch
        self.img = Image.new("RGB", (WIDTH, HEIGHT), "#FFFFFF")
        self.d = ImageDraw.Draw(self.img)
        self.colour = APP_COLOURS.get(sketch.app.strip().lower(), DEFAULT_COLOUR)
        self.target: tuple[float, float, float, float] | None = None

    def draw(self) -> Any:
        self._frame()
        y = self._top_bar()
        if self.s.note and self.s.kind != "dialog":
            y = self._banner(y)
        kind = self.s.kind
        if kind == "dialog":
            self._dialog(y)
        elif kind == "home":
            self._home(y)
        elif kind == "chat":
            self._chat(y)
        elif kind == "message":
            self._result(y)
        elif kind == "form":
            self._form(y)
        else:
            self._list(y)
        if kind != "dialog":
            self._buttons()
        self._ring()
        return self.img

    # frame, bars
    def _frame(self) -> None:
        d = self.d
        d.rounded_rectangle((0, 0, WIDTH - 1, HEIGHT - 1), radius=56, outline="#1A1A1A", width=14)
        d.text((60, 34), "9:41", font=font_at(26, True), fill="#1A1A1A")
        d.rounded_rectangle((WIDTH - 120, 38, WIDTH - 64, 62), radius=6, outline="#1A1A1A", width=3)
        d.rectangle((WIDTH - 116, 42, WIDTH - 78, 58), fill="#1A1A1A")

    def _top_bar(self) -> int:
        top, h = 80, 150
        self.d.rectangle((14, top, WIDTH - 15, top + h), fill=self.colour)
        self.d.text((self.PAD, top + 18), self.s.app, font=font_at(34, True), fill="#FFFFFF")
        if self.s.title:
            self._text_in((self.PAD, top + 70, WIDTH - self.PAD, top + h - 8), self.s.title, 40, True, "#FFFFFF")
        return top + h + 18

    def _banner(self, y: int) -> int:
        lines = self._wrap(self.s.note, 28, WIDTH - 2 * self.PAD - 32)[:4]
        h = 24 + 38 * len(lines)
        self.d.rounded_rectangle((self.PAD, y, WIDTH - self.PAD, y + h), radius=14, fill="#FFF4CE",
                                 outline="#E0B000", width=3)
        for i, line in enumerate(lines):
            self.d.text((self.PAD + 16, y + 12 + 38 * i), line, font=font_at(28), fill="#3A2E00")
        return y + h + 18

    # layouts
    def _rows_top_bottom(self, y: int) -> tuple[int, int]:
        bottom = HEIGHT - 60 - (130 if self.s.buttons else 0)
        return y, bottom

    def _list(self, y: int) -> None:
        top, bottom = self._rows_top_bottom(y)
        n = len(self.s.items)
        row = max(86, min(130, (bottom - top) // max(n, 1)))
        for i, item in enumerate(self.s.items):
            label, on = switch_state(item)
            y0 = top + i * row
            if y0 + row > bottom:
                break
            box = (22, y0 + 4, WIDTH - 23, y0 + row - 4)
            self.d.line((self.PAD, y0 + row - 1, WIDTH - self.PAD, y0 + row - 1), fill="#DADCE0", width=2)
            right = WIDTH - self.PAD - (120 if on is not None else 40)
            self._text_in((self.PAD, y0 + 8, right, y0 + row - 8), label, 36, False, "#1A1A1A", valign=True)
            if on is not None:
                self._switch(WIDTH - self.PAD - 96, y0 + row // 2 - 26, on)
            else:
                self.d.text((WIDTH - self.PAD - 26, y0 + row // 2 - 24), "›", font=font_at(44), fill="#9AA0A6")
            if item == self.s.tap:
                self.target = box

    def _form(self, y: int) -> None:
        top, bottom = self._rows_top_bottom(y)
        row = max(110, min(150, (bottom - top) // max(len(self.s.items), 1)))
        for i, item in enumerate(self.s.items):
            y0 = top + i * row
            if y0 + row > bottom:
                break
            self.d.text((self.PAD, y0), item, font=font_at(28, True), fill="#3C4043")
            box = (self.PAD, y0 + 42, WIDTH - self.PAD, y0 + row - 14)
            self.d.rounded_rectangle(box, radius=12, outline="#9AA0A6", width=3)
            if item == self.s.tap:
                self.target = (box[0] - 8, y0 - 6, box[2] + 8, box[3] + 8)

    def _chat(self, y: int) -> None:
        top, bottom = self._rows_top_bottom(y)
        yy = top
        for i, item in enumerate(self.s.items):
            mine = i % 2 == 1
            lines = self._wrap(item, 32, WIDTH - 2 * self.PAD - 160)[:3]
            h = 28 + 42 * len(lines)
            if yy + h > bottom:
                break
            w = max(self._width(x, 32) for x in lines) + 48
            x0 = WIDTH - self.PAD - w if mine else self.PAD
            box = (x0, yy, x0 + w, yy + h)
            self.d.rounded_rectangle(box, radius=24, fill="#D2E3FC" if mine else "#F1F3F4")
            for j, line in enumerate(lines):
                self.d.text((x0 + 24, yy + 14 + 42 * j), line, font=font_at(32), fill="#1A1A1A")
            if item == self.s.tap:
                self.target = (box[0] - 8, box[1] - 8, box[2] + 8, box[3] + 8)
            yy += h + 20

    def _home(self, y: int) -> None:
        cols, size = 3, 150
        gap = (WIDTH - 2 * self.PAD - cols * size) // (cols - 1)
        for i, item in enumerate(self.s.items):
            r, c = divmod(i, cols)
            x0, y0 = self.PAD + c * (size + gap), y + 20 + r * (size + 90)
            colour = APP_COLOURS.get(item.strip().lower(), "#5F6368")
            self.d.rounded_rectangle((x0 + 20, y0, x0 + size - 20, y0 + size - 40), radius=28, fill=colour)
            initial = item.strip()[:1].upper()
            self.d.text((x0 + size // 2, y0 + (size - 40) // 2), initial, font=font_at(56, True), fill="#FFFFFF",
                        anchor="mm")
            self._text_in((x0 - 6, y0 + size - 34, x0 + size + 6, y0 + size + 40), item, 26, False, "#1A1A1A",
                          center=True)
            if item == self.s.tap:
                self.target = (x0 + 4, y0 - 16, x0 + size - 4, y0 + size + 44)

    def _result(self, y: int) -> None:
        """What the learner should see: one large card in the middle of the screen."""
        lines = self._wrap(self.s.items[0], 40, WIDTH - 2 * self.PAD - 60, True)[:4]
        h = 60 + 54 * len(lines)
        top = y + 120
        box = (self.PAD, top, WIDTH - self.PAD, top + h)
        self.d.rounded_rectangle(box, radius=24, fill="#E8F0FE")
        for i, line in enumerate(lines):
            self.d.text((self.PAD + 30, top + 30 + 54 * i), line, font=font_at(40, True), fill="#1A1A1A")
        self.target = (box[0] - 10, box[1] - 10, box[2] + 10, box[3] + 10)

    def _dialog(self, y: int) -> None:
        self.d.rectangle((14, y - 18, WIDTH - 15, HEIGHT - 15), fill="#7F8388")
        lines = self._wrap(self.s.note or self.s.title or self.s.app, 32, WIDTH - 2 * self.PAD - 80)[:5]
        n = len(self.s.items) + len(self.s.buttons)
        h = 60 + 44 * len(lines) + 96 * n
        top = max(y + 40, (HEIGHT - h) // 2)
        self.d.rounded_rectangle((self.PAD, top, WIDTH - self.PAD, top + h), radius=28, fill="#FFFFFF")
        for i, line in enumerate(lines):
            self.d.text((self.PAD + 40, top + 30 + 44 * i), line, font=font_at(32), fill="#1A1A1A")
        yy = top + 50 + 44 * len(lines)
        for label in [*self.s.items, *self.s.buttons]:
            box = (self.PAD + 40, yy, WIDTH - self.PAD - 40, yy + 78)
            self.d.rounded_rectangle(box, radius=18, outline=self.colour, width=3)
            self._text_in((box[0] + 10, box[1], box[2] - 10, box[3]), switch_state(label)[0], 32, True, self.colour,
                          center=True, valign=True)
            if label == self.s.tap:
                self.target = (box[0] - 10, box[1] - 10, box[2] + 10, box[3] + 10)
            yy += 96

    def _buttons(self) -> None:
        if not self.s.buttons:
            return
        n = len(self.s.buttons)
        gap = 20
        w = (WIDTH - 2 * self.PAD - gap * (n - 1)) // n
        y0 = HEIGHT - 60 - 100
        for i, label in enumerate(self.s.buttons):
            x0 = self.PAD + i * (w + gap)
            box = (x0, y0, x0 + w, y0 + 90)
            self.d.rounded_rectangle(box, radius=22, fill=self.colour)
            self._text_in((x0 + 8, y0, x0 + w - 8, y0 + 90), label, 32, True, "#FFFFFF", center=True, valign=True)
            if label == self.s.tap:
                self.target = (box[0] - 12, box[1] - 12, box[2] + 12, box[3] + 12)

    def _switch(self, x: int, y: int, on: bool) -> None:
        colour = self.colour if on else "#BDC1C6"
        self.d.rounded_rectangle((x, y, x + 96, y + 52), radius=26, fill=colour)
        cx = x + 70 if on else x + 26
        self.d.ellipse((cx - 22, y + 4, cx + 22, y + 48), fill="#FFFFFF")

    def _ring(self) -> None:
        """The control to tap: a thick red ring and an arrow pointing at it from the side with more room."""
        if self.target is None:
            return
        x0, y0, x1, y1 = self.target
        x0, y0, x1, y1 = max(18, x0), max(84, y0), min(WIDTH - 19, x1), min(HEIGHT - 19, y1)
        self.d.rounded_rectangle((x0, y0, x1, y1), radius=26, outline="#FFFFFF", width=17)
        self.d.rounded_rectangle((x0, y0, x1, y1), radius=26, outline=RING, width=9)
        x = max(x0 + 60, min(x1 - 50, WIDTH - 110))
        if y1 + 140 < HEIGHT - 40:  # room below: a short arrow points up at the ring's lower edge
            tip, tail = (x, y1 + 6), (x - 60, y1 + 120)
        else:
            tip, tail = (x, y0 - 6), (x - 60, y0 - 120)
        self._arrow(tail, tip)

    def _arrow(self, tail: tuple[float, float], tip: tuple[float, float]) -> None:
        import math

        ang = math.atan2(tip[1] - tail[1], tip[0] - tail[0])
        heads = [(tip[0] + 44 * math.cos(ang + math.pi - s * 0.45), tip[1] + 44 * math.sin(ang + math.pi - s * 0.45))
                 for s in (-1, 1)]
        for colour, width in (("#FFFFFF", 22), (RING, 12)):  # a white halo keeps it apart from the text
            self.d.line((tail, tip), fill=colour, width=width)
            for h in heads:
                self.d.line((tip, h), fill=colour, width=width)

    # text helpers
    def _width(self, text: str, size: int, bold: bool = False) -> float:
        return float(font_at(size, bold).getlength(text))

    def _wrap(self, text: str, size: int, width: int, bold: bool = False) -> list[str]:
        words, lines, cur = text.split(), [], ""
        for w in words:
            trial = f"{cur} {w}".strip()
            if self._width(trial, size, bold) <= width or not cur:
                cur = trial
            else:
                lines.append(cur)
                cur = w
        if cur:
            lines.append(cur)
        return lines or [""]

    def _text_in(self, box: tuple[int, int, int, int], text: str, size: int, bold: bool, fill: str, *,
                 center: bool = False, valign: bool = False) -> None:
        """``text`` in ``box``: wrapped to two lines at most, shrunk until it fits."""
        x0, y0, x1, y1 = box
        width, height = x1 - x0, y1 - y0
        for s in range(size, 15, -2):
            lines = self._wrap(text, s, width, bold)
            line_h = int(s * 1.3)
            if len(lines) <= 2 and all(self._width(x, s, bold) <= width for x in lines) and \
                    line_h * len(lines) <= height:
                break
        lines = lines[:2]
        total = line_h * len(lines)
        y = y0 + (height - total) // 2 if valign else y0
        for line in lines:
            x = x0 + (width - self._width(line, s, bold)) / 2 if center else x0
            self.d.text((x, y), line, font=font_at(s, bold), fill=fill)
            y += line_h
