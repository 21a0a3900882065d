"""A one-page card (``card.docx``, A5, large print) to keep beside the phone at home: the task's steps
with their pictures, what never to do, and a line for the number of someone to ask."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator.render.base import RenderContext, format_spec
from generator.render.docx_common import DocBuilder, subject_of
from generator.render.fonts import find_font
from generator.render.labels import labels

if TYPE_CHECKING:
    from generator.lesson import Lesson
    from generator.schema import TargetGroup

#: Large print: at least 14 pt (the steps), more when the profile scales fonts.
CARD_PT = 14.0
ASK = {"vi": "Khi nghi ngờ, hỏi người thân hoặc cán bộ. Số điện thoại:", "en": "When in doubt, ask someone. Phone:"}


def render_card(lesson: Lesson, group: TargetGroup, path: Path, pictures: list[Any] | None = None) -> Path:
    """Write the card for ``lesson`` to ``path``."""
    from docx.shared import Cm

    from generator.render.pictures import step_pictures

    w = labels(lesson.language, group)
    size = max(CARD_PT, min(16.0, CARD_PT * group.accessibility.font_scale * 0.85))
    b = DocBuilder(lesson, find_font(), body_pt=size,
                   high_contrast=group.accessibility.high_contrast, title=lesson.title, subject=subject_of(lesson))
    section = b.doc.sections[0]
    section.page_width, section.page_height = Cm(14.8), Cm(21.0)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(1.2))
    b.heading(lesson.title, 1)
    shown = pictures if pictures is not None else step_pictures(lesson)
    pics = {p.step: p for p in shown} if "sight" not in group.modality.excludes else {}
    _steps_grid(b, lesson, pics)
    never = next((t.text for t in lesson.tips if t.kind == "mistake"), "")
    if never:
        b.para(never, lead=w["tip_mistake"] + ":")
    b.para("_" * 22, lead=ASK.get(lesson.language, ASK["en"]))
    return b.save(path)


def _steps_grid(b: DocBuilder, lesson: Lesson, pics: dict[int, Any]) -> None:
    """The steps two to a row, each as its words with its picture beside them, so that the card stays on
    one A5 page."""
    import io

    from docx.oxml.ns import qn
    from docx.shared import Cm

    n = len(lesson.steps)
    per_row = 2 if n > 2 else 1
    text_w, pic_w = (4.0, 2.2) if per_row == 2 else (9.4, 3.0)
    table = b.doc.add_table(rows=(n + per_row - 1) // per_row, cols=2 * per_row)
    table.autofit = False
    widths = [text_w, pic_w] * per_row
    grid = table._tbl.tblGrid
    for gc, width in zip(grid.findall(qn("w:gridCol")), widths, strict=True):
        gc.set(qn("w:w"), str(round(width * 567)))  # twentieths of a point per cm
    for col, width in zip(table.columns, widths, strict=True):
        for cell in col.cells:
            cell.width = Cm(width)
    for i, s in enumerate(lesson.steps):
        r, c = divmod(i, per_row)
        p = table.cell(r, 2 * c).paragraphs[0]
        p.add_run(f"{i + 1}. ").bold = True
        p.add_run(s.action)
        pic = pics.get(i + 1)
        if pic is not None:
            shape = table.cell(r, 2 * c + 1).paragraphs[0].add_run().add_picture(io.BytesIO(pic.png),
                                                                                  width=Cm(pic_w - 0.5))
            shape._inline.docPr.set("descr", pic.alt)


class CardRenderer:
    """One-page A5 card (.docx) with the steps and their pictures."""

    format = "card"
    suffix = ".docx"

    def render(self, lesson: Lesson, group: TargetGroup, out_dir: Path, ctx: RenderContext) -> Path:
        """Write ``card.docx`` in ``out_dir``."""
        return render_card(lesson, group, out_dir / format_spec(self.format).file, ctx.pictures)
