"""End-to-end operations the CLI and web app call: each is a readable list of named stages."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from generator.drafting.backend import SourcePassage, make_backend, run_sync
from generator.drafting.service import Drafted, adraft_lesson, build_request, write_draft

if TYPE_CHECKING:
    from generator.config import Settings
    from generator.frameworks import Library


@dataclass
class DraftOne:
    """What ``draft_one`` produced."""

    drafted: Drafted
    path: Path
    lesson_status: str = ""


def retrieve_passages(settings: Settings, library: Library, collection: str, framework: str, competence: str,
                      level: int, group: str, lang: str) -> tuple[list[SourcePassage], str]:
    """Stage 'retrieve': the top passages for the lesson and the collection's fingerprint."""
    from generator.retrieval.query import build_query
    from generator.retrieval.store import make_store

    store = make_store(settings)
    fw = library.framework(framework)
    query = build_query(fw.competence(competence), fw.descriptors(competence, level), library.group(group), lang)
    found = store.search(query, collection=collection, k=5)
    passages = [SourcePassage(id=p.id, text=p.text, title=p.title, file=p.file, page=p.page) for p in found]
    return passages, store.collection_fingerprint(collection)


def draft_one(library: Library, settings: Settings, *, framework: str, competence: str, level: int, group: str,
              lang: str, backend: str | None = None, model: str | None = None,
              collection: str | None = None) -> DraftOne:
    """plan → retrieve → draft → check → write. Nothing is written unless drafting succeeded."""
    request = build_request(library, framework, competence, level, group, lang)
    llm = make_backend(settings, library, backend, model)
    sources_hash = ""
    if collection:
        request.passages, sources_hash = retrieve_passages(
            settings, library, collection, framework, competence, level, group, lang)
    drafted = run_sync(adraft_lesson(library, settings, llm, request, sources_hash))
    path = write_draft(drafted, settings.outputs_dir)
    return DraftOne(drafted, path)
