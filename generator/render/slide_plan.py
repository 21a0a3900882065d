"""Slide planning, without python-pptx: what each slide says, where its speaker notes come from, and
how its text is fitted (sizes, continuation slides). ``slides`` writes the result as a .pptx.

Speaker notes come from the narration: each narration sentence goes, in order, to the slide whose words
it shares most; a slide the narration does not cover gets its own facilitator line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from generator.lesson import sentences
from generator.render.fit import Fitter, Page, Para, Unit, fit_title, line_pts
from generator.render.fonts import text_measure
from generator.render.handout import meta_line, paragraphs
from generator.render.labels import LETTERS, labels

if TYPE_CHECKING:
    from generator.lesson import Lesson
    from generator.schema import TargetGroup

SLIDE_W, SLIDE_H = 960.0, 540.0  # points: 13.333 x 7.5 in, 16:9
MARGIN = 40.0
INSET_X, INSET_Y = 7.2, 3.6
TITLE_TOP = 26.0
BAR_H = 5.0
FOOTER_H = 34.0  # room at the bottom for the slide number
NUMBER_PT = 14.0
PICTURE_GAP = 24.0

_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Theme:
    """Colours and sizes for one group."""

    background: str
    text: str
    title: str
    accent: str
    body_pt: float
    body_floor: float
    title_pt: float
    title_floor: float

    @classmethod
    def for_group(cls, group: TargetGroup) -> Theme:
        """Large type when the profile scales fonts; white on black when it asks for high contrast."""
        acc = group.accessibility
        body = float(min(round(24 * acc.font_scale), 44))
        title = float(min(round(body * 1.2), 56))
        colours = (
            ("000000", "FFFFFF", "FFE14D", "FFE14D")
            if acc.high_contrast
            else ("FFFFFF", "1A1A1A", "0B3D91", "C8102E")
        )
        return cls(*colours, body, max(20.0, round(body * 0.8)), title, max(24.0, round(body * 0.9)))


@dataclass
class SlideSpec:
    """One slide before it is drawn: a title, its body pages (continuations), notes and kind."""

    kind: str
    title: str
    units: list[Unit]
    notes: str = ""
    rel_title: float = 1.0
    picture: bytes | None = None  # a drawn phone screen shown to the right of the text
    alt: str = ""


# -- content ----------------------------------------------------------------------------------------
def slide_specs(lesson: Lesson, group: TargetGroup | None = None,
                pictures: list[Any] | None = None) -> list[SlideSpec]:
    """The deck's slides, in order, before layout (notes fit ``group``'s learners)."""
    w = labels(lesson.language, group)
    specs = [SlideSpec("title", lesson.title, [(Para(lesson.summary),), (Para(meta_line(lesson), rel=0.7),)])]
    specs.append(
        SlideSpec("objectives", w["objectives"], [(Para(o.text, "bullet"),) for o in lesson.objectives])
    )
    n = len(lesson.key_points)
    for i, k in enumerate(lesson.key_points, 1):
        title = w["key_point"].format(n=f"{i}/{n}") if n > 1 else w["key_points"]
        specs.append(SlideSpec("key_point", title, [(Para(k.text, rel=1.1),)]))
    pics = {}
    if group is None or "sight" not in group.modality.excludes:
        from generator.render.pictures import step_pictures

        pics = {p.step: p for p in (pictures if pictures is not None else step_pictures(lesson))}
    if pics:  # one slide a step, its phone screen beside it
        n = len(lesson.steps)
        for i, s in enumerate(lesson.steps, 1):
            pic = pics.get(i)
            specs.append(SlideSpec("step", f"{w['slides_steps']} {i}/{n}",
                                   [(Para(s.action, bold=True),), (Para(f"{w['expect']} {s.expect}", rel=0.85),)],
                                   picture=pic.png if pic else None, alt=pic.alt if pic else ""))
    else:
        specs.append(
            SlideSpec(
                "steps",
                w["slides_steps"],
                [
                    (
                        Para(s.action, "number", start=i, bold=True),
                        Para(f"{w['expect']} {s.expect}", "cont", rel=0.85),
                    )
                    for i, s in enumerate(lesson.steps, 1)
                ],
            )
        )
    specs.append(SlideSpec("example", w["example"], [(Para(t),) for t in paragraphs(lesson.example)]))
    specs.append(
        SlideSpec(
            "practice",
            w["practice"],
            [
                (Para(lesson.practice.task),),
                (Para(f"{w['expected']} {lesson.practice.expected}", rel=0.9),),
            ],
        )
    )
    for i, q in enumerate(lesson.quiz, 1):
        title = w["question"].format(n=i)
        units: list[Unit] = [(Para(q.question, bold=True),)]
        units += [(Para(opt, "letter", start=j),) for j, opt in enumerate(q.options, 1)]
        specs.append(SlideSpec("question", title, units, w["notes_question"]))
        letter = LETTERS[q.answer]
        specs.append(
            SlideSpec(
                "answer",
                w["answer_of"].format(n=i),
                [
                    (Para(f"{letter}. {q.options[q.answer]}", bold=True),),
                    (Para(q.explanation),),
                ],
                w["notes_answer"].format(letter=letter, explanation=q.explanation),
            )
        )
    summary: list[Unit] = [(Para(lesson.summary, bold=True),)]
    summary += [(Para(t.text, "bullet"),) for t in lesson.tips if t.kind == "safety"]
    specs.append(SlideSpec("summary", w["summary"], summary))
    specs[0].notes = w["notes_title"].format(title=lesson.title, summary=lesson.summary)
    return specs


def _tokens(text: str) -> set[str]:
    words = _WORD.findall(text.lower())
    return set(words) | {f"{a} {b}" for a, b in zip(words, words[1:], strict=False)}


#: A narration sentence sharing less than this share of its words with every slide is a connector
#: ("Thứ nhất.", "Một câu chuyện có thật quanh ta.") and goes with the sentence after it.
CONNECTOR_SHARE = 0.25


def assign_narration(narration: str, slide_texts: list[str]) -> list[list[str]]:
    """Give each narration sentence to the slide it speaks: the slide sharing most of its words (the
    first such slide on a tie). Connectors go with the next sentence's slide ("Thứ nhất." with the first
    key point), opening ones (the greeting) with the first slide, trailing ones with the last. Each slide's
    sentences keep the narration's order — the narration may tell the story before the steps even where
    the example slide comes after them."""
    sents = sentences(narration)
    m = len(slide_texts)
    out: list[list[str]] = [[] for _ in range(m)]
    if not sents or not m:
        return out
    slide_tok = [_tokens(t) for t in slide_texts]
    out[0].append(sents[0])  # the opening words (a greeting) go with the title
    pending: list[str] = []
    started = False
    for s in sents[1:]:
        tok = _tokens(s)
        scores = [len(tok & st) / (len(tok) or 1) for st in slide_tok]
        j = max(range(m), key=lambda k: (scores[k], -k))
        if scores[j] < CONNECTOR_SHARE:
            pending.append(s)
            continue
        if not started:  # connectors right after the greeting stay on the first slide
            out[0] += pending
            pending, started = [], True
        out[j] += [*pending, s]
        pending = []
    out[-1] += pending
    return out


def add_notes(placed: list[Placed], lesson: Lesson, group: TargetGroup | None = None) -> None:
    """Speaker notes for every slide: its narration sentences, then its own facilitator line if any,
    else a reminder to read the slide slowly."""
    texts = [pl.title + " " + " ".join(p.text for p in pl.page.paras) for pl in placed]
    assigned = assign_narration(lesson.narration, texts)
    read = labels(lesson.language, group)["notes_read"]
    for pl, said in zip(placed, assigned, strict=True):
        own = " ".join(_sentence(p.text) for p in pl.page.paras)
        pl.notes = " ".join(x for x in (" ".join(said), pl.spec.notes) if x) or f"{read} {own}"


def _sentence(text: str) -> str:
    """``text`` ending with a full stop, so list items read as sentences in the notes."""
    return text if text[-1:] in ".!?…:" else text + "."


# -- layout -----------------------------------------------------------------------------------------
@dataclass
class Placed:
    """A slide ready to draw: title text, its size and height, the body page and its box top."""

    spec: SlideSpec
    title: str
    title_pt: float
    title_h: float
    body_top: float
    page: Page
    title_top: float = TITLE_TOP
    notes: str = ""
    body_w: float = SLIDE_W - 2 * MARGIN  # the text box's width (narrower beside a picture)
    picture_box: tuple[float, float, float, float] | None = None  # x, y, w, h in points


def layout(specs: list[SlideSpec], theme: Theme, lang: str) -> list[Placed]:
    """Fit every slide's title and body; split bodies over continuation slides where needed."""
    m = text_measure()
    w = labels(lang)
    inner_w = SLIDE_W - 2 * MARGIN - 2 * INSET_X
    placed: list[Placed] = []
    for spec in specs:
        if spec.kind == "title":
            placed.append(_layout_title_slide(spec, theme, inner_w))
            continue
        suffix = ""
        text_w, pic = inner_w, None
        for _ in range(2):  # the continuation mark may change the title's height: lay out again
            size, lines = fit_title(m, spec.title + suffix, inner_w, theme.title_pt, theme.title_floor)
            title_h = len(lines) * line_pts(size) + 2 * INSET_Y
            body_top = TITLE_TOP + title_h + BAR_H + 14
            body_h = SLIDE_H - FOOTER_H - body_top - 2 * INSET_Y
            if spec.picture is not None:  # a 9:16 phone screen at the right, as tall as the body
                pic_h = SLIDE_H - FOOTER_H - body_top + 10
                pic_w = pic_h * 9 / 16
                pic = (SLIDE_W - MARGIN - pic_w, body_top - 6, pic_w, pic_h)
                text_w = inner_w - pic_w - PICTURE_GAP
            pages = Fitter(m, text_w, body_h).paginate(spec.units, theme.body_pt, theme.body_floor)
            if len(pages) == 1 or suffix:
                break
            suffix = " " + w["continued"].format(i=len(pages), n=len(pages))
        for i, page in enumerate(pages, 1):
            title = (
                spec.title if len(pages) == 1 else f"{spec.title} {w['continued'].format(i=i, n=len(pages))}"
            )
            placed.append(Placed(spec, title, size, title_h, body_top, page,
                                 body_w=text_w + 2 * INSET_X, picture_box=pic))
    return placed


def _layout_title_slide(spec: SlideSpec, theme: Theme, inner_w: float) -> Placed:
    m = text_measure()
    big = min(theme.title_pt * 1.2, 60.0)
    size, lines = fit_title(m, spec.title, inner_w, big, theme.title_floor, max_lines=3)
    title_h = len(lines) * line_pts(size) + 2 * INSET_Y
    top = max(60.0, (SLIDE_H - title_h) / 2 - 80)
    body_top = top + title_h + BAR_H + 24
    body_h = SLIDE_H - FOOTER_H - body_top - 2 * INSET_Y
    fitter = Fitter(m, inner_w, body_h)
    flat = [p for u in spec.units for p in u]
    body = fitter.best_size(flat, theme.body_pt, 12.0) or 12.0
    return Placed(spec, spec.title, size, title_h, body_top, Page(body, tuple(spec.units)), top)


def plan_slides(lesson: Lesson, group: TargetGroup, pictures: list[Any] | None = None) -> list[Placed]:
    """Every slide of the deck, laid out for ``group``, with its speaker notes."""
    placed = layout(slide_specs(lesson, group, pictures), Theme.for_group(group), lesson.language)
    add_notes(placed, lesson, group)
    return placed
