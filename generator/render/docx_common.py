"""What the handout and the guide share: a python-docx document set up for one lesson.

The font is set on the theme (major and minor), so headings and body both use it, and named on the
default run properties for readers that ignore themes. Real heading styles, a document language, core
properties, A4 pages with page numbers, and sizes scaled by the group's profile.
"""

from __future__ import annotations

import io
import re
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from generator.fsutil import write_bytes_atomic
from generator.render.base import LANG_TAGS
from generator.render.fonts import FontFace

if TYPE_CHECKING:
    from docx.document import Document
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    from generator.lesson import Lesson

_THEME_LATIN = re.compile(rb"(<a:(major|minor)Font>\s*<a:latin typeface=\")[^\"]*(\")")

NAVY = "1F3864"
INK = "1A1A1A"
BLACK = "000000"


@lru_cache(maxsize=1)
def _template() -> bytes:
    """python-docx's default template without its thumbnail (a picture of another document), Word
    2010's copy of the styles and its custom XML: they would mislead, and parsing them on every
    document costs time."""
    from docx import Document as DocxDocument

    doc = DocxDocument()
    extras = ("/thumbnail", "/stylesWithEffects", "/customXml")
    for rels in (doc.part.package.rels, doc.part.rels):
        for r_id in [k for k, r in rels.items() if r.reltype.endswith(extras)]:
            rels.pop(r_id)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def _half_points(pt: float) -> float:
    """Round to the half point Word stores."""
    return round(pt * 2) / 2


