"""End-to-end operations the CLI and web app call: each is a readable list of named stages."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator.drafting.backend import SourcePassage, make_backend, run_sync
from generator.drafting.service import Drafted, adraft_lesson, build_request

if TYPE_CHECKING:
    from generator.config import Settings
    from generator.frameworks import Library
    from generator.retrieval.store import SourceStore
    from generator.review.store import ReviewStore


@dataclass
class DraftOne:
    """What ``draft_one`` produced."""

    drafted: Drafted
    path: Path
    lesson_status: str = ""


def retrieve_passages(settings: Settings, library: Library, collection: str, framework: str, competence: str,
                      level: int, group: str, lang: str,
                      store: SourceStore | None = None) -> tuple[list[SourcePassage], str]:
    """Stage 'retrieve': the top passages for the lesson and the collection's fingerprint. Pass ``store``
    to reuse one source library (and its embedder) across many lessons."""
    from generator.retrieval.query import build_queries
    from generator.retrieval.store import make_store

    store = store or make_store(settings)
    fw = library.framework(framework)
    query, *translations = build_queries(fw.competence(competence), fw.descriptors(competence, level),
                                         library.group(group), lang)
    found = store.search(query, collection=collection, k=5, translations=translations)
    passages = [SourcePassage(id=p.id, text=p.text, title=p.title, file=p.file, page=p.page, section=p.section,
                              page_label=p.page_label) for p in found]
    return passages, store.collection_fingerprint(collection)


def draft_one(library: Library, settings: Settings, *, framework: str, competence: str, level: int,
              group: str, lang: str, backend: str | None = None, model: str | None = None,
              collection: str | None = None, author: str | None = None, store: ReviewStore | None = None,
              formats: Sequence[str] | None = (), tts: Any = None) -> DraftOne:
    """plan → retrieve → draft → check → write → render → submit for review.

    Nothing is written unless drafting succeeded; the new version enters the review store as in_review
    under ``author`` (default: HOCVU_USER or the OS user). ``formats`` are rendered into the version
    folder before it is recorded (``()``: none, ``None``: the group's default formats).
    """
    from generator.review.store import ReviewStore, default_author
    from generator.versions import make_version

    request = build_request(library, framework, competence, level, group, lang)
    llm = make_backend(settings, library, backend, model)
    who = author or default_author(settings)
    own = store is None
    db = store or ReviewStore.open(settings)
    try:
        db.authorize(who, "create")  # before any model call is paid for
        sources_hash = ""
        if collection:
            request.passages, sources_hash = retrieve_passages(
                settings, library, collection, framework, competence, level, group, lang)
        drafted = run_sync(adraft_lesson(library, settings, llm, request, sources_hash))
        new = make_version(drafted, library, settings, db, author=who, kind="draft", formats=formats, tts=tts,
                           note=f"drafted with {drafted.lesson.provenance.backend}")
    finally:
        if own:
            db.close()
    status = new.record.status.replace("_", " ")
    return DraftOne(new.drafted, new.path, f"{status}: version {new.record.number} (by {who})")
