"""Drafting one lesson: build the request → backend → assemble → check (the version's life after that
is ``generator.versions``).

Each stage is a function that can be called and tested alone; library functions take objects
(library, settings, backend, store) and never read global state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from generator.drafting.backend import DraftRequest, DraftResult, LLMBackend, SourcePassage, uses_content_library
from generator.drafting.checks import CheckContext, CheckResult, run_checks
from generator.errors import NotFoundError
from generator.lesson import Lesson, Limits, Provenance, SourceCitation
from generator.schema import LANGS

if TYPE_CHECKING:
    from generator.config import Settings
    from generator.frameworks import Library


def build_request(lib: Library, framework: str, competence: str, level: int, group: str, lang: str,
                  passages: list[SourcePassage] | None = None) -> DraftRequest:
    """Resolve names into a DraftRequest; NotFoundError listing valid choices for anything unknown."""
    if lang not in LANGS:
        raise NotFoundError.unknown("language", lang, LANGS)
    fw = lib.framework(framework)
    comp = fw.competence(competence)
    fw.level(level)
    grp = lib.group(group)
    descriptors = fw.descriptors(competence, level)
    if not descriptors:
        raise NotFoundError(
            "{framework} {competence} has no descriptors at level {level} to build objectives on; "
            "use vn-dcf-2025 or digcomp-3.0",
            framework=framework, competence=competence, level=level,
        )
    return DraftRequest(fw, comp, level, grp, lang, descriptors, Limits.for_group(grp, lang), list(passages or []))


@dataclass
class Drafted:
    """A drafted lesson with its check results."""

    lesson: Lesson
    checks: list[CheckResult] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """True when every check passed."""
        return all(c.passed for c in self.checks)


def provenance_for(lib: Library, req: DraftRequest, result: DraftResult, sources_hash: str = "") -> Provenance:
    """Record what produced the draft."""
    fid, code = req.framework.id, req.competence.code
    content_hash = lib.content_hash(fid, code)
    verified = lib.content(fid, code).verified if content_hash and uses_content_library(result.backend) else None
    return Provenance(
        backend=result.backend,
        model=result.model,
        prompt_hash=result.prompt_hash,
        framework_hash=lib.competence_hash(fid, code),
        group_hash=lib.group_hash(req.group.id),
        content_hash=content_hash,
        content_verified=verified,
        sources_hash=sources_hash,
        retrieved=[p.id for p in req.passages],
        usage=result.usage,
        cost_usd=round(result.cost_usd, 6),
        attempts=result.attempts,
        notes=list(result.notes),
    )


def assemble(lib: Library, req: DraftRequest, result: DraftResult, sources_hash: str = "") -> Lesson:
    """Turn a backend result into a Lesson with identity, cited sources and provenance."""
    cited = set(result.draft.cited_source_ids())
    sources = [
        SourceCitation.model_validate(p.citation()) for p in req.passages if p.id in cited
    ]
    return Lesson.assemble(
        result.draft, framework=req.framework.id, competence=req.competence.code, level=req.level,
        group=req.group.id, language=req.lang, provenance=provenance_for(lib, req, result, sources_hash),
        sources=sources,
    )


def check_lesson(lesson: Lesson, lib: Library, settings: Settings) -> list[CheckResult]:
    """Run the quality checks against the lesson's framework, group and retrieved passages."""
    ctx = CheckContext(
        framework=lib.framework(lesson.framework),
        group=lib.group(lesson.group),
        link_allow=settings.link_allow,
        retrieved=lesson.provenance.retrieved,
    )
    return run_checks(lesson, ctx)


async def adraft_lesson(lib: Library, settings: Settings, backend: LLMBackend, req: DraftRequest,
                        sources_hash: str = "") -> Drafted:
    """Draft, assemble and check one lesson."""
    result = await backend.adraft(req)
    lesson = assemble(lib, req, result, sources_hash)
    return Drafted(lesson, checks_of(result, lesson, lib, settings))


def checks_of(result: DraftResult, lesson: Lesson, lib: Library, settings: Settings) -> list[CheckResult]:
    """The checks' results on a drafted lesson: those its backend already ran on the same draft, else
    ``check_lesson``'s (every check costs CPU a batch build's event loop needs for its calls)."""
    return list(result.checks) if result.checks is not None else check_lesson(lesson, lib, settings)