class DocBuilder:
    """A document for one lesson, with the few block types our documents use."""

    def __init__(
        self,
        lesson: Lesson,
        font: FontFace,
        *,
        body_pt: float,
        high_contrast: bool,
        title: str,
        subject: str,
    ) -> None:
        from docx import Document as DocxDocument

        self.lesson = lesson
        self.doc: Document = DocxDocument(io.BytesIO(_template()))
        self.lang_tag = LANG_TAGS.get(lesson.language, "en-US")
        self.body_pt = _half_points(body_pt)
        self.color = BLACK if high_contrast else INK
        self.heading_color = BLACK if high_contrast else NAVY
        self._set_theme_font(font.family)
        self._set_defaults(font.family)
        self._set_styles()
        self._set_lists(font.family)
        self._set_page()
        self._set_properties(title, subject)

    # -- set-up ---------------------------------------------------------------------------------
    def _set_theme_font(self, family: str) -> None:
        from docx.opc.constants import RELATIONSHIP_TYPE as RT

        part = self.doc.part.part_related_by(RT.THEME)
        name = family.encode("utf-8").replace(b"&", b"&amp;").replace(b'"', b"&quot;")
        part._blob = _THEME_LATIN.sub(lambda m: m.group(1) + name + m.group(3), part.blob)

    def _set_defaults(self, family: str) -> None:
        from docx.oxml.ns import qn

        styles = self.doc.styles.element
        rpr = styles.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
        fonts = rpr.find(qn("w:rFonts"))
        for attr in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
            fonts.set(qn(attr), family)
        lang = rpr.find(qn("w:lang"))
        lang.set(qn("w:val"), self.lang_tag)
        lang.set(qn("w:eastAsia"), self.lang_tag)
        settings = self.doc.settings.element
        tfl = settings.find(qn("w:themeFontLang"))
        if tfl is not None:
            tfl.set(qn("w:val"), self.lang_tag)
            tfl.attrib.pop(qn("w:eastAsia"), None)

    def _set_styles(self) -> None:
        from docx.enum.text import WD_LINE_SPACING
        from docx.shared import Pt, RGBColor

        s = self.doc.styles
        body = self.body_pt
        normal = s["Normal"]
        normal.font.size = Pt(body)
        normal.font.color.rgb = RGBColor.from_string(self.color)
        pf = normal.paragraph_format
        pf.space_after = Pt(round(body * 0.5))
        pf.line_spacing_rule = WD_LINE_SPACING.MULTIPLE
        pf.line_spacing = 1.3
        for name, factor, before in (
            ("Heading 1", 1.75, 0.0),
            ("Heading 2", 1.35, 1.2),
            ("Heading 3", 1.12, 0.8),
        ):
            st = s[name]
            st.font.size = Pt(_half_points(body * factor))
            st.font.bold = True
            st.font.color.rgb = RGBColor.from_string(self.heading_color)
            st.paragraph_format.space_before = Pt(round(body * before))
            st.paragraph_format.space_after = Pt(round(body * 0.4))
            st.paragraph_format.keep_with_next = True
            st.paragraph_format.line_spacing = 1.15
        for name in ("List Bullet", "List Number"):
            s[name].paragraph_format.space_after = Pt(round(body * 0.3))

    def _set_lists(self, family: str) -> None:
        """Bullets and numbers hang by an indent that grows with the type, and the bullet is a plain
        '•' in the document font (the template's 0.25 in and Symbol-font bullet suit 11 pt only)."""
        from docx.oxml.ns import qn

        left, hanging = str(round(self.body_pt * 1.7 * 20)), str(round(self.body_pt * 1.2 * 20))
        numbering = self.doc.part.numbering_part.element
        for lvl in numbering.iter(qn("w:lvl")):
            style = lvl.find(qn("w:pStyle"))
            if (
                lvl.get(qn("w:ilvl")) != "0"
                or style is None
                or style.get(qn("w:val")) not in ("ListBullet", "ListNumber")
            ):
                continue
            for tab in lvl.iter(qn("w:tab")):
                tab.set(qn("w:pos"), left)
            ind = lvl.find(qn("w:pPr")).find(qn("w:ind"))
            ind.set(qn("w:left"), left)
            ind.set(qn("w:hanging"), hanging)
            if style.get(qn("w:val")) == "ListBullet":
                lvl.find(qn("w:lvlText")).set(qn("w:val"), "•")
                fonts = lvl.find(qn("w:rPr")).find(qn("w:rFonts"))
                for attr in ("w:ascii", "w:hAnsi", "w:cs"):
                    fonts.set(qn(attr), family)

    def _set_page(self) -> None:
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.shared import Cm, Pt

        section = self.doc.sections[0]
        section.page_width, section.page_height = Cm(21.0), Cm(29.7)
        for side in ("left_margin", "right_margin"):
            setattr(section, side, Cm(2.0))
        section.top_margin, section.bottom_margin = Cm(1.8), Cm(1.8)
        section.footer_distance = Cm(0.8)
        p = section.footer.paragraphs[0]
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        size = Pt(max(10.0, _half_points(self.body_pt * 0.8)))
        from generator.render.labels import labels

        words = labels(self.lesson.language)
        p.add_run(f"{words['page']} ").font.size = size
        self._field(p, "PAGE", size)
        p.add_run(f" {words['page_of']} ").font.size = size
        self._field(p, "NUMPAGES", size)

    @staticmethod
    def _field(paragraph: Paragraph, instr: str, size: Any) -> None:
        from docx.oxml import OxmlElement
        from docx.oxml.ns import qn

        fld = OxmlElement("w:fldSimple")
        fld.set(qn("w:instr"), f" {instr} \\* MERGEFORMAT ")
        run = OxmlElement("w:r")
        rpr = OxmlElement("w:rPr")
        sz = OxmlElement("w:sz")
        sz.set(qn("w:val"), str(int(size.pt * 2)))
        rpr.append(sz)
        text = OxmlElement("w:t")
        text.text = "1"
        run.append(rpr)
        run.append(text)
        fld.append(run)
        paragraph._p.append(fld)

    def _set_properties(self, title: str, subject: str) -> None:
        lesson = self.lesson
        cp = self.doc.core_properties
        set_core_properties(cp, lesson, title, subject, self.lang_tag)
        cp.category = "Bình dân học vụ số"
        cp.comments = lesson.summary
        cp.identifier = lesson.id
        created = lesson.provenance.created_at.replace(tzinfo=None)
        cp.created = created
        cp.modified = created
        cp.revision = 1

    # -- blocks ---------------------------------------------------------------------------------
    def _add(self, style_id: str = "") -> Paragraph:
        # Setting pStyle directly: python-docx's style lookup scans every style on each paragraph.
        p = self.doc.add_paragraph()
        if style_id:
            p._p.style = style_id
        return p

    def heading(self, text: str, level: int, *, new_page: bool = False) -> Paragraph:
        """A real heading (Heading 1-3), so the navigation pane and screen readers see it."""
        p = self._add(f"Heading{level}")
        p.add_run(text)
        if new_page:
            p.paragraph_format.page_break_before = True
        return p

    def para(self, text: str = "", *, lead: str = "", italic: bool = False) -> Paragraph:
        """A body paragraph, optionally starting with a bold ``lead``."""
        p = self._add()
        if lead:
            p.add_run(lead + (" " if text else "")).bold = True
        if text:
            p.add_run(text).italic = italic or None
        return p

    def bullets(self, items: list[str] | list[tuple[str, str]]) -> None:
        """A bulleted list; an item may be ``(lead, text)`` with a bold lead."""
        for item in items:
            p = self._add("ListBullet")
            lead, text = item if isinstance(item, tuple) else ("", item)
            if lead:
                p.add_run(lead + " ").bold = True
            p.add_run(text)

    def icon_bullets(self, items: list[tuple[str, str, str]], colour: str) -> None:
        """Bullets that start with a small icon: ``(icon meaning, bold lead, text)``; the icons are
        decorative (screen readers skip them: the lead says what they mean)."""
        import io

        from docx.shared import Pt

        from generator.render.icons import icon_png

        for meaning, lead, text in items:
            p = self._add("ListBullet")
            shape = p.add_run().add_picture(io.BytesIO(icon_png(meaning, colour, 64)), height=Pt(self.body_pt * 1.1))
            shape._inline.docPr.set("descr", "")
            p.add_run(" ")
            if lead:
                p.add_run(lead + " ").bold = True
            p.add_run(text)

    def numbered(self, items: list[tuple[str, str]]) -> None:
        """A numbered list of ``(main, detail)`` items; the detail goes on its own line."""
        for main, detail in items:
            p = self._add("ListNumber")
            p.add_run(main)
            if detail:
                p.add_run().add_break()
                p.add_run(detail).italic = True

    def picture(self, png: bytes, alt: str, width_cm: float) -> None:
        """A picture on its own line, indented under the list item above, with ``alt`` as its
        description for screen readers (``descr``)."""
        import io

        from docx.shared import Cm

        p = self._add()
        p.paragraph_format.left_indent = Cm(0.9)
        p.paragraph_format.keep_together = True
        shape = p.add_run().add_picture(io.BytesIO(png), width=Cm(width_cm))
        shape._inline.docPr.set("descr", alt)
        shape._inline.docPr.set("title", alt)

    def question(self, lead: str, text: str, options: list[str]) -> None:
        """A quiz question and its options ``A. text``, kept together on one page."""
        from docx.shared import Pt

        q = self.para(text, lead=lead)
        pf = q.paragraph_format
        pf.space_before = Pt(round(self.body_pt * 0.6))
        pf.space_after = Pt(round(self.body_pt * 0.25))
        pf.keep_with_next = True
        self.options(options)

    def options(self, options: list[str]) -> None:
        """Quiz options ``A. text`` with a hanging indent, kept together."""
        from docx.shared import Pt

        from generator.render.labels import LETTERS

        for i, (letter, option) in enumerate(zip(LETTERS, options, strict=False)):
            p = self._add()
            pf = p.paragraph_format
            pf.left_indent = Pt(self.body_pt * 2.6)
            pf.first_line_indent = Pt(-self.body_pt * 1.6)
            pf.space_after = Pt(round(self.body_pt * 0.15))
            pf.keep_with_next = i < len(options) - 1
            p.add_run(f"{letter}.\t").bold = True
            p.add_run(option)

    def table(self, header: list[str], rows: list[list[str]], widths_cm: list[float]) -> Table:
        """A grid table whose first row is marked as the header and repeats on each page.

        Written as WordprocessingML: python-docx's cell API costs ~1 ms a cell."""
        from docx.oxml import parse_xml
        from docx.table import Table

        tw = [round(cm * 567) for cm in widths_cm]  # twentieths of a point
        grid = "".join(f'<w:gridCol w:w="{w}"/>' for w in tw)

        def row(values: list[str], head: bool) -> str:
            tr_pr = '<w:trPr><w:tblHeader w:val="true"/></w:trPr>' if head else ""
            bold = "<w:rPr><w:b/></w:rPr>" if head else ""
            cells = "".join(
                f'<w:tc><w:tcPr><w:tcW w:w="{w}" w:type="dxa"/></w:tcPr>'
                f'<w:p><w:r>{bold}<w:t xml:space="preserve">{xml_text(v)}</w:t></w:r></w:p></w:tc>'
                for v, w in zip(values, tw, strict=True)
            )
            return f"<w:tr>{tr_pr}{cells}</w:tr>"

        xml = (
            f'<w:tbl xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
            f'<w:tblPr><w:tblStyle w:val="TableGrid"/><w:tblW w:w="{sum(tw)}" w:type="dxa"/>'
            f'<w:tblLayout w:type="fixed"/><w:tblLook w:val="04A0" w:firstRow="1" w:lastRow="0" '
            f'w:firstColumn="0" w:lastColumn="0" w:noHBand="0" w:noVBand="1"/></w:tblPr>'
            f"<w:tblGrid>{grid}</w:tblGrid>{row(header, True)}{''.join(row(r, False) for r in rows)}</w:tbl>"
        )
        tbl = parse_xml(xml)
        self.doc.element.body.sectPr.addprevious(tbl)
        self._add()
        return Table(tbl, self.doc._body)

    def save(self, path: Path) -> Path:
        """Write the document atomically."""
        buf = io.BytesIO()
        self.doc.save(buf)
        write_bytes_atomic(path, buf.getvalue())
        return path


_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_text(text: str) -> str:
    """``text`` escaped for an XML element or a double-quoted attribute; characters XML cannot hold
    (control characters) are removed."""
    return escape(_XML_BAD.sub("", text), {'"': "&quot;"})


def set_core_properties(cp: Any, lesson: Lesson, title: str, subject: str, lang_tag: str) -> None:
    """The core properties .docx and .pptx share (python-docx and python-pptx name them alike)."""
    cp.title = title
    cp.subject = subject
    cp.keywords = ", ".join(
        [lesson.competence, lesson.framework, f"L{lesson.level}", lesson.group, lesson.language,
         "Bình dân học vụ số"]
    )
    cp.language = lang_tag
    cp.author = "hocvu"
    cp.last_modified_by = "hocvu"


def subject_of(lesson: Lesson) -> str:
    """The core-properties subject: the competence, its framework and level."""
    return f"{lesson.competence} ({lesson.framework}, L{lesson.level})"
