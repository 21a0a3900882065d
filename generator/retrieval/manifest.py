"""File records: which generation of each file's passages is searchable.

chromadb writes a big file in several batches, so a file's passages cannot appear in one step. Each add
of a file writes its passages under a new *generation* (``gen`` in their metadata) and keeps a record
per file in ``<library>/files/<collection>.json`` (written atomically):

1. the record becomes ``writing`` with the new generation, keeping the generation still searchable
   (``live_gen``, the file's previous version, if any);
2. the passages are written, batch by batch, under the new generation;
3. the record becomes ``complete`` with the new generation — the switch;
4. passages of the file under any other generation are deleted.

Search and ``get`` only see searchable generations, so a crash at any point leaves either the old
version or the new one searchable, never a mix; the next add of a file whose record is ``writing``
redoes it, and ``sources list`` shows it as incomplete.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Literal

from generator.errors import RetrievalError
from generator.fsutil import write_text_atomic

__all__ = ["LEGACY_GEN", "FileRecord", "Manifest", "new_generation", "searchable_files"]

#: The generation of passages written before records existed (set on them when the collection is opened).
LEGACY_GEN = "0"

RecordState = Literal["writing", "complete"]


def new_generation() -> str:
    """A fresh generation id."""
    return uuid.uuid4().hex[:12]


@dataclass(frozen=True)
class FileRecord:
    """One file of a collection: the generation being written or complete, and the one searchable."""

    path: str
    file: str
    sha256: str
    gen: str
    state: RecordState
    title: str = ""
    pages: int = 1
    added_at: str = ""
    live_gen: str | None = None  # while writing: the previous complete generation, still searchable
    live_sha256: str | None = None

    @property
    def complete(self) -> bool:
        """All of the record's passages are written."""
        return self.state == "complete"

    @property
    def searchable_gen(self) -> str | None:
        """The generation search may return for this file (None: nothing yet)."""
        return self.gen if self.complete else self.live_gen

    @property
    def searchable_sha256(self) -> str | None:
        """The content hash of the searchable generation."""
        return self.sha256 if self.complete else self.live_sha256

    def finished(self) -> FileRecord:
        """The record after its last passage is written."""
        return replace(self, state="complete", live_gen=None, live_sha256=None)


class Manifest:
    """The file records of one collection, in a JSON file replaced atomically on every change."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def exists(self) -> bool:
        """Whether records were ever written for this collection."""
        return self.path.exists()

    def load(self) -> dict[str, FileRecord]:
        """Records by file path."""
        if not self.path.exists():
            return {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return {r["path"]: FileRecord(**r) for r in data["files"]}
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise RetrievalError(
                "the file records at {path} are damaged ({exc}); run `hocvu sources reindex` "
                "or remove and add the collection again",
                path=self.path, exc=exc,
            ) from exc

    def save(self, records: Iterable[FileRecord]) -> None:
        """Replace the records."""
        files: list[dict[str, Any]] = [asdict(r) for r in sorted(records, key=lambda r: r.path)]
        write_text_atomic(self.path, json.dumps({"version": 1, "files": files}, ensure_ascii=False, indent=1))

    def put(self, record: FileRecord) -> None:
        """Add or replace one record."""
        records = self.load()
        records[record.path] = record
        self.save(records.values())

    def drop(self, path: str) -> None:
        """Forget one file."""
        records = self.load()
        if records.pop(path, None) is not None:
            self.save(records.values())

    def delete(self) -> None:
        """Forget the whole collection."""
        self.path.unlink(missing_ok=True)


def searchable_files(library_dir: Path) -> dict[str, str] | None:
    """``{sha256[:10]: file name}`` of every searchable file in every collection of the source library at
    ``library_dir`` (``<state>/sources``), read from the file records alone (chromadb is not opened);
    None when the library has no records. Passage ids start with that prefix, so a lesson can tell
    whether the passages it cites are still there."""
    folder = library_dir / "files"
    if not folder.is_dir():
        return None
    out: dict[str, str] = {}
    for path in sorted(folder.glob("*.json")):
        for r in Manifest(path).load().values():
            if (sha := r.searchable_sha256) is not None:
                out[sha[:10]] = r.file
    return out
