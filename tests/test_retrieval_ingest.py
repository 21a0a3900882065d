"""Reading .md/.txt/.html/.docx/.pdf into titled pages, cutting passages, and refusing bad files."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from generator.retrieval.ingest import (
    CHUNK_SIZE,
    UnreadableFileError,
    embedding_text,
    load_document,
    split_document,
)

CORPUS = Path(__file__).parent / "corpus"
PDF = CORPUS / "so-tay-an-toan-so.pdf"


def make_docx(path: Path) -> Path:
    """A Word file with a title, headings, paragraphs and a table."""
    import docx

    d = docx.Document()
    d.add_heading("Sổ tay Zalo cho người cao tuổi", 0)
    d.add_heading("Gọi video cho con cháu", 1)
    d.add_paragraph(
        "Mở Zalo, chọn tên người thân rồi bấm biểu tượng máy quay để gọi video miễn phí qua Wi-Fi."
    )
    d.add_heading("Chặn tin nhắn người lạ", 1)
    d.add_paragraph("Vào Cài đặt, chọn Quyền riêng tư và tắt mục nhận tin nhắn từ người lạ.")
    table = d.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "Việc"
    table.cell(0, 1).text = "Nơi bấm"
    table.cell(1, 0).text = "Đổi ảnh đại diện"
    table.cell(1, 1).text = "Trang cá nhân"
    d.save(str(path))
    return path


def make_encrypted_pdf(path: Path, user_password: str = "secret") -> Path:
    """The corpus PDF encrypted with pypdf (RC4, which pypdf handles without extra packages)."""
    from pypdf import PdfWriter

    writer = PdfWriter(clone_from=str(PDF))
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm="RC4-128")
    with path.open("wb") as fh:
        writer.write(fh)
    return path


def make_blank_pdf(path: Path) -> Path:
    """A PDF whose only page has no text (like a scan without OCR)."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=300, height=400)
    with path.open("wb") as fh:
        writer.write(fh)
    return path


def test_markdown_title_sections_and_sizes() -> None:
    doc = load_document(CORPUS / "vneid.md")
    assert doc.title == "Hướng dẫn sử dụng ứng dụng VNeID"
    assert doc.markdown and doc.page_count == 1
    chunks = split_document(doc)
    assert len(chunks) >= 4
    assert all(c.page is None for c in chunks)
    assert [c.n for c in chunks] == list(range(1, len(chunks) + 1))
    assert all(len(c.text) <= CHUNK_SIZE for c in chunks)
    assert "Quên mật khẩu đăng nhập" in {c.section for c in chunks}
    # a section starts with its own heading, so a passage says what it is about
    assert any(c.text.startswith("## Tài khoản định danh điện tử mức 2") for c in chunks)


def test_html_keeps_visible_text_and_headings() -> None:
    doc = load_document(CORPUS / "dich-vu-cong.html")
    assert doc.title == "Nộp hồ sơ trên Cổng Dịch vụ công quốc gia"
    text = doc.pages[0].text
    assert "## Đăng nhập bằng tài khoản VNeID" in text
    assert "console.log" not in text and "font-family" not in text  # script and style dropped
    assert "Trang chủ" not in text  # navigation dropped
    assert "Tra cứu hồ sơ" in text


def test_text_title_is_the_first_short_line() -> None:
    doc = load_document(CORPUS / "vi-dien-tu.txt")
    assert doc.title == "Dùng ví điện tử an toàn"
    assert not doc.markdown


def test_docx_headings_tables_and_title(tmp_path: Path) -> None:
    doc = load_document(make_docx(tmp_path / "zalo.docx"))
    assert doc.title == "Sổ tay Zalo cho người cao tuổi"
    text = doc.pages[0].text
    assert "# Gọi video cho con cháu" in text
    assert "Đổi ảnh đại diện | Trang cá nhân" in text
    chunks = split_document(doc)
    assert len(chunks) == 1  # short sections are joined, not left as one-line passages
    assert chunks[0].section == "Sổ tay Zalo cho người cao tuổi"
    assert "Chặn tin nhắn người lạ" in chunks[0].text


def test_pdf_pages_are_numbered_and_lines_reflowed() -> None:
    doc = load_document(PDF)
    assert doc.title == "Sổ tay an toàn số"
    assert doc.page_count == 2
    chunks = split_document(doc)
    assert {c.page for c in chunks} == {1, 2}
    page2 = " ".join(c.text for c in chunks if c.page == 2)
    assert "giả mạo ngân hàng" in page2
    assert "điện thoại bị hỏng" in " ".join(c.text for c in chunks if c.page == 1)  # a broken line rejoined


def test_text_is_nfc(tmp_path: Path) -> None:
    f = tmp_path / "nfd.md"
    f.write_text(unicodedata.normalize("NFD", "# Tiếng Việt\n\nĐây là văn bản có dấu."), encoding="utf-8")
    doc = load_document(f)
    assert doc.title == "Tiếng Việt"
    assert unicodedata.is_normalized("NFC", doc.pages[0].text)


