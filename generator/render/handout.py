"""The learner handout (.docx): the lesson in reading order, the quiz's answer key on its own last page."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator.render.base import RenderContext, format_spec
from generator.render.docx_common import DocBuilder, subject_of
from generator.render.fonts import find_font
from generator.render.labels import LETTERS, labels

if TYPE_CHECKING:
    from generator.lesson import Lesson, SourceCitation
    from generator.schema import TargetGroup

BODY_PT = 12.0


def meta_line(lesson: Lesson) -> str:
    """'Năng lực 4.2 · Bậc 1 · vn-dcf-2025' in the lesson's language."""
    return labels(lesson.language)["meta"].format(
        code=lesson.competence, level=lesson.level, framework=lesson.framework
    )


def source_line(src: SourceCitation, lang: str) -> str:
    """A source as one readable line: title, file, section, printed page."""
    text = src.title or src.id
    if src.file:
        text += f" — {src.file}"
    if src.section:
        text += f", {src.section}"
    label = src.page_label or (str(src.page) if src.page is not None else "")
    if label:
        text += f", {labels(lang)['page_short']} {label}"
    return text


def reference_numbers(lesson: Lesson) -> dict[str, int]:
    """Passage id -> its number in the Sources list, which claims cite as [n]."""
    return {s.id: i for i, s in enumerate(lesson.sources, 1)}


def reference_mark(ids: list[str], refs: dict[str, int]) -> str:
    """' [1, 3]' for a claim citing those sources; '' for one citing none."""
    numbers = sorted({refs[i] for i in ids if i in refs})
    return f" [{', '.join(map(str, numbers))}]" if numbers else ""


def paragraphs(text: str) -> list[str]:
    """``text`` split at blank or single line breaks, empty lines dropped."""
    return [p.strip() for p in text.splitlines() if p.strip()]


def steps_with_pictures(b: DocBuilder, lesson: Lesson, group: TargetGroup, w: dict[str, str],
                        pictures: list[Any] | None = None, refs: dict[str, int] | None = None) -> None:
    """The numbered steps, each followed by its phone screen (larger for the groups that need it); with
    ``refs`` (a document that lists its sources), a step citing a source carries its number."""
    from generator.render.pictures import picture_scale, step_pictures

    if "sight" in group.modality.excludes:
        pics = {}
    else:
        pics = {p.step: p for p in (pictures if pictures is not None else step_pictures(lesson))}
    width = 5.0 * picture_scale(group)
    for i, s in enumerate(lesson.steps, 1):
        b.numbered([(s.action + reference_mark(s.sources, refs or {}), f"{w['expect']} {s.expect}")])
        if i in pics:
            b.picture(pics[i].png, pics[i].alt, width)


def render_handout(lesson: Lesson, group: TargetGroup, path: Path, pictures: list[Any] | None = None) -> Path:
    """Write the learner handout for ``lesson`` to ``path``."""
    w = labels(lesson.language, group)
    acc = group.accessibility
    b = DocBuilder(
        lesson,
        find_font(),
        body_pt=BODY_PT * acc.font_scale,
        high_contrast=acc.high_contrast,
        title=lesson.title,
        subject=subject_of(lesson),
    )
    b.heading(lesson.title, 1)
    b.para(meta_line(lesson), italic=True)
    b.para(lesson.summary)

    b.heading(w["objectives"], 2)
    b.para(w["objectives_lead"])
    b.bullets([o.text for o in lesson.objectives])

    ink = "#000000" if acc.high_contrast else "#0B3D91"
    b.heading(w["key_points"], 2)
    refs = reference_numbers(lesson)
    b.icon_bullets([("key_point", "", k.text + reference_mark(k.sources, refs)) for k in lesson.key_points], ink)

    b.heading(w["steps"], 2)
    steps_with_pictures(b, lesson, group, w, pictures, refs)

    b.heading(w["example"], 2)
    for text in paragraphs(lesson.example):
        b.para(text)

    if lesson.tips:
        b.heading(w["tips"], 2)
        b.icon_bullets([(f"tip_{t.kind}", w[f"tip_{t.kind}"] + ":", t.text) for t in lesson.tips], ink)

    b.heading(w["practice"], 2)
    b.para(lesson.practice.task, lead=w["task"])
    b.para(lesson.practice.expected, lead=w["expected"])

    b.heading(w["quiz"], 2)
    for i, q in enumerate(lesson.quiz, 1):
        b.question(w["question"].format(n=i) + ".", q.question, q.options)

    if lesson.glossary:
        b.heading(w["glossary"], 2)
        for g in lesson.glossary:
            b.para(g.definition, lead=f"{g.term}:")

    if lesson.sources:
        b.heading(w["sources"], 2)
        b.bullets([(f"[{i}]", source_line(s, lesson.language)) for i, s in enumerate(lesson.sources, 1)])

    from generator.render.icons import CREDIT

    b.para(CREDIT.get(lesson.language, CREDIT["en"]), italic=True)
    b.heading(w["answer_key"], 2, new_page=True)
    for i, q in enumerate(lesson.quiz, 1):
        answer = f"{LETTERS[q.answer]}. {q.options[q.answer]}"
        b.para(f"{answer} — {q.explanation}", lead=w["question"].format(n=i) + ":")
    return b.save(path)


class HandoutRenderer:
    """Learner handout (.docx) with python-docx."""

    format = "handout"
    suffix = ".docx"

    def render(self, lesson: Lesson, group: TargetGroup, out_dir: Path, ctx: RenderContext) -> Path:
        """Write ``handout.docx`` in ``out_dir``."""
        return render_handout(lesson, group, out_dir / format_spec(self.format).file, ctx.pictures)
