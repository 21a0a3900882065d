"""PDF cleaning (running headers and footers, page numbers, contents and reference pages, hyphenation,
stray bullet glyphs) and encrypted PDFs, on the crafted files of tests/crafted (see make_crafted.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

from generator.retrieval.embedders import HashingEmbedder
from generator.retrieval.ingest import load_document, split_document
from generator.retrieval.pdf_clean import clean_pages
from generator.retrieval.store import SourceStore

CRAFTED = Path(__file__).parent / "crafted"


def test_the_crafted_handbook_comes_out_clean() -> None:
    doc = load_document(CRAFTED / "handbook.pdf")
    texts = {p.page: p.text for p in doc.pages}
    assert texts[1] == "" and texts[6] == ""  # contents and references skipped, page numbers kept
    body = "\n".join(texts.values())
    assert "Handbook 2026" not in body and "| Page" not in body  # running header and footer
    assert not any(line.strip().isdigit() for line in body.splitlines())  # page-number lines
    assert "technologies that store" in body and "technolo" not in body.replace("technologies", "")
    assert "safekeeping account" in body and "backup folder" in body
    assert "\u030a" not in body and "- Never reuse a password" in body  # stray ring → a bullet
    assert "et al." not in body and "doi:" not in body
    assert doc.title == "Digital Skills Handbook"
    chunks = split_document(doc)
    assert chunks and all(not c.text.startswith("Digital Skills Handbook 2026") for c in chunks)


def test_clean_pages_keeps_a_short_document_and_real_numbers() -> None:
    pages = ["Report 2026\nIn 2024, 42 people joined.\n12", "Report 2026\nThey met 3 times.\n13",
             "Report 2026\n76\nDigComp 3.0\nSome text here.\n14"]
    cleaned = clean_pages(pages)
    assert cleaned[0] == "In 2024, 42 people joined." and cleaned[1] == "They met 3 times."
    assert "76" not in cleaned[2] and "Some text here." in cleaned[2]
    assert clean_pages(["One page\nwith a line"]) == ["One page\nwith a line"]  # too short to repeat


def test_a_folder_with_an_owner_only_pdf_a_locked_pdf_and_a_broken_one(workspace: Path, tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    for name in ("owner-only.pdf", "locked.pdf", "handbook.pdf"):
        shutil.copy(CRAFTED / name, folder / name)
    (folder / "broken.pdf").write_bytes(b"%PDF-1.7\n" + b"\x00garbage" * 50)
    (folder / "notes.md").write_text("# Ghi chú\n\nKhông chia sẻ mã OTP với bất kỳ ai.\n", encoding="utf-8")

    report = SourceStore(workspace / ".hocvu", HashingEmbedder()).add([folder])
    status = {f.file: f.status for f in report.files}
    assert status == {"broken.pdf": "skipped", "handbook.pdf": "added", "locked.pdf": "skipped",
                      "notes.md": "added", "owner-only.pdf": "added"}
    reasons = {f.file: f.reason for f in report.skipped}
    assert "needs a password" in reasons["locked.pdf"]
    assert all("\n" not in r and r for r in reasons.values())
    doc = load_document(folder / "owner-only.pdf")
    assert "passphrase of four random words" in doc.pages[1].text


def test_sources_add_exits_2_when_nothing_could_be_added(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    locked = Path(shutil.copy(CRAFTED / "locked.pdf", tmp_path / "locked.pdf"))
    result = cli("sources", "add", str(locked))
    assert result.exit_code == 2, result.output
    assert "needs a password" in result.output and "0 added" in result.output


def test_the_crafted_report_skips_struck_text_keeps_footnotes_apart_and_knows_sections() -> None:
    doc = load_document(CRAFTED / "report.pdf")
    assert doc.title == "Digital Skills Report 2026"  # the running header, not the first section's heading
    body = "\n".join(p.text for p in doc.pages)
    assert "Change every password each month" not in body  # struck through in the PDF
    assert "Change a password when the site reports a leak." in body  # its replacement stays
    assert "random words[1] that you can remember easily." in body  # the marker, not a glued digit
    assert "\n\n[1] A passphrase generator can pick the words for you." in body  # the footnote apart
    assert "authorised" not in body and "ISBN" not in body  # the legal page
    assert "........" not in body and "et al." not in body  # contents and references
    assert "scammer. Hang up" in body and "| Page" not in body and "Report 2026" not in body
    chunks = split_document(doc)
    where = {(c.section, c.page_label) for c in chunks}
    assert where == {("1 Passwords", "1"), ("2 Scam calls", "2")}  # outline sections, printed labels
    assert all(not c.text.startswith("[1]") for c in chunks)


def test_passages_carry_section_and_printed_page(workspace: Path) -> None:
    store = SourceStore(workspace / ".hocvu", HashingEmbedder())
    store.add([CRAFTED / "report.pdf", CRAFTED / "handbook.pdf"])
    hit = store.search("caller police money scammer", k=1, mode="keyword")[0]
    assert (hit.page, hit.page_label, hit.section) == (4, "2", "2 Scam calls")
    assert hit.where() == "2 Scam calls, p. 2"
    assert hit.citation() == "Digital Skills Report 2026 (report.pdf, 2 Scam calls, p. 2)"