def test_long_vietnamese_text_splits_at_sentences() -> None:
    from generator.retrieval.ingest import LoadedDocument, PageText

    sentence = "Người dân nên bật xác thực hai lớp cho tài khoản ngân hàng và thư điện tử. "
    doc = LoadedDocument("t", [PageText(None, sentence * 40)])
    chunks = split_document(doc)
    assert len(chunks) > 2
    assert all(len(c.text) <= CHUNK_SIZE for c in chunks)
    assert all(c.text.endswith(".") for c in chunks)  # cut after a full stop, never inside a word


def test_embedding_text_puts_the_title_above_untitled_passages() -> None:
    assert embedding_text("## Mức 2\nNội dung", "VNeID") == "VNeID\n## Mức 2\nNội dung"
    assert embedding_text("# VNeID\nNội dung", "VNeID") == "# VNeID\nNội dung"
    assert embedding_text("Nội dung", "") == "Nội dung"


@pytest.mark.parametrize(
    ("name", "make", "reason"),
    [
        ("empty.txt", lambda p: p.write_bytes(b""), "empty file"),
        ("blank.md", lambda p: p.write_text("\n\n   \n", encoding="utf-8"), "no text found"),
        ("latin1.txt", lambda p: p.write_bytes(b"Caf\xe9 cr\xe8me"), "not UTF-8"),
        ("broken.pdf", lambda p: p.write_bytes(b"%PDF-1.4 not really"), "damaged or unreadable PDF"),
        ("locked.pdf", make_encrypted_pdf, "encrypted PDF"),
        ("scan.pdf", make_blank_pdf, "run OCR"),
        ("broken.docx", lambda p: p.write_bytes(b"PK not a zip"), "not a readable .docx"),
        ("old.doc", lambda p: p.write_bytes(b"\xd0\xcf\x11\xe0"), "save it as .docx"),
    ],
)
def test_bad_files_give_one_line_reasons(tmp_path: Path, name: str, make, reason: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / name
    make(path)
    with pytest.raises(UnreadableFileError) as info:
        load_document(path)
    assert reason in str(info.value)
    assert "\n" not in str(info.value)


def test_pdf_with_only_an_owner_password_is_read(tmp_path: Path) -> None:
    doc = load_document(make_encrypted_pdf(tmp_path / "owner.pdf", user_password=""))
    assert doc.page_count == 2
    assert "Sao lưu" in doc.pages[0].text


def test_docx_skips_struck_text_and_reads_a_merged_cell_once(tmp_path: Path) -> None:
    import docx

    d = docx.Document()
    d.add_heading("DigComp tables", 1)
    p = d.add_paragraph("Learners ")
    p.add_run("browse and search").font.strike = True
    p.add_run("search and filter").font.double_strike = False
    p.add_run(" data.")
    table = d.add_table(rows=3, cols=3)
    header = table.cell(0, 0).merge(table.cell(0, 2))
    header.text = "Competence area 1: information literacy"
    side = table.cell(1, 0).merge(table.cell(2, 0))
    side.text = "Level 1"
    table.cell(1, 1).text = "Finds information"
    old = table.cell(1, 2).paragraphs[0].add_run("Uses simple searches")
    old.font.strike = True
    table.cell(2, 1).text = "Judges a source"
    table.cell(2, 2).text = "Checks the date"
    path = tmp_path / "tables.docx"
    d.save(str(path))

    text = load_document(path).pages[0].text
    assert "Learners search and filter data." in text and "browse" not in text
    assert text.count("Competence area 1: information literacy") == 1  # spans three columns, read once
    assert text.count("Level 1") == 1  # spans two rows, read once
    assert "Uses simple searches" not in text and "Judges a source | Checks the date" in text


def test_a_passage_repeated_word_for_word_is_stored_once(workspace: Path, tmp_path: Path) -> None:
    from generator.retrieval.embedders import HashingEmbedder
    from generator.retrieval.store import SourceStore

    box = "Lưu ý: tài liệu này chỉ dùng cho lớp học cộng đồng, không dùng để bán hay in lại khi chưa được phép."
    long_text = "Câu dài. " * 95  # fills a passage, so the box is cut into one of its own
    sections = [f"## Phần {i}\n\nNội dung riêng của phần {i}. {long_text}\n\n{box}" for i in range(1, 4)]
    path = tmp_path / "lap.md"
    path.write_text("# Sổ tay\n\n" + "\n\n".join(sections), encoding="utf-8")
    store = SourceStore(workspace / ".hocvu", HashingEmbedder())
    store.add([path])
    hits = store.search("chỉ dùng cho lớp học cộng đồng", k=10, mode="keyword")
    assert sum(1 for p in hits if p.text.strip() == box) <= 1
    assert len(split_document(load_document(path))) > store.list()[0].passages  # fewer stored than cut
