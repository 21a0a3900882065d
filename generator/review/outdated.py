"""Outdated detection: compare the hashes a version recorded with the library as it is now.

A version is outdated when the framework entry, the group profile, the content library entry (for
offline drafts, the only ones made from it) or the prompt / composer it was made from has changed.

Lists do not recompute this per request. The store keeps each lesson's flag and reasons with the
*sources stamp* they were computed against (``sources_stamp``: one hash over every framework entry, group
profile, content entry, prompt and the composer as the library sees them now). A list first asks the
store for lessons whose stamp differs from the current one — none, unless a source changed or a version
was recorded since — and rechecks only those (``ReviewStore.refresh_outdated``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Protocol

from generator.errors import HocvuError

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
    """One hash over every source outdated detection compares lessons of ``frameworks`` with: equal
    stamps, equal verdicts. A framework missing from the library counts as such.

    Frameworks and groups are hashed once per library (it keeps them loaded); content files and prompts
    are read again each time, so an edited file counts at once (a few milliseconds).
    """
    h = hashlib.sha256()
    known = library.framework_ids()
    for fid in sorted(set(frameworks)):
        if fid not in known:
            h.update(f"fw {fid} missing\n".encode())
            continue
        for comp in library.framework(fid).competences:
            h.update(f"fw {fid} {comp.code} {library.competence_hash(fid, comp.code)}\n".encode())
        for code in library.content_codes(fid):
            h.update(f"content {fid} {code} {library.content_hash(fid, code)}\n".encode())
    for gid in sorted(library.groups):
        h.update(f"group {gid} {library.group_hash(gid)}\n".encode())
    for p in sorted(_prompt_hashes(library)):
        h.update(f"prompt {p}\n".encode())
    h.update(f"composer {composer_hash()}\n".encode())
    return h.hexdigest()[:32]


@dataclass
class OutdatedChecker:
    """Computes current hashes once per call site and explains what changed for each version."""

    library: Library
    _cache: dict[tuple[str, ...], str | None] = field(default_factory=dict)

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
            out.append(f"framework entry {framework} {competence} no longer exists")
        elif fw_now != version.framework_hash:
            out.append(f"framework entry {framework} {competence} changed")
        group_now = self._memo(("group", group), lambda: lib.group_hash(group))
        if group_now is None:
            out.append(f"group profile {group} no longer exists")
        elif group_now != version.group_hash:
            out.append(f"group profile {group} changed")
        if version.backend == "offline":
            # Only offline drafts are composed from the content library; a model's draft is not.
            lib_now = self._memo(
                ("content", framework, competence), lambda: lib.content_hash(framework, competence)
            )
            if lib_now != version.library_hash:
                out.append(f"content library entry {framework} {competence} changed")
        prompt = version.prompt_hash
        if prompt.startswith("offline-"):
            if prompt != composer_hash():
                out.append("the offline composer changed")
        elif version.backend == "openai":
            if prompt not in self._prompt_hashes():
                out.append("the prompt templates changed")
        return out
