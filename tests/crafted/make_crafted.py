"""Make the crafted PDFs beside this file (run it again after changing it; the PDFs are committed).

    PYTHONPATH=. python tests/crafted/make_crafted.py

handbook.pdf     6 pages: a running header and footer, page numbers, a table of contents, words hyphenated
                 at line ends, bullets whose glyph extracts as a stray combining ring (U+030A), a reference
                 list — everything the PDF cleaning must remove or repair.
owner-only.pdf   AES-256 with an owner password only (opens in any viewer without asking).
locked.pdf       AES-256 with a user password (cannot be read without it).
report.pdf       5 pages with printed page labels (i, ii, then 1-3) and an outline: a legal page, contents,
                 two sections, a footnote (superscript marker, smaller text at the page foot), struck-through
                 old wording with its replacement after it, a word hyphenated across lines, references.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).parent
HEADER = "Digital Skills Handbook 2026"

PAGES: list[list[str]] = [
    ["Contents", "1 Passwords ........ 3", "2 Scam calls ........ 4", "3 Backups ........ 5",
     "References ........ 6"],
    ["Digital Skills Handbook", "A short guide for community trainers.",
     "This handbook explains everyday safety on a phone."],
    ["1 Passwords", "A strong password is long. Use a passphrase of four random words, which is easy to",
     "remember and hard to guess. Password managers are widely used technolo-",
     "gies that store every password safely.", "\x95 Never reuse a password on two sites.",
     "\x95 Turn on two-step verification for your bank."],
    ["2 Scam calls", "A caller who claims to be the police and asks you to transfer money into a safe-",
     "keeping account is a scammer. Hang up and call the police station yourself.",
     "\x95 Real officers never ask for money by phone."],
    ["3 Backups", "Back up your photos automatically to the cloud, so a lost phone does not lose them.",
     "Check once a month that the latest photos appear in the back-",
     "up folder."],
    ["References", "Nguyen, A. (2021). Phone safety for older adults. Journal of Digital Inclusion, 4(2), 10-22.",
     "Tran, B. et al. (2019). Scam calls in Viet Nam. Hanoi: Education Press. doi:10.1000/xyz",
     "Le, C. (2023). Backups made simple. Retrieved from https://example.org/backups",
     "Pham, D. (2020). Passwords and passphrases. Vol. 2, pp. 1-9."],
]

#: Byte 0x95 (a bullet in WinAnsi) extracts as U+030A, as the bullets of the DigComp 3.0 report do.
_TO_UNICODE = b"""/CIDInit /ProcSet findresource begin 12 dict begin begincmap
/CMapName /Crafted def 1 begincodespacerange <00> <FF> endcodespacerange
1 beginbfchar <95> <030A> endbfchar
endcmap CMapName currentdict /CMap defineresource pop end end"""


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def text_pdf(pages: list[list[str]], header: str | None = HEADER) -> object:
    """A PdfWriter whose pages show ``pages``' lines in Helvetica, with a running header and footer."""
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    writer = PdfWriter()
    cmap = DecodedStreamObject()
    cmap.set_data(_TO_UNICODE)
    font = DictionaryObject({
        NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
        NameObject("/BaseFont"): NameObject("/Helvetica"),
        NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
        NameObject("/ToUnicode"): writer._add_object(cmap),
    })
    font_ref = writer._add_object(font)
    for number, lines in enumerate(pages, 1):
        page = writer.add_blank_page(width=595, height=842)
        page[NameObject("/Resources")] = DictionaryObject({
            NameObject("/Font"): DictionaryObject({NameObject("/F1"): font_ref})})
        shown = ([header] if header else []) + lines + ([f"{header} | Page {number}", str(number)] if header else [])
        body = "BT /F1 10 Tf 14 TL 50 800 Td " + " ".join(f"({_escape(s)}) Tj T*" for s in shown) + " ET"
        stream = DecodedStreamObject()
        stream.set_data(body.encode("latin-1"))  # \x95 stays byte 0x95
        page[NameObject("/Contents")] = writer._add_object(stream)
    return writer


REPORT_HEADER = "Digital Skills Report 2026"

