"""Outdated detection: compare the hashes a version recorded with the library as it is now.

A version is outdated when the framework entry, the group profile, the content library entry (for drafts
of a backend that ``uses_content_library``, the offline drafter's) or the prompt / composer it was made
from (its backend's ``prompt_hash``) has changed.

Lists do not recompute this per request. The store keeps each lesson's flag and reasons with the
*sources stamp* they were computed against (``sources_stamp``: one hash over the files of the framework
entries, group profiles, content entries, prompts and composer as the library sees them — their sizes and
times, nothing parsed). A list first asks the store for lessons whose stamp differs from the current one —
none, unless a source changed or a version was recorded since — and rechecks only those
(``ReviewStore.refresh_outdated``), loading the library only then.
It is also outdated when a source passage it cites is no longer in the source library (its file removed
or replaced).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from generator.errors import HocvuError
from generator.review.notes import note

if TYPE_CHECKING:
    from generator.frameworks import Library


class MadeFrom(Protocol):
    """What a version recorded about its sources (a ``VersionRecord``, or a row of those columns)."""

    @property
    def backend(self) -> str: ...
    @property
    def prompt_hash(self) -> str: ...
    @property
    def framework_hash(self) -> str: ...
    @property
    def group_hash(self) -> str: ...
    @property
    def library_hash(self) -> str: ...


#: The modules the offline composer's hash is made of (``drafting.offline.composer_hash``).
_COMPOSER_MODULES = ("offline.py", "compose.py")


def sources_stamp(library: Library, frameworks: Iterable[str]) -> str:
    """One hash over every source outdated detection compares lessons of ``frameworks`` with: the files
    of their framework entries and content, every group profile, the prompt templates and the source
    library's file records (path, size and modification time, as the library sees them), and the composer.
    Equal stamps, equal verdicts; no file
    is parsed, so a command that lists lessons pays a few stat calls, not a framework load.
    """
    from generator.drafting.prompts import TEMPLATES
    from generator.frameworks import data_dirs, file_signature

    h = hashlib.sha256()
    for line in library.source_signatures(frameworks):
        h.update(f"{line}\n".encode())
    for folder in data_dirs("prompts", library.workspace):
        for name in TEMPLATES:
            if (folder / f"{name}.j2").is_file():
                h.update(f"prompt {file_signature(folder / f'{name}.j2')}\n".encode())
    if library.workspace is not None:  # the source library's file records: a removed cited source
        for record in sorted((library.workspace / ".hocvu" / "sources" / "files").glob("*.json")):
            h.update(f"sources {file_signature(record)}\n".encode())
    drafting = Path(__file__).resolve().parents[1] / "drafting"
    for module in _COMPOSER_MODULES:  # what composer_hash reads, without importing the drafter
        h.update(f"composer {file_signature(drafting / module)}\n".encode())
    return h.hexdigest()[:32]


@dataclass
class OutdatedChecker:
    """Computes current hashes once per call site and explains what changed for each version."""

    library: Library
    _cache: dict[tuple[str, ...], str | None] = field(default_factory=dict)
    _cache_files: dict[str, dict[str, str] | None] = field(default_factory=dict)

    def _memo(self, key: tuple[str, ...], compute) -> str | None:  # type: ignore[no-untyped-def]
        if key not in self._cache:
            try:
                self._cache[key] = compute()
            except HocvuError:
                self._cache[key] = None  # gone from the library
        return self._cache[key]

    def _prompt_hashes(self, backend: str) -> set[str]:
        """The hashes a current draft or revision by ``backend`` records (empty: nothing to compare)."""
        from generator.drafting.backend import backend_class

        out: set[str] = set()
        for task in ("lesson", "revise"):
            h = self._memo(("prompt", backend, task),
                           lambda t=task: backend_class(backend).prompt_hash(self.library.workspace, t))
            if h:
                out.add(h)
        return out

    def reasons(self, version: MadeFrom, framework: str, competence: str, group: str) -> list[str]:
        """Why ``version`` is out of date (empty: it is current)."""
        from generator.drafting.backend import backend_class, uses_content_library
        from generator.registry import backends

        lib, out = self.library, []
        fw_now = self._memo(("fw", framework, competence), lambda: lib.competence_hash(framework, competence))
        if fw_now is None:
            out.append(note("framework_gone", framework=framework, competence=competence))
        elif fw_now != version.framework_hash:
            out.append(note("framework_changed", framework=framework, competence=competence))
        group_now = self._memo(("group", group), lambda: lib.group_hash(group))
        if group_now is None:
            out.append(note("group_gone", group=group))
        elif group_now != version.group_hash:
            out.append(note("group_changed", group=group))
        if uses_content_library(version.backend):
            # Only drafts composed from the content library depend on it; a model's draft does not.
            lib_now = self._memo(
                ("content", framework, competence), lambda: lib.content_hash(framework, competence)
            )
            if lib_now != version.library_hash:
                out.append(note("content_changed", framework=framework, competence=competence))
        if version.backend in backends:  # a backend no longer installed cannot say what made its drafts
            current = self._prompt_hashes(version.backend)
            if current and version.prompt_hash not in current:
                made_by = backend_class(version.backend)
                out.append(note("composer_changed" if made_by.uses_content_library
                                 else "prompts_changed" if made_by.prompt_source == "the prompt templates"
                                 else "prompt_changed"))
        if getattr(version, "sources_hash", ""):  # drafted with sources: are its cited passages still there?
            out += self._removed_sources(version)
        return out

    def _removed_sources(self, version: Any) -> list[str]:
        if "sources" not in self._cache_files:
            from generator.retrieval.manifest import searchable_files

            ws = self.library.workspace
            self._cache_files["sources"] = searchable_files(ws / ".hocvu" / "sources") if ws else None
        live = self._cache_files["sources"]
        if live is None:
            return []
        cited = getattr(version, "cited_sources", None)
        if cited is None:
            cited = [(c.id, c.file) for c in version.lesson.sources]
        gone = sorted({file or sid for sid, file in cited if sid.split("-p")[0] not in live})
        return [note("source_removed", name=name) for name in gone]
