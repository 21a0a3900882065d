"""Outdated detection: compare the hashes a version recorded with the library as it is now.

A version is outdated when the framework entry, the group profile, the content library entry (for
offline drafts, the only ones made from it) or the prompt / composer it was made from has changed, or
when a source passage it cites is no longer in the source library (its file removed or replaced).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from generator.errors import HocvuError

if TYPE_CHECKING:
    from generator.frameworks import Library
    from generator.review.records import VersionRecord


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
        from generator.drafting.prompts import PromptSet

        out: set[str] = set()
        for names in (("system", "lesson"), ("system", "revise")):
            h = self._memo(
                ("prompt", *names), lambda n=names: PromptSet.load(self.library.workspace).hash(*n)
            )
            if h:
                out.add(h)
        return out

    def _composer_hash(self) -> str | None:
        from generator.drafting.offline import _composer_hash

        return self._memo(("composer",), _composer_hash)

    def reasons(self, version: VersionRecord, framework: str, competence: str, group: str) -> list[str]:
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
            if prompt != self._composer_hash():
                out.append("the offline composer changed")
        elif version.backend == "openai":
            if prompt not in self._prompt_hashes():
                out.append("the prompt templates changed")
        if version.sources_hash:  # drafted with sources: are the passages it cites still in the library?
            out += self._removed_sources(version)
        return out

    def _removed_sources(self, version: VersionRecord) -> list[str]:
        if "sources" not in self._cache_files:
            from generator.retrieval.manifest import searchable_files

            ws = self.library.workspace
            self._cache_files["sources"] = searchable_files(ws / ".hocvu" / "sources") if ws else None
        live = self._cache_files["sources"]
        if live is None:
            return []
        gone = sorted({s.file or s.id for s in version.lesson.sources if s.id.split("-p")[0] not in live})
        return [f"cited source {name} was removed from the source library or replaced" for name in gone]
