"""Outdated detection: compare the hashes a version recorded with the library as it is now.

A version is outdated when the framework entry, the group profile, the content library entry (for drafts
of a backend that ``uses_content_library``, the offline drafter's) or the prompt / composer it was made
from (its backend's ``prompt_hash``) has changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from generator.drafting.backend import backend_class, uses_content_library
from generator.errors import HocvuError
from generator.registry import backends

if TYPE_CHECKING:
    from generator.frameworks import Library
    from generator.review.records import VersionRecord


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

    def _prompt_hashes(self, backend: str) -> set[str]:
        """The hashes a current draft or revision by ``backend`` records (empty: nothing to compare)."""
        out: set[str] = set()
        for task in ("lesson", "revise"):
            h = self._memo(("prompt", backend, task),
                           lambda t=task: backend_class(backend).prompt_hash(self.library.workspace, t))
            if h:
                out.add(h)
        return out

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
        if uses_content_library(version.backend):
            # Only drafts composed from the content library depend on it; a model's draft does not.
            lib_now = self._memo(
                ("content", framework, competence), lambda: lib.content_hash(framework, competence)
            )
            if lib_now != version.library_hash:
                out.append(f"content library entry {framework} {competence} changed")
        if version.backend in backends:  # a backend no longer installed cannot say what made its drafts
            current = self._prompt_hashes(version.backend)
            if current and version.prompt_hash not in current:
                out.append(f"{backend_class(version.backend).prompt_source} changed")
        return out
