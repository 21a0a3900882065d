"""The facilitator guide (.docx): duration, materials, a minute-by-minute plan, what to say, discussion
prompts, the answer key with explanations and tips for the group."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator.render.base import RenderContext, format_spec
from generator.render.docx_common import DocBuilder, subject_of
from generator.render.fonts import find_font
from generator.render.handout import meta_line, paragraphs, steps_with_pictures
from generator.render.labels import LETTERS, labels

if TYPE_CHECKING:
    from generator.lesson import Lesson
    from generator.schema import TargetGroup

BODY_PT = 11.5

#: Share of the session each activity gets, in plan order.
PLAN_WEIGHTS: tuple[tuple[str, float], ...] = (
    ("warm_up", 1.0),
    ("objectives", 0.5),
    ("key_points", 2.0),
    ("steps", 2.5),
    ("example", 1.5),
    ("practice", 2.0),
    ("quiz", 1.0),
    ("wrap_up", 0.5),
)


@dataclass(frozen=True)
class Segment:
    """One row of the session plan: minutes from ``start`` to ``end``."""

    key: str
    start: int
    end: int
    activity: str
    say: str


def split_minutes(total: int, weights: list[float]) -> list[int]:
    """Whole minutes proportional to ``weights`` that add up to ``total`` (largest remainder)."""
    s = sum(weights)
    raw = [total * w / s for w in weights]
    out = [int(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: raw[i] - out[i], reverse=True)
    for i in order[: total - sum(out)]:
        out[i] += 1
    return out


def session_plan(lesson: Lesson, group: TargetGroup | None = None) -> list[Segment]:
    """The minute-by-minute plan for ``lesson`` (what to say and do fits ``group``'s learners);
    activities too short for a minute are left out."""
    w = labels(lesson.language, group)
    f = lesson.facilitator
    ask = f.discussion[0] if f.discussion else ""
    says = {
        "warm_up": f.warm_up or w["say_warm_up"],
        "objectives": w["say_objectives"].format(summary=lesson.summary),
        "key_points": w["say_key_points"] + " " + " ".join(k.text for k in lesson.key_points),
        "steps": w["say_steps"] + " " + " ".join(f"{i}) {s.action}" for i, s in enumerate(lesson.steps, 1)),
        "example": (w["say_example"] + " " + ask).strip(),
        "practice": w["say_practice"] + " " + lesson.practice.task,
        "quiz": w["say_quiz"],
        "wrap_up": w["say_wrap_up"] + " " + lesson.summary,
    }
    minutes = split_minutes(f.duration_minutes, [wt for _, wt in PLAN_WEIGHTS])
    plan, t = [], 0
    for (key, _), m in zip(PLAN_WEIGHTS, minutes, strict=True):
        if m == 0:
            continue
        plan.append(Segment(key, t, t + m, w[f"seg_{key}"], says[key]))
        t += m
    return plan


def render_guide(lesson: Lesson, group: TargetGroup, path: Path, pictures: list[Any] | None = None) -> Path:
    """Write the facilitator guide for ``lesson`` to ``path``."""
    w = labels(lesson.language, group)
    lang = lesson.language
    f = lesson.facilitator
    title = f"{w['guide_title']}: {lesson.title}"
    b = DocBuilder(
        lesson,
        find_font(),
        body_pt=BODY_PT,
        high_contrast=group.accessibility.high_contrast,
        title=title,
        subject=subject_of(lesson),
    )
    b.heading(title, 1)
    b.para(meta_line(lesson), italic=True)
    b.para(w["minutes"].format(n=f.duration_minutes), lead=w["duration"] + ":")
    b.para(lesson.summary)
    if lesson.provenance.content_verified is False:
        b.para(w["unverified"], lead=w["unverified_lead"], italic=True)

    b.heading(w["objectives"], 2)
    b.bullets([(f"{o.id}.", o.text) for o in lesson.objectives])

    b.heading(w["materials"], 2)
    b.bullets(list(f.materials))

    b.heading(w["how_to_run"], 2)
    for text in paragraphs(f.how_to_run):
        b.para(text)

    b.heading(w["plan"], 2)
    rows = [[f"{s.start}–{s.end}", s.activity, s.say] for s in session_plan(lesson, group)]
    b.table([w["plan_time"], w["plan_activity"], w["plan_say"]], rows, [2.0, 4.0, 11.0])

    b.heading(w["steps"], 2)
    steps_with_pictures(b, lesson, group, w, pictures)

    b.heading(w["script"], 2)
    for text in paragraphs(lesson.narration):
        b.para(text)

    if f.discussion:
        b.heading(w["discussion"], 2)
        b.bullets(list(f.discussion))

    b.heading(w["answers_explained"], 2)
    objectives = {o.id: o.text for o in lesson.objectives}
    for i, q in enumerate(lesson.quiz, 1):
        b.heading(f"{w['question'].format(n=i)}. {q.question}", 3)
        b.options(q.options)
        b.para(f"{LETTERS[q.answer]}. {q.options[q.answer]}", lead=w["answer_key"] + ":")
        b.para(q.explanation)
        b.para(
            f"{objectives.get(q.objective, '')}",
            lead=w["checks_objective"].format(id=q.objective) + ":",
            italic=True,
        )

    b.heading(w["group_tips"], 2)
    b.para(group.facilitation.get(lang))
    b.para(group.tone.get(lang), lead=w["tone"])
    b.para(group.accessibility.notes.get(lang), lead=w["access"])
    b.para(w["session"].format(n=group.session_minutes))
    mistakes = [t.text for t in lesson.tips if t.kind == "mistake"]
    if mistakes:
        b.para(lead=w["watch_mistakes"])
        b.bullets(mistakes)
    return b.save(path)


class GuideRenderer:
    """Facilitator guide (.docx) with python-docx."""

    format = "guide"
    suffix = ".docx"

    def render(self, lesson: Lesson, group: TargetGroup, out_dir: Path, ctx: RenderContext) -> Path:
        """Write ``guide.docx`` in ``out_dir``."""
        return render_guide(lesson, group, out_dir / format_spec(self.format).file, ctx.pictures)
