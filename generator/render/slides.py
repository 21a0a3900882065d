"""The slide deck (.pptx), 16:9: title, objectives, one slide per key point, steps, the example, practice,
each quiz question followed by its answer, and a summary, planned by ``slide_plan``.

Slides and notes are written as DrawingML text and handed to python-pptx as parts: its object API
costs a few milliseconds per slide (an XPath per property), which would blow the render budget. Every
run carries the lesson's language; the decorative bar is marked decorative for screen readers.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator.fsutil import write_bytes_atomic
from generator.render.base import LANG_TAGS, RenderContext, format_spec
from generator.render.docx_common import set_core_properties, subject_of, xml_text
from generator.render.fit import Para, gap_pts, indent_pts, line_pts
from generator.render.fonts import find_font
from generator.render.slide_plan import (
    BAR_H,
    FOOTER_H,
    INSET_X,
    INSET_Y,
    MARGIN,
    NUMBER_PT,
    SLIDE_H,
    SLIDE_W,
    Placed,
    Theme,
    plan_slides,
)

if TYPE_CHECKING:
    from generator.lesson import Lesson
    from generator.schema import TargetGroup

EMU = 12700  # per point
_THEME_LATIN = re.compile(rb"(<a:(major|minor)Font>\s*<a:latin typeface=\")[^\"]*(\")")
_NS = (
    'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
    'xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"'
)
_DECORATIVE = (
    '<a:extLst><a:ext uri="{C183D7F6-B498-43B3-948B-1728B52AA6E4}">'
    '<adec:decorative xmlns:adec="http://schemas.microsoft.com/office/drawing/2017/decorative" val="1"/>'
    "</a:ext></a:extLst>"
)


def _emu(pt: float) -> int:
    return int(round(pt * EMU))


def _xfrm(x: float, y: float, w: float, h: float) -> str:
    return f'<a:xfrm><a:off x="{_emu(x)}" y="{_emu(y)}"/><a:ext cx="{_emu(w)}" cy="{_emu(h)}"/></a:xfrm>'


def _set_theme_font(prs: Any, family: str) -> None:
    from pptx.opc.constants import RELATIONSHIP_TYPE as RT

    part = prs.slide_master.part.part_related_by(RT.THEME)
    name = xml_text(family).encode("utf-8")
    part._blob = _THEME_LATIN.sub(lambda mt: mt.group(1) + name + mt.group(3), part.blob)


class _Painter:
    """Writes placed slides into a python-pptx presentation."""

    def __init__(self, lesson: Lesson, theme: Theme) -> None:
        from pptx import Presentation
        from pptx.dml.color import RGBColor
        from pptx.util import Emu

        self.prs = Presentation()
        self.prs.slide_width = Emu(_emu(SLIDE_W))
        self.prs.slide_height = Emu(_emu(SLIDE_H))
        self.theme = theme
        self.lang = LANG_TAGS.get(lesson.language, "en-US")
        self.family = xml_text(find_font().family)
        _set_theme_font(self.prs, find_font().family)
        bg = self.prs.slide_master.background.fill
        bg.solid()
        bg.fore_color.rgb = RGBColor.from_string(theme.background)
        self._properties(lesson)

    def _properties(self, lesson: Lesson) -> None:
        cp = self.prs.core_properties
        set_core_properties(cp, lesson, lesson.title, subject_of(lesson), self.lang)
        cp.identifier = lesson.id
        cp.created = cp.modified = lesson.provenance.created_at.replace(tzinfo=None)
        cp.revision = 1

    # -- DrawingML ---------------------------------------------------------------------------------
    def _run(self, text: str, size: float, bold: bool, colour: str) -> str:
        b = ' b="1"' if bold else ' b="0"'
        return (
            f'<a:r><a:rPr lang="{self.lang}" sz="{int(round(size * 100))}"{b} dirty="0">'
            f'<a:solidFill><a:srgbClr val="{colour}"/></a:solidFill>'
            f'<a:latin typeface="{self.family}"/><a:cs typeface="{self.family}"/></a:rPr>'
            f"<a:t>{xml_text(text)}</a:t></a:r>"
        )

    def _para(self, para: Para, size: float, *, first: bool, colour: str, align: str) -> str:
        rel = round(size * para.rel, 1)
        ind = _emu(indent_pts(para, size))
        hanging = para.kind in ("bullet", "number", "letter")
        bullet = "<a:buNone/>"
        if hanging:
            bullet = (
                f'<a:buClr><a:srgbClr val="{self.theme.accent}"/></a:buClr>'
                f'<a:buFont typeface="{self.family}"/>'
            )
            if para.kind == "bullet":
                bullet += '<a:buChar char="•"/>'
            else:
                kind = "arabicPeriod" if para.kind == "number" else "alphaUcPeriod"
                bullet += f'<a:buAutoNum type="{kind}" startAt="{para.start}"/>'
        before = 0 if first else int(round(gap_pts(para, size) * 100))
        return (
            f'<a:p><a:pPr marL="{ind}" indent="{-ind if hanging else 0}" algn="{align}">'
            f'<a:lnSpc><a:spcPts val="{int(round(line_pts(rel) * 100))}"/></a:lnSpc>'
            f'<a:spcBef><a:spcPts val="{before}"/></a:spcBef>{bullet}</a:pPr>'
            f"{self._run(para.text, rel, para.bold, colour)}</a:p>"
        )

    def _text_shape(
        self,
        sid: int,
        name: str,
        ph: str,
        box: tuple[float, float, float, float],
        paras: list[Para],
        size: float,
        *,
        colour: str,
        align: str = "l",
        anchor: str = "t",
    ) -> str:
        body = "".join(
            self._para(p, size, first=i == 0, colour=colour, align=align) for i, p in enumerate(paras)
        )
        if ph:
            nv = f'<p:cNvSpPr><a:spLocks noGrp="1"/></p:cNvSpPr><p:nvPr>{ph}</p:nvPr>'
            geom = ""
        else:
            nv = '<p:cNvSpPr txBox="1"/><p:nvPr/>'
            geom = '<a:prstGeom prst="rect"><a:avLst/></a:prstGeom><a:noFill/>'
        ins = f'lIns="{_emu(INSET_X)}" tIns="{_emu(INSET_Y)}" rIns="{_emu(INSET_X)}" bIns="{_emu(INSET_Y)}"'
        return (
            f'<p:sp><p:nvSpPr><p:cNvPr id="{sid}" name="{xml_text(name)}"/>{nv}</p:nvSpPr>'
            f"<p:spPr>{_xfrm(*box)}{geom}</p:spPr>"
            f'<p:txBody><a:bodyPr wrap="square" {ins} anchor="{anchor}" rtlCol="0"><a:noAutofit/></a:bodyPr>'
            f"<a:lstStyle/>{body}</p:txBody></p:sp>"
        )

    def _bar(self, sid: int, box: tuple[float, float, float, float]) -> str:
        return (
            f'<p:sp><p:nvSpPr><p:cNvPr id="{sid}" name="Decorative bar">{_DECORATIVE}</p:cNvPr>'
            f"<p:cNvSpPr/><p:nvPr/></p:nvSpPr><p:spPr>{_xfrm(*box)}"
            f'<a:prstGeom prst="rect"><a:avLst/></a:prstGeom>'
            f'<a:solidFill><a:srgbClr val="{self.theme.accent}"/></a:solidFill><a:ln><a:noFill/></a:ln>'
            f"</p:spPr></p:sp>"
        )

    def slide_xml(self, pl: Placed, n: int, total: int) -> str:
        """The ``p:sld`` document for one placed slide."""
        t = self.theme
        inner_w = SLIDE_W - 2 * MARGIN
        is_title = pl.spec.kind == "title"
        title_ph = '<p:ph type="ctrTitle"/>' if is_title else '<p:ph type="title"/>'
        body_ph = '<p:ph type="subTitle" idx="1"/>' if is_title else '<p:ph idx="1"/>'
        align = "ctr" if is_title else "l"
        bar_w = inner_w if is_title else 140.0
        shapes = [
            self._text_shape(
                2,
                "Title",
                title_ph,
                (MARGIN, pl.title_top, inner_w, pl.title_h),
                [Para(pl.title, bold=True)],
                pl.title_pt,
                colour=t.title,
                align=align,
                anchor="b" if is_title else "t",
            ),
            self._bar(3, (MARGIN, pl.title_top + pl.title_h + 6, bar_w, BAR_H)),
            self._text_shape(
                4,
                "Content",
                body_ph,
                (MARGIN, pl.body_top, pl.body_w if not is_title else inner_w, SLIDE_H - FOOTER_H - pl.body_top),
                list(pl.page.paras),
                pl.page.size,
                colour=t.text,
                align=align,
            ),
            self._text_shape(
                5,
                "Slide number",
                "",
                (SLIDE_W - MARGIN - 120, SLIDE_H - FOOTER_H + 4, 120, FOOTER_H - 8),
                [Para(f"{n}/{total}")],
                NUMBER_PT,
                colour=t.text,
                align="r",
            ),
        ]
        return (
            f'<p:sld {_NS}><p:cSld><p:spTree><p:nvGrpSpPr><p:cNvPr id="1" name=""/><p:cNvGrpSpPr/><p:nvPr/>'
            f"</p:nvGrpSpPr><p:grpSpPr/>{''.join(shapes)}</p:spTree></p:cSld>"
            f"<p:clrMapOvr><a:masterClrMapping/></p:clrMapOvr></p:sld>"
        )

    def notes_xml(self, notes: str) -> str:
        """The ``p:notes`` document holding ``notes`` (the slide image and number come from the master)."""
        paras = "".join(
            f'<a:p><a:r><a:rPr lang="{self.lang}" dirty="0"/><a:t>{xml_text(line)}</a:t></a:r></a:p>'
            for line in (notes.splitlines() or [""])
        )
        return (
            f'<p:notes {_NS}><p:cSld><p:spTree><p:nvGrpSpPr><p:cNvPr id="1" name=""/><p:cNvGrpSpPr/>'
            f"<p:nvPr/></p:nvGrpSpPr><p:grpSpPr/>"
            f'<p:sp><p:nvSpPr><p:cNvPr id="2" name="Slide Image Placeholder 1"/><p:cNvSpPr>'
            f'<a:spLocks noGrp="1" noRot="1" noChangeAspect="1"/></p:cNvSpPr><p:nvPr><p:ph type="sldImg"/>'
            f"</p:nvPr></p:nvSpPr><p:spPr/></p:sp>"
            f'<p:sp><p:nvSpPr><p:cNvPr id="3" name="Notes Placeholder 2"/><p:cNvSpPr><a:spLocks noGrp="1"/>'
            f'</p:cNvSpPr><p:nvPr><p:ph type="body" idx="1"/></p:nvPr></p:nvSpPr><p:spPr/>'
            f"<p:txBody><a:bodyPr/><a:lstStyle/>{paras}</p:txBody></p:sp>"
            f"</p:spTree></p:cSld><p:clrMapOvr><a:masterClrMapping/></p:clrMapOvr></p:notes>"
        )

    def draw(self, placed: list[Placed]) -> None:
        """Add every placed slide with its number and speaker notes."""
        from pptx.opc.constants import CONTENT_TYPE as CT
        from pptx.opc.constants import RELATIONSHIP_TYPE as RT
        from pptx.opc.packuri import PackURI
        from pptx.oxml import parse_xml
        from pptx.parts.slide import NotesSlidePart, SlidePart

        pres_part = self.prs.part
        package = pres_part.package
        notes_master = pres_part.notes_master_part
        layouts = self.prs.slide_layouts
        id_list = self.prs.slides._sldIdLst
        total = len(placed)
        for n, pl in enumerate(placed, 1):
            layout = layouts[0] if pl.spec.kind == "title" else layouts[1]
            slide_part = SlidePart(
                PackURI(f"/ppt/slides/slide{n}.xml"),
                CT.PML_SLIDE,
                package,
                parse_xml(self.slide_xml(pl, n, total).encode("utf-8")),
            )
            slide_part.relate_to(layout.part, RT.SLIDE_LAYOUT)
            id_list.add_sldId(pres_part.relate_to(slide_part, RT.SLIDE))
            if pl.spec.picture is not None and pl.picture_box is not None:
                self._picture(slide_part.slide, pl)
            notes_part = NotesSlidePart(
                PackURI(f"/ppt/notesSlides/notesSlide{n}.xml"),
                CT.PML_NOTES_SLIDE,
                package,
                parse_xml(self.notes_xml(pl.notes).encode("utf-8")),
            )
            notes_part.relate_to(notes_master, RT.NOTES_MASTER)
            notes_part.relate_to(slide_part, RT.SLIDE)
            slide_part.relate_to(notes_part, RT.NOTES_SLIDE)

    def _picture(self, slide: Any, pl: Placed) -> None:
        """The step's phone screen at the right of the text, described for screen readers."""
        from pptx.util import Emu

        x, y, w, h = pl.picture_box  # type: ignore[misc]
        pic = slide.shapes.add_picture(io.BytesIO(pl.spec.picture or b""), Emu(_emu(x)), Emu(_emu(y)),
                                       Emu(_emu(w)), Emu(_emu(h)))
        pic.name = "Step picture"
        pic._element.nvPicPr.cNvPr.set("descr", pl.spec.alt)

    def save(self, path: Path) -> Path:
        """Write the deck atomically."""
        buf = io.BytesIO()
        self.prs.save(buf)
        write_bytes_atomic(path, buf.getvalue())
        return path


def render_slides(lesson: Lesson, group: TargetGroup, path: Path, pictures: list[Any] | None = None) -> Path:
    """Write the slide deck for ``lesson`` to ``path``."""
    painter = _Painter(lesson, Theme.for_group(group))
    painter.draw(plan_slides(lesson, group, pictures))
    return painter.save(path)


class SlidesRenderer:
    """Slides (.pptx) with python-pptx."""

    format = "slides"
    suffix = ".pptx"

    def render(self, lesson: Lesson, group: TargetGroup, out_dir: Path, ctx: RenderContext) -> Path:
        """Write ``slides.pptx`` in ``out_dir``."""
        return render_slides(lesson, group, out_dir / format_spec(self.format).file, ctx.pictures)
