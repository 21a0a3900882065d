"""Cleaning the text pypdf extracts from PDF pages, before it is cut into passages.

A report's pages carry what a reader skips: the running header and footer on every page, page
numbers, the table of contents, the reference list. Left in, they start a fifth of the passages and win
searches for the document's title words. Lines are also hyphenated at their end ("technolo-" / "gies"),
and bullets drawn with a symbol font often extract as a lone combining mark (U+030A) or a private-use
character. ``clean_pages`` works on the raw text of all pages together (a header is only known as one by
being on most pages) and returns the cleaned text of each page, empty for a page to skip.

pypdf's layout mode was tried first; it keeps the column layout but neither drops repeated lines nor
joins hyphenation, and pdfplumber would add pdfminer for the same result, so these few rules are ours.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable

__all__ = ["clean_pages", "running_title"]

#: A line is a running header/footer when it (digits ignored) starts or ends this share of the pages.
REPEAT_SHARE = 0.5
#: Lines at each end of a page where a running header or footer is looked for.
EDGE_LINES = 3

_PAGE_NUMBER = re.compile(
    r"^\s*(?:(?:page|p\.|trang)\s*)?(?:\d{1,4}|[ivxlcdm]{1,7})(?:\s*(?:/|of|trên|-)\s*\d{1,4})?\s*$", re.I
)
_TOC_HEADING = re.compile(r"^\s*(?:table of )?contents\s*$|^\s*mục lục\s*$", re.I)
_TOC_LINE = re.compile(r"(?:\.{3,}|…+|\.\s\.\s\.)\s*\d{1,4}\s*$")
_REF_HEADING = re.compile(
    r"^\s*(?:\d+(?:\.\d+)*\s+)?(?:references|bibliography|works cited|tài liệu tham khảo)\s*$", re.I
)
#: A legal page (copyright, reuse, ISBN...): dropped when it holds two of these and little else.
_LEGAL_MARK = re.compile(
    r"©|\bcopyright\b|\blegal notice\b|\bisbn\b|\bissn\b|\breuse is authori[sz]ed\b|"
    r"\ball rights reserved\b|\bpublications office\b|\bcatalogue number\b|\bbản quyền\b|"
    r"\bgiấy phép xuất bản\b|\bdisclaimer\b",
    re.I,
)
_YEAR = re.compile(r"\((?:19|20)\d{2}[a-z]?\)|\b(?:19|20)\d{2}[a-z]?\.")
_REF_MARK = re.compile(r"\bet al\.|\bdoi[:.]|https?://|\bpp?\.\s*\d|\bvol\.|\bjournal\b|\bpress\b|\bisbn\b|"
                       r"\bretrieved\b|^[A-Z][\w'’-]+,\s+[A-Z]\.", re.I)
#: A bullet drawn with a symbol font: a combining mark with no letter before it, or a private-use glyph.
_STRAY_BULLET = re.compile(r"(?m)(?:^|(?<=\s))[\u0300-\u036f]+\s*|[\uf0a7\uf0b7\uf076\uf0d8\uf0fc\uf06e]\s*")
_HYPHEN = re.compile(r"(\w)-[ \t]*\n[ \t]*(?=[a-zà-ỹđ])")


def clean_pages(pages: list[str]) -> list[str]:
    """The cleaned text of every page; an empty string for a table-of-contents or reference page."""
    split = [text.splitlines() for text in pages]
    repeated = _running_lines(split)
    out: list[str] = []
    in_references = False
    for lines in split:
        kept = _strip_edges(lines, repeated)
        kept = [ln for ln in kept if not _PAGE_NUMBER.match(ln)]
        body = [ln for ln in kept if ln.strip()]
        if body and _REF_HEADING.match(body[0]):
            in_references = True
        elif in_references and body and _share(body, _is_reference) < 0.5:
            in_references = False
        if not body or in_references or _is_toc(body) or _is_legal(body) or _share(body, _is_reference) >= 0.6:
            out.append("")
            continue
        text = "\n".join(kept)
        text = _HYPHEN.sub(r"\1", text)
        text = _STRAY_BULLET.sub("- ", text)
        out.append(text.strip())
    return out


def running_title(pages: list[str]) -> str:
    """The line most pages start with (a report's running header is usually its title), or ''."""
    firsts = Counter(
        body[0].strip() for text in pages if (body := [ln for ln in text.splitlines() if ln.strip()])
    )
    if not firsts:
        return ""
    line, count = firsts.most_common(1)[0]
    need = max(3, int(len(pages) * REPEAT_SHARE + 0.5))
    ok = count >= need and 3 < len(line) <= 120 and not _PAGE_NUMBER.match(line)
    return line if ok and not re.search(r"\b(?:page|trang)\b", line, re.I) else ""


def _key(line: str) -> str:
    """A line with its digits and a final roman numeral masked, so "Page 3", "Page 4" and "Page iv" are
    the same footer."""
    key = re.sub(r"\d+", "#", line.strip().casefold())
    return re.sub(r"\b[ivxlcdm]{1,7}$", "#", key)


def _running_lines(pages: list[list[str]]) -> set[str]:
    """Keys of lines found near the top or bottom of most pages (at least three)."""
    counts: Counter[str] = Counter()
    for lines in pages:
        body = [ln for ln in lines if ln.strip()]
        edges = {_key(ln) for ln in body[:EDGE_LINES] + body[-EDGE_LINES:]}
        counts.update(edges)
    need = max(3, int(len(pages) * REPEAT_SHARE + 0.5))
    return {k for k, n in counts.items() if n >= need and k.strip("#")}


def _strip_edges(lines: list[str], repeated: set[str]) -> list[str]:
    """``lines`` without running headers and footers at either end."""
    kept = list(lines)
    for _ in range(EDGE_LINES * 2):
        while kept and not kept[0].strip():
            kept.pop(0)
        while kept and not kept[-1].strip():
            kept.pop()
        if kept and (_key(kept[0]) in repeated or _PAGE_NUMBER.match(kept[0])):
            kept.pop(0)
        elif kept and (_key(kept[-1]) in repeated or _PAGE_NUMBER.match(kept[-1])):
            kept.pop()
        else:
            break
    return kept


def _is_toc(body: list[str]) -> bool:
    entries = sum(1 for ln in body if _TOC_LINE.search(ln))
    return entries >= 3 and (entries >= 0.4 * len(body) or bool(_TOC_HEADING.match(body[0])))


def _is_legal(body: list[str]) -> bool:
    text = "\n".join(body)
    return len(text) < 2500 and len({m.group(0).casefold() for m in _LEGAL_MARK.finditer(text)}) >= 2


def _is_reference(line: str) -> bool:
    return bool(_YEAR.search(line) and _REF_MARK.search(line))


def _share(body: list[str], test: Callable[[str], bool]) -> float:
    return sum(1 for ln in body if test(ln)) / len(body) if body else 0.0
