"""The source library's mechanics with the hashing embedder: add, re-add, replace, remove, search, get,
reindex, embedder mismatch, bad files, fingerprints."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from generator.errors import EmbedderMismatchError, NotFoundError, RetrievalError
from generator.retrieval.embedders import HashingEmbedder
from generator.retrieval.store import SourceStore, make_store

CORPUS = Path(__file__).parent / "corpus"
ID = re.compile(r"^[0-9a-f]{10}-p\d+-c\d+$")


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    """A writable copy of the test corpus."""
    return Path(shutil.copytree(CORPUS, tmp_path / "docs"))


@pytest.fixture
def store(workspace: Path) -> SourceStore:
    """An empty source library in the workspace, embedding with the hashing embedder."""
    return SourceStore(workspace / ".hocvu", HashingEmbedder())


def _count(store: SourceStore, collection: str = "default") -> int:
    return store.list(collection)[0].passages


def test_adding_a_folder_gives_searchable_passages(store: SourceStore, docs: Path) -> None:
    report = store.add([docs])
    corpus_files = sorted(p.name for p in CORPUS.iterdir())
    assert sorted(f.file for f in report.added) == corpus_files
    assert not report.skipped
    assert report.passages == _count(store) >= 20
    assert report.pages == len(corpus_files) + 1  # the PDF has two pages
    assert store.collections() == ["default"]

    hits = store.search("định danh điện tử mức 2 công an xã", k=3)
    assert len(hits) == 3
    assert hits[0].file == "vneid.md"
    assert hits[0].title == "Hướng dẫn sử dụng ứng dụng VNeID"
    assert hits[0].collection == "default"
    assert all(ID.match(h.id) for h in hits)
    assert hits[0].score is not None and hits[0].score >= hits[1].score >= hits[2].score  # type: ignore[operator]

    pdf = store.search("tin nhắn giả mạo ngân hàng đường link", k=1)[0]
    assert (pdf.file, pdf.page) == ("so-tay-an-toan-so.pdf", 2)
    assert pdf.id.endswith("-p2-c1")
    assert pdf.citation() == "Sổ tay an toàn số (so-tay-an-toan-so.pdf, Tin nhắn giả mạo ngân hàng, p. 2)"


def test_list_shows_files_titles_and_counts(store: SourceStore, docs: Path) -> None:
    store.add([docs / "vneid.md", docs / "so-tay-an-toan-so.pdf"], collection="vi")
    (info,) = store.list()
    assert (info.name, info.embedder) == ("vi", "hashing:256")
    by_name = {f.file: f for f in info.files}
    assert by_name["so-tay-an-toan-so.pdf"].pages == 2
    assert by_name["vneid.md"].title == "Hướng dẫn sử dụng ứng dụng VNeID"
    assert by_name["vneid.md"].path == str((docs / "vneid.md").resolve())
    assert info.passages == sum(f.passages for f in info.files)


def test_re_adding_unchanged_files_does_nothing(store: SourceStore, docs: Path) -> None:
    store.add([docs])
    before = store.get([p.id for p in store.search("VNeID", k=50)])
    fingerprint = store.collection_fingerprint()

    again = store.add([docs])
    assert len(again.unchanged) == len(again.files) and again.passages == 0

    copy = docs / "copy"
    copy.mkdir()
    shutil.copy(docs / "vneid.md", copy / "vneid-copy.md")
    dup = store.add([copy])
    assert dup.files[0].status == "unchanged"
    assert "same content as" in dup.files[0].reason

    assert store.get([p.id for p in before]) == before
    assert store.collection_fingerprint() == fingerprint


def test_a_changed_file_replaces_its_passages(store: SourceStore, docs: Path) -> None:
    store.add([docs])
    old_ids = [p.id for p in store.search("VNeID", k=100) if p.file == "vneid.md"]
    others = _count(store) - len(old_ids)
    fingerprint = store.collection_fingerprint()

    f = docs / "vneid.md"
    f.write_text(
        f.read_text(encoding="utf-8") + "\n## Đổi số điện thoại\n\nCập nhật số mới tại công an xã.\n",
        encoding="utf-8",
    )
    report = store.add([f])
    assert [r.status for r in report.files] == ["replaced"]
    assert store.get(old_ids) == []
    new = [p for p in store.search("Đổi số điện thoại", k=100) if p.file == "vneid.md"]
    assert any("Cập nhật số mới" in p.text for p in new)
    assert _count(store) == others + report.passages
    assert len(store.list()[0].files) == len(list(CORPUS.iterdir()))
    assert store.collection_fingerprint() != fingerprint


def test_remove_files_and_collections(store: SourceStore, docs: Path) -> None:
    store.add([docs])
    store.add([docs / "strong-passwords.md"], collection="en")
    total = _count(store)
    vneid = next(f for f in store.list("default")[0].files if f.file == "vneid.md")

    removed = store.remove(["vneid.md"], collection="default")
    assert [(r.collection, r.file, r.passages) for r in removed] == [("default", "vneid.md", vneid.passages)]
    assert _count(store) == total - vneid.passages
    assert all(p.file != "vneid.md" for p in store.search("VNeID", k=50))

    sha = next(f.sha256 for f in store.list("default")[0].files if f.file == "fake-news.txt")
    assert store.remove([sha[:8]])[0].file == "fake-news.txt"

    # without a collection, a file is removed wherever it is
    gone = store.remove([str(docs / "strong-passwords.md")])
    assert sorted(r.collection for r in gone) == ["default", "en"]

    with pytest.raises(NotFoundError, match="ai-assistants.txt"):
        store.remove(["nope.pdf"], collection="default")
    with pytest.raises(RetrievalError, match="name a collection"):
        store.remove()

    (dropped,) = store.remove(collection="en")
    assert (dropped.collection, dropped.file, dropped.passages) == ("en", None, 0)
    assert store.collections() == ["default"]


def test_removing_a_whole_collection(store: SourceStore, docs: Path) -> None:
    store.add([docs / "vneid.md"], collection="tam-thoi")
    (removed,) = store.remove(collection="tam-thoi")
    assert (removed.collection, removed.file) == ("tam-thoi", None) and removed.passages > 0
    assert store.collections() == []


def test_a_file_name_in_two_folders_needs_its_path(store: SourceStore, tmp_path: Path) -> None:
    for folder, text in (("a", "Ghi chú về VNeID."), ("b", "Ghi chú về ví điện tử.")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "notes.md").write_text(text, encoding="utf-8")
    store.add([tmp_path / "a", tmp_path / "b"])
    with pytest.raises(RetrievalError, match="give the full path"):
        store.remove(["notes.md"])
    assert store.remove([tmp_path / "a" / "notes.md"])[0].passages == 1


def test_unknown_collection_lists_the_existing_ones(store: SourceStore, docs: Path) -> None:
    with pytest.raises(NotFoundError, match=r"\(none available\)"):
        store.search("VNeID", collection="default")
    store.add([docs / "vneid.md"])
    store.add([docs / "fake-news.txt"], collection="en")
    for call in (
        lambda: store.search("x", collection="nope"),
        lambda: store.list("nope"),
        lambda: store.get(["x"], collection="nope"),
        lambda: store.reindex("nope"),
        lambda: store.collection_fingerprint("nope"),
    ):
        with pytest.raises(NotFoundError, match="unknown collection 'nope'; choose one of: default, en"):
            call()


def test_a_missing_path_fails_before_anything_is_written(store: SourceStore, docs: Path) -> None:
    with pytest.raises(NotFoundError, match="no-such-folder.*nothing was added"):
        store.add([docs, docs / "no-such-folder"])
    assert store.collections() == []
    store.add([docs / "vneid.md"])
    count = _count(store)
    with pytest.raises(NotFoundError):
        store.add([docs / "fake-news.txt", Path("missing.pdf")])
    assert _count(store) == count


def test_bad_files_are_skipped_and_the_others_added(store: SourceStore, tmp_path: Path) -> None:
    import docx
    from pypdf import PdfWriter

    folder = tmp_path / "mixed"
    folder.mkdir()
    shutil.copy(CORPUS / "vneid.md", folder)
    word = docx.Document()
    word.add_heading("Gọi video bằng Zalo", 1)
    word.add_paragraph("Mở Zalo, chọn người thân rồi bấm biểu tượng máy quay để gọi video miễn phí.")
    word.save(str(folder / "zalo.docx"))
    (folder / "empty.txt").write_bytes(b"")
    (folder / "broken.docx").write_bytes(b"PK not a zip")
    (folder / "latin1.txt").write_bytes(b"Caf\xe9")
    (folder / "photo.jpg").write_bytes(b"\xff\xd8\xff")
    locked = PdfWriter(clone_from=str(CORPUS / "so-tay-an-toan-so.pdf"))
    locked.encrypt(user_password="secret", algorithm="RC4-128")
    locked.write(str(folder / "locked.pdf"))
    scan = PdfWriter()
    scan.add_blank_page(width=300, height=400)
    scan.write(str(folder / "scan.pdf"))
    (folder / ".hidden.md").write_text("# bí mật", encoding="utf-8")

    report = store.add([folder])
    assert sorted(f.file for f in report.added) == ["vneid.md", "zalo.docx"]
    reasons = {f.file: f.reason for f in report.skipped}
    assert set(reasons) == {"empty.txt", "broken.docx", "latin1.txt", "photo.jpg", "locked.pdf", "scan.pdf"}
    assert "encrypted" in reasons["locked.pdf"]
    assert all(r and "\n" not in r for r in reasons.values())
    assert store.search("gọi video Zalo", k=1)[0].file == "zalo.docx"


def test_embedder_mismatch_is_refused_until_reindex(store: SourceStore, docs: Path, workspace: Path) -> None:
    store.add([docs])
    ids = sorted(p.id for p in store.search("VNeID", k=100))
    fingerprint = store.collection_fingerprint()

    other = SourceStore(workspace / ".hocvu", HashingEmbedder(64))
    with pytest.raises(EmbedderMismatchError, match=r"built with the hashing:256 embedder.*sources reindex"):
        other.search("VNeID")
    with pytest.raises(EmbedderMismatchError):
        other.add([docs / "vneid.md"])
    assert other.list()[0].embedder == "hashing:256"  # listing and removing do not need the embedder

    assert other.reindex("default") == {"default": len(ids)}
    assert other.list()[0].embedder == "hashing:64"
    assert sorted(p.id for p in other.search("VNeID", k=100)) == ids
    assert other.search("định danh điện tử mức 2", k=1)[0].file == "vneid.md"
    assert other.collection_fingerprint() != fingerprint
    with pytest.raises(EmbedderMismatchError):
        SourceStore(workspace / ".hocvu", HashingEmbedder()).search("VNeID")


def test_reindex_every_collection(store: SourceStore, docs: Path, workspace: Path) -> None:
    store.add([docs / "vneid.md"])
    store.add([docs / "fake-news.txt"], collection="en")
    done = SourceStore(workspace / ".hocvu", HashingEmbedder(32)).reindex()
    assert set(done) == {"default", "en"}
    assert {i.embedder for i in store.list()} == {"hashing:32"}


def test_an_interrupted_reindex_is_finished_on_open(store: SourceStore, docs: Path, workspace: Path) -> None:
    store.add([docs / "vneid.md"])
    count = _count(store)
    # the state after a crash between dropping the old collection and renaming the rebuilt one
    store.client.get_collection("hocvu-default", embedding_function=None).modify(name="hocvureindex-default")
    reopened = SourceStore(workspace / ".hocvu", HashingEmbedder())
    assert reopened.collections() == ["default"]
    assert _count(reopened) == count


def test_the_embedder_is_registered_with_chromadb(store: SourceStore, docs: Path) -> None:
    store.add([docs / "vneid.md"])
    raw = store.client.get_collection("hocvu-default")  # no embedding function passed
    ef = raw.configuration_json["embedding_function"]
    assert (ef["name"], ef["config"]) == ("hocvu", {"embedder": "hashing:256"})
    assert raw.configuration_json["hnsw"]["space"] == "cosine"
    # chromadb alone rebuilds the embedder from the stored config and can query the collection
    hit = raw.query(query_texts=["định danh điện tử mức 2"], n_results=1)
    assert hit["metadatas"][0][0]["file"] == "vneid.md"


def test_get_keeps_the_order_asked_and_skips_missing_ids(store: SourceStore, docs: Path) -> None:
    store.add([docs])
    a, b = store.search("ví điện tử", k=2)
    got = store.get([b.id, "0000000000-p0-c1", a.id, b.id])
    assert [p.id for p in got] == [b.id, a.id]
    assert got[0].text == b.text and got[0].score is None


def test_search_arguments(store: SourceStore, docs: Path) -> None:
    store.add([docs / "fake-news.txt"])
    assert len(store.search("news", k=50)) == _count(store)
    with pytest.raises(RetrievalError, match="empty"):
        store.search("  ")
    with pytest.raises(RetrievalError, match="at least 1"):
        store.search("news", k=0)


def test_collection_names(store: SourceStore, docs: Path) -> None:
    store.add([docs / "vneid.md"], collection="vi")  # short names are fine
    assert store.collections() == ["vi"]
    with pytest.raises(RetrievalError, match="not allowed"):
        store.add([docs / "vneid.md"], collection="tên có dấu cách")


def test_fingerprint_follows_the_files(store: SourceStore, docs: Path) -> None:
    store.add([docs / "vneid.md"])
    one = store.collection_fingerprint()
    store.add([docs / "fake-news.txt"])
    two = store.collection_fingerprint()
    store.remove(["fake-news.txt"])
    assert len({one, two}) == 2
    assert store.collection_fingerprint() == one


def test_a_reopened_store_sees_the_same_library(store: SourceStore, docs: Path, workspace: Path) -> None:
    store.add([docs])
    again = SourceStore(workspace / ".hocvu", HashingEmbedder())
    assert again.list() == store.list()
    assert again.search("VNeID mức 2", k=1) == store.search("VNeID mức 2", k=1)


def test_an_empty_workspace_has_no_collections(store: SourceStore) -> None:
    assert store.collections() == [] and store.list() == []
    assert not store.path.exists()  # looking does not create the library


def test_make_store_uses_the_workspace_and_embedder(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from generator.config import load_settings

    monkeypatch.setenv("HOCVU_EMBEDDER", "hashing")
    s = make_store(load_settings())
    assert s.path == workspace.resolve() / ".hocvu" / "sources"
    assert s.embedder.name == "hashing:256"
