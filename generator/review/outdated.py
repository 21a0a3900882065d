"""Outdated detection: compare the hashes a version recorded with the library as it is now.

A version is outdated when the framework entry, the group profile, the content library entry (for
offline drafts, the only ones made from it) or the prompt / composer it was made from has changed.

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
from functools import cache
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


#: The modules the offline composer's hash is made of (``drafting.offline._composer_hash``).
_COMPOSER_MODULES = ("offline.py", "compose.py")


@cache
def composer_hash() -> str:
    """The offline composer's hash (its source code does not change while a process runs)."""
    from generator.drafting.offline import _composer_hash

    return _composer_hash()


def _prompt_hashes(library: Library) -> set[str]:
    from generator.drafting.prompts import PromptSet

    try:
        prompts = PromptSet.load(library.workspace)
    except HocvuError:
        return set()
    return {prompts.hash(*names) for names in (("system", "lesson"), ("system", "revise"))}


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
    for module in _COMPOSER_MODULES:  # what _composer_hash reads, without importing the drafter
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

    def _prompt_hashes(self) -> set[str]:
        if ("prompts",) not in self._cache:
            self._cache[("prompts",)] = "\n".join(sorted(_prompt_hashes(self.library)))
        return set(filter(None, (self._cache[("prompts",)] or "").split("\n")))

    def reasons(self, version: MadeFrom, framework: str, competence: str, group: str) -> list[str]:
        """Why ``version`` is out of date (empty: it is current)."""
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
        if version.backend == "offline":
            # Only offline drafts are composed from the content library; a model's draft is not.
            lib_now = self._memo(
                ("content", framework, competence), lambda: lib.content_hash(framework, competence)
            )
            if lib_now != version.library_hash:
                out.append(note("content_changed", framework=framework, competence=competence))
        prompt = version.prompt_hash
        if prompt.startswith("offline-"):
            if prompt != composer_hash():
                out.append(note("composer_changed"))
        elif version.backend == "openai":
            if prompt not in self._prompt_hashes():
                out.append(note("prompts_changed"))
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
