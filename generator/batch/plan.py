"""Expand a batch spec into lessons, each with a cache key from everything that shapes it."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from generator import __version__
from generator.batch.spec import BatchSpec, expand_competences, validate_names
from generator.drafting.backend import uses_content_library
from generator.frameworks import Library
from generator.lesson import lesson_id

#: 'skip': left out of this run (``--retry-failed`` redoes only the lessons that failed their checks).
Status = Literal["generate", "cached", "skip"]

#: Typical completion size of one lesson, for cost estimates (measured on the loopback server: ~1.4k).
EST_OUTPUT_TOKENS = 1500


@dataclass
class PlannedLesson:
    """One lesson of a batch."""

    framework: str
    competence: str
    level: int
    group: str
    lang: str
    formats: list[str]
    cache_key: str = ""  # the version's inputs, formats included: a lesson is 'cached' when a version has it
    draft_key: str = ""  # the draft's inputs only: a new format re-renders but never repeats the LLM call
    status: Status = "generate"

    @property
    def id(self) -> str:
        """The lesson id."""
        return lesson_id(self.framework, self.competence, self.level, self.group, self.lang)


@dataclass
class Plan:
    """A batch's lessons and their estimate."""

    spec: BatchSpec
    backend: str
    model: str
    lessons: list[PlannedLesson] = field(default_factory=list)
    est_input_tokens: int = 0
    est_output_tokens: int = 0
    est_cost_usd: float = 0.0
    calls_model: bool = False  # drafting sends model calls (so the estimate and the call limits apply)
    #: How the structured-output method is chosen: remembered for this server and model, configured, or
    #: found on the first call ('' when the backend asks for none).
    method: str = ""

    def count(self, status: str) -> int:
        """Lessons with ``status``."""
        return sum(1 for p in self.lessons if p.status == status)

    def by_group(self) -> dict[str, dict[str, int]]:
        """Counts per group and status."""
        out: dict[str, dict[str, int]] = {}
        for p in self.lessons:
            row = out.setdefault(p.group, {"generate": 0, "cached": 0, "skip": 0})
            row[p.status] += 1
        return out


def prompt_hash_for(backend: str, workspace: Path | None) -> str:
    """The hash of what turns a request into a draft (the prompt templates, the offline composer...)."""
    from generator.drafting.backend import backend_class

    return backend_class(backend).prompt_hash(workspace, "lesson")


def cache_key(library: Library, p: PlannedLesson, backend: str, model: str, prompt_hash: str,
              sources_fingerprint: str) -> str:
    """Hash of the framework entry, group profile, content library, prompt, backend and model, sources:
    what shapes the draft (the rendered formats are added by ``version_key``)."""
    parts = [
        __version__, p.id, library.competence_hash(p.framework, p.competence), library.group_hash(p.group),
        library.content_hash(p.framework, p.competence) if uses_content_library(backend) else "", prompt_hash,
        backend, model, sources_fingerprint,
    ]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:24]


def version_key(draft: str, formats: list[str]) -> str:
    """The key of a built version: its draft's key and the formats rendered (order does not matter)."""
    return hashlib.sha256(f"{draft}\x1fformats:{','.join(sorted(set(formats)))}".encode()).hexdigest()[:24]


def make_plan(spec: BatchSpec, library: Library, backend: str, model: str, prompt_hash: str,
              sources_fingerprint: str, current: Callable[[list[PlannedLesson]], list[Status]],
              estimate: Callable[[PlannedLesson], int] | None = None,
              price: dict[str, float] | None = None, force: bool = False) -> Plan:
    """Expand ``spec``; ``current`` says which lessons already have a version with their key."""
    validate_names(spec, library)
    plan = Plan(spec, backend, model)
    for group in spec.groups:
        formats = spec.formats_for(list(library.group(group).default_formats))
        for code in expand_competences(spec, library):
            for level in spec.levels:
                for lang in spec.languages:
                    p = PlannedLesson(spec.framework, code, level, group, lang, formats)
                    p.draft_key = cache_key(library, p, backend, model, prompt_hash, sources_fingerprint)
                    p.cache_key = version_key(p.draft_key, formats)
                    plan.lessons.append(p)
    for p, status in zip(plan.lessons, current(plan.lessons), strict=True):
        p.status = "generate" if force else status
    if estimate is not None:  # None: drafting calls no model, so nothing is spent
        plan.calls_model = True
        todo = [p for p in plan.lessons if p.status == "generate"]
        plan.est_input_tokens = sum(estimate(p) for p in todo)
        plan.est_output_tokens = EST_OUTPUT_TOKENS * len(todo)
        price = price or {}
        plan.est_cost_usd = (plan.est_input_tokens * price.get("input", 0.0)
                             + plan.est_output_tokens * price.get("output", 0.0)) / 1e6
    return plan
