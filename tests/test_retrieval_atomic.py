"""All-or-nothing per file: an add killed with SIGKILL between two write batches leaves the file's previous
version (or nothing) searchable, ``list`` shows it incomplete, and the next add finishes it."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from generator.retrieval.embedders import HashingEmbedder
from generator.retrieval.store import SourceStore

CRAFTED = Path(__file__).parent / "crafted"
REPO = Path(__file__).resolve().parent.parent

#: Runs in a child process: adds PATH with 5-passage batches and kills itself with SIGKILL as the
#: second batch is embedded, i.e. after the first batch is in chromadb.
_KILLED_ADD = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    import generator.retrieval.store as store_mod
    from generator.retrieval.embedders import HashingEmbedder

    class DyingEmbedder(HashingEmbedder):
        calls = 0
        def embed_passages(self, texts):
            DyingEmbedder.calls += 1
            if DyingEmbedder.calls == 2:
                os.kill(os.getpid(), signal.SIGKILL)
            return super().embed_passages(texts)

    store_mod._BATCH = 5
    store_mod.SourceStore(Path(sys.argv[1]), DyingEmbedder()).add([Path(sys.argv[2])])
""")


def _killed_add(state: Path, path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-c", _KILLED_ADD, str(state), str(path)], env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == -signal.SIGKILL, proc.stderr


@pytest.fixture
def long_doc(tmp_path: Path) -> Path:
    return Path(shutil.copy(CRAFTED / "so-tay-dai.md", tmp_path / "so-tay-dai.md"))


def _files(store: SourceStore) -> dict[str, tuple[str, int]]:
    return {f.file: (f.state, f.passages) for f in store.list("default")[0].files}


def test_a_killed_first_add_is_invisible_listed_incomplete_and_finished_by_the_next_add(
    workspace: Path, long_doc: Path, cli, monkeypatch: pytest.MonkeyPatch  # type: ignore[no-untyped-def]
) -> None:
    state = workspace / ".hocvu"
    _killed_add(state, long_doc)
    monkeypatch.setenv("HOCVU_EMBEDDER", "hashing")
    listed = cli("sources", "list")
    assert listed.exit_code == 0 and "incomplete" in listed.output, listed.output
    store = SourceStore(state, HashingEmbedder())
    stored, written = _files(store)["so-tay-dai.md"]
    assert stored == "incomplete" and written == 5  # the first batch reached chromadb
    assert store.search("mã OTP số 3", k=5) == []  # but none of it is searchable
    assert store.get([f"{'x' * 10}-p0-c1"]) == []

    again = store.add([long_doc])
    assert [f.status for f in again.files] == ["added"]
    assert again.files[0].reason == "finished an interrupted add"
    stored, written = _files(store)["so-tay-dai.md"]
    assert stored == "complete" and written == again.passages > 10
    assert any("mã OTP số 3 " in p.text for p in store.search("mã OTP số 3", k=10))
    assert store.add([long_doc]).files[0].status == "unchanged"


def test_a_killed_replace_keeps_the_old_version_alone_until_the_new_one_is_complete(
    workspace: Path, long_doc: Path
) -> None:
    state = workspace / ".hocvu"
    store = SourceStore(state, HashingEmbedder())
    first = store.add([long_doc]).passages
    long_doc.write_text(long_doc.read_text(encoding="utf-8").replace("phiên bản một", "phiên bản hai"),
                        encoding="utf-8")
    _killed_add(state, long_doc)

    store = SourceStore(state, HashingEmbedder())
    hits = store.search("phiên bản", k=50)
    assert len(hits) == first and all("phiên bản một" in p.text for p in hits)  # old only, all of it
    assert _files(store)["so-tay-dai.md"][0] == "incomplete"

    again = store.add([long_doc])
    assert [f.status for f in again.files] == ["replaced"]
    hits = store.search("phiên bản", k=50)
    assert len(hits) == again.passages and all("phiên bản hai" in p.text for p in hits)
    assert store.list("default")[0].passages == again.passages  # the old passages are gone
    raw = store.client.get_collection("hocvu-default", embedding_function=None)
    assert raw.count() == again.passages


def test_a_collection_built_before_file_records_gets_them(workspace: Path, long_doc: Path) -> None:
    store = SourceStore(workspace / ".hocvu", HashingEmbedder())
    added = store.add([long_doc]).passages
    raw = store.client.get_collection("hocvu-default", embedding_function=None)
    got = raw.get(include=["metadatas"])
    raw.update(ids=got["ids"], metadatas=[{k: v for k, v in m.items() if k != "gen"} for m in got["metadatas"]])
    (store.path / "files" / "default.json").unlink()  # as a library written by the previous version

    old = SourceStore(workspace / ".hocvu", HashingEmbedder())
    assert _files(old) == {"so-tay-dai.md": ("complete", added)}
    assert len(old.search("mã OTP", k=5)) == 5
    assert old.add([long_doc]).files[0].status == "unchanged"