#: Each page: lines of (text, font size, rise, struck); None starts the page foot (footnotes).
REPORT: list[list[tuple[str, float, float, bool] | None]] = [
    [("Legal notice", 10, 0, False),
     ("\xa9 Hocvu Project, 2026. Reuse is authorised provided the source is acknowledged.", 10, 0, False),
     ("ISBN 978-0-00-000000-0. All rights reserved for the photographs.", 10, 0, False)],
    [("Contents", 10, 0, False), ("1 Passwords ........ 1", 10, 0, False),
     ("2 Scam calls ........ 2", 10, 0, False), ("References ........ 3", 10, 0, False)],
    [("1 Passwords", 10, 0, False),
     ("Use a passphrase of four random words", 10, 0, False), ("1", 6, 4, False),
     (" that you can remember easily.", 10, 0, False),
     ("Change every password each month.", 10, 0, True),
     ("Change a password when the site reports a leak.", 10, 0, False),
     None, ("1 A passphrase generator can pick the words for you.", 7, 0, False)],
    [("2 Scam calls", 10, 0, False),
     ("A caller who claims to be the police and asks for money is a scam-", 10, 0, False),
     ("mer. Hang up and call the police station yourself.", 10, 0, False)],
    [("References", 10, 0, False),
     ("Nguyen, A. (2021). Phone safety for older adults. Journal of Digital Inclusion, 4(2), 10-22.", 10, 0, False),
     ("Tran, B. et al. (2019). Scam calls in Viet Nam. Hanoi: Education Press. doi:10.1000/xyz", 10, 0, False)],
]


def report_pdf() -> object:
    """A PdfWriter with REPORT's pages laid out line by line, page labels and an outline."""
    from pypdf import PdfWriter
    from pypdf.constants import PageLabelStyle
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    writer = PdfWriter()
    font_ref = writer._add_object(DictionaryObject({
        NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
        NameObject("/BaseFont"): NameObject("/Helvetica"),
        NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
    }))
    for number, lines in enumerate(REPORT, 1):
        page = writer.add_blank_page(width=595, height=842)
        page[NameObject("/Resources")] = DictionaryObject({
            NameObject("/Font"): DictionaryObject({NameObject("/F1"): font_ref})})
        ops, y, x, end = [], 800.0, 50.0, 50.0
        label = ["i", "ii", "1", "2", "3"][number - 1]
        shown: list[tuple[str, float, float, bool] | None] = [(REPORT_HEADER, 10, 0, False), *lines]
        for line in shown:
            if line is None:
                y = 80.0
                continue
            text, size, rise, struck = line
            if rise or text.startswith(" "):  # a superscript, or the rest of the line after it
                y += 14
                x = end
            ops.append(f"BT /F1 {size:g} Tf {rise:g} Ts 1 0 0 1 {x:g} {y:g} Tm ({_escape(text)}) Tj ET")
            end = x + 0.5 * size * len(text) + 1
            if struck:
                ops.append(f"0.6 w {x:g} {y + 3:g} m {end:g} {y + 3:g} l S")
            x, y = 50.0, y - 14
        ops.append(f"BT /F1 9 Tf 1 0 0 1 50 40 Tm ({REPORT_HEADER} | Page {label}) Tj ET")
        stream = DecodedStreamObject()
        stream.set_data("\n".join(ops).encode("latin-1"))
        page[NameObject("/Contents")] = writer._add_object(stream)
    writer.set_page_label(0, 1, style=PageLabelStyle.LOWERCASE_ROMAN)
    writer.set_page_label(2, 4, style=PageLabelStyle.DECIMAL, start=1)
    writer.add_outline_item("1 Passwords", 2)
    writer.add_outline_item("2 Scam calls", 3)
    writer.add_outline_item("References", 4)
    return writer


def main() -> None:
    """Write the crafted PDFs."""
    handbook = text_pdf(PAGES)
    handbook.write(str(HERE / "handbook.pdf"))  # type: ignore[attr-defined]
    report_pdf().write(str(HERE / "report.pdf"))  # type: ignore[attr-defined]
    for name, user in (("owner-only.pdf", ""), ("locked.pdf", "secret")):
        writer = text_pdf(PAGES[1:3])
        writer.encrypt(user_password=user, owner_password="owner", algorithm="AES-256")  # type: ignore[attr-defined]
        writer.write(str(HERE / name))  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
