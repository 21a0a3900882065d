"""The offline drafter: composes a lesson from the content library, no model at all.

It selects items by level, picks the example that best matches the group's situations, quotes
retrieved passages in the lesson language (citing their ids), writes a narration for the ear, and trims
optional items until the lesson fits the group's limits.
"""

from __future__ import annotations

import hashlib
import inspect
from typing import TYPE_CHECKING, Any

from generator.drafting.backend import (
    DraftRequest,
    DraftResult,
    RevisionRequest,
    SourcePassage,
    register_backend,
)
from generator.drafting.content import CompetenceContent, Example, LanguageContent
from generator.errors import BackendError, NotFoundError
from generator.lesson import LessonDraft, Limits, count_words, sentences

if TYPE_CHECKING:
    from generator.config import Settings
    from generator.frameworks import Library

MAX_CONTENT_LEVEL = 4

SPOKEN: dict[str, dict[str, Any]] = {
    "vi": {
        "hello": "Xin chào bạn.",
        "today": "Bài học hôm nay: {title}.",
        "points": "Có {n} điều cần nhớ.",
        "ordinals": ["Thứ nhất", "Thứ hai", "Thứ ba", "Thứ tư", "Thứ năm"],
        "steps": "Bây giờ, mình cùng làm từng bước.",
        "step": "Bước {n}.",
        "remember": "Hãy nhớ.",
        "bye": "Bạn đã học xong bài này. Hãy thực hành lại nhiều lần nhé.",
        "from_source": "Theo tài liệu {title}",
    },
    "en": {
        "hello": "Hello.",
        "today": "Today's lesson: {title}.",
        "points": "There are {n} things to remember.",
        "ordinals": ["First", "Second", "Third", "Fourth", "Fifth"],
        "steps": "Now let's do it step by step.",
        "step": "Step {n}.",
        "remember": "Remember.",
        "bye": "You have finished this lesson. Practise it again a few times.",
        "from_source": "According to {title}",
    },
}


def _composer_hash() -> str:
    """Identifies the composition logic, recorded as the 'prompt' hash of offline drafts."""
    import generator.drafting.offline as me

    return "offline-" + hashlib.sha256(inspect.getsource(me).encode()).hexdigest()[:12]


def rank_examples(examples: list[Example], group_tags: list[str], level: int) -> list[Example]:
    """Examples for ``level``, best match with the group's situations first (earlier situations weigh
    more; equals keep their order in the file)."""
    weights = {tag: len(group_tags) - i for i, tag in enumerate(group_tags)}
    usable = [e for e in examples if level in e.levels] or examples
    return sorted(usable, key=lambda e: -sum(weights.get(t, 0) for t in e.tags))


def pick_example(examples: list[Example], group_tags: list[str], level: int) -> Example:
    """The example whose tags best match the group's situations."""
    return rank_examples(examples, group_tags, level)[0]


def _passage_sentence(p: SourcePassage, limit: int) -> str | None:
    """The first body sentence of a passage (headings skipped) that fits the sentence limit."""
    body = " ".join(line.strip() for line in p.text.splitlines() if line.strip() and not line.lstrip().startswith("#"))
    return next((s for s in sentences(body) if 6 <= count_words(s) <= limit and s[-1] in ".!?…"), None)


def _passages_in(lang: str, passages: list[SourcePassage]) -> list[SourcePassage]:
    from generator.drafting.language import detect_language

    return [p for p in passages if detect_language(p.text) == lang]


def compose(entry: LanguageContent, req: DraftRequest) -> dict[str, Any]:
    """Select and adapt content items into lesson data (before trimming)."""
    level, code = req.level, req.competence.code
    lvl = min(level, MAX_CONTENT_LEVEL)
    objs = [o for o in entry.objectives if lvl in o.descriptors][:4]
    objectives = [
        {"id": f"O{i + 1}", "text": o.wording(lvl),
         "descriptors": [f"{code}-L{level}-{x}" for x in o.descriptors[lvl]]}
        for i, o in enumerate(objs)
    ]
    obj_id = {o.key: f"O{i + 1}" for i, o in enumerate(objs)}

    key_points = [{"text": k.text, "sources": []} for k in entry.key_points if k.suits(lvl)][:5]
    steps = [{"action": s.action, "expect": s.expect, "sources": []} for s in entry.steps if s.suits(lvl)][:7]
    # Facts from the editor's sources, quoted in the lesson language and cited by id.
    quoted: list[dict[str, Any]] = []
    for p in _passages_in(req.lang, req.passages):
        sentence = _passage_sentence(p, req.limits.max_sentence_words)
        if sentence and len(quoted) < 2:
            quoted.append({"text": sentence, "sources": [p.id]})
    key_points = quoted + key_points
    key_points = key_points[:5]

    # The first common mistake (when there is one), then the safety tips: three at most.
    suiting = [t for t in entry.tips if t.suits(lvl)]
    mistakes = [t for t in suiting if t.kind == "mistake"][:1]
    tips = (mistakes + [t for t in suiting if t.kind != "mistake"])[:3]

    quiz: list[dict[str, Any]] = []
    pool = [q for q in entry.quiz if q.suits(lvl) and q.objective in obj_id]
    for key in obj_id:  # every objective checked at least once
        q = next((q for q in pool if q.objective == key), None)
        if q is not None:
            quiz.append(_quiz(q, obj_id))
            pool.remove(q)
    for q in pool:
        if len(quiz) >= 4:
            break
        quiz.append(_quiz(q, obj_id))

    example = pick_example(entry.examples, req.group.tags, lvl)
    practice = next(p for p in entry.practice if p.suits(lvl))
    fac = entry.facilitator
    return {
        "title": entry.text_for(entry.titles, lvl),
        "summary": entry.text_for(entry.summaries, lvl),
        "objectives": objectives,
        "key_points": key_points,
        "steps": steps,
        "example": example.story,
        "tips": [{"kind": "mistake" if t.kind == "mistake" else "safety", "text": t.text} for t in tips],
        "practice": {"task": practice.task, "expected": practice.expected},
        "quiz": quiz,
        "glossary": [g.model_dump() for g in entry.glossary][:6],
        "facilitator": {
            "duration_minutes": req.group.session_minutes,
            "materials": list(fac.materials),
            "how_to_run": req.group.facilitation.get(req.lang),
            "warm_up": fac.warm_up,
            "discussion": list(fac.discussion),
        },
    }


def _quiz(q: Any, obj_id: dict[str, str]) -> dict[str, Any]:
    return {"question": q.question, "options": list(q.options), "answer": q.answer,
            "explanation": q.explanation, "objective": obj_id[q.objective]}


def narrate(data: dict[str, Any], lang: str) -> str:
    """A script for the ear: greeting, summary, the key points with spoken ordinals, the steps, a tip."""
    say = SPOKEN[lang]
    parts = [say["hello"], say["today"].format(title=data["title"].rstrip(".")), data["summary"]]
    points = data["key_points"]
    parts.append(say["points"].format(n=len(points)))
    for i, k in enumerate(points):
        parts.append(f"{say['ordinals'][i]}. {k['text']}")
    parts.append(say["steps"])
    for i, s in enumerate(data["steps"]):
        parts.append(f"{say['step'].format(n=i + 1)} {s['action']} {s['expect']}")
    if data["tips"]:
        parts.append(f"{say['remember']} {data['tips'][0]['text']}")
    parts.append(say["bye"])
    return " ".join(p.strip() for p in parts if p.strip())


def fit(data: dict[str, Any], lang: str, limits: Limits) -> LessonDraft:
    """Drop optional items until the lesson and its narration fit the limits."""
    trims = [("tips", 1), ("key_points", 4), ("steps", 5), ("key_points", 3), ("steps", 4),
             ("tips", 0), ("steps", 3), ("quiz", 3)]
    while True:
        data["narration"] = narrate(data, lang)
        draft = LessonDraft.model_validate(data)
        if not draft.limit_problems(limits):
            return draft
        for name, keep in trims:
            if len(data[name]) > keep and not (name == "quiz" and not _quiz_droppable(data)):
                data[name] = data[name][:-1] if name != "key_points" else _drop_point(data[name])
                break
        else:
            raise BackendError(
                "the offline content does not fit this group's limits even at its shortest: "
                + "; ".join(draft.limit_problems(limits)[:3])
                + "; shorten the content file or raise the group's limits"
            )


def _drop_point(points: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # Keep cited source facts; drop the last plain point.
    for i in range(len(points) - 1, -1, -1):
        if not points[i]["sources"]:
            return points[:i] + points[i + 1:]
    return points[:-1]


def _quiz_droppable(data: dict[str, Any]) -> bool:
    last = data["quiz"][-1]["objective"]
    return sum(q["objective"] == last for q in data["quiz"]) > 1


class OfflineBackend:
    """Composes lessons from ``frameworks/content/<framework>/<code>.yaml``."""

    name = "offline"

    def __init__(self, library: Library) -> None:
        self.library = library
        self.model = "content-library"

    def _entry(self, req: DraftRequest) -> CompetenceContent:
        fid, code = req.framework.id, req.competence.code
        if not self.library.content_codes(fid):
            for other in self.library.frameworks:
                eq = self.library.equivalent(fid, code, other)
                if eq and eq in self.library.content_codes(other):
                    raise NotFoundError(
                        f"the offline drafter has content for {other} only; draft {other} {eq} instead "
                        f"(the same competence), or use --backend openai"
                    )
        if req.level > MAX_CONTENT_LEVEL:
            raise NotFoundError(
                f"the offline content library covers levels 1-{MAX_CONTENT_LEVEL}; "
                f"for level {req.level} use --backend openai"
            )
        return self.library.content(fid, code)  # type: ignore[no-any-return]

    async def adraft(self, request: DraftRequest) -> DraftResult:
        """Compose a lesson for ``request``."""
        entry = self._entry(request).lang(request.lang)
        draft = fit(compose(entry, request), request.lang, request.limits)
        return DraftResult(draft=draft, backend=self.name, model=self.model, prompt_hash=_composer_hash())

    async def arevise(self, request: RevisionRequest) -> DraftResult:
        """Recompose the asked section from the library — for the example and the practice, the next
        alternative the library offers; free-text comments cannot be applied without a model."""
        req = request.request
        entry = self._entry(req).lang(req.lang)
        fresh = fit(compose(entry, req), req.lang, req.limits)
        data = request.lesson.draft_part()
        section = request.section
        if section == "all":
            data = fresh.draft_part()
        else:
            data[section] = fresh.draft_part()[section]
        if section in ("example", "practice"):
            level = min(req.level, MAX_CONTENT_LEVEL)
            options: list[Any] = (
                [e.story for e in rank_examples(entry.examples, req.group.tags, level)] if section == "example"
                else [{"task": p.task, "expected": p.expected} for p in entry.practice if p.suits(level)]
            )
            for option in options:
                if option != request.lesson.draft_part()[section]:
                    candidate = dict(data, **{section: option})
                    if not LessonDraft.model_validate(candidate).limit_problems(req.limits):
                        data = candidate
                        break
        draft = LessonDraft.model_validate(data, context=req.limits.context())
        changed = draft.draft_part()[section] != request.lesson.draft_part()[section] if section != "all" else True
        what = "took another" if section in ("example", "practice") and changed else "recomposed"
        note = (
            f"offline backend: {what} '{section}' from the content library"
            + ("" if changed else " (the library has no other version of it)")
            + f"; it cannot apply free-text comments ({len(request.comments)} open) — edit the lesson to apply them"
        )
        return DraftResult(draft=draft, backend=self.name, model=self.model, prompt_hash=_composer_hash(),
                           notes=[note])


@register_backend("offline")
def _make(settings: Settings, library: Library, model: str | None) -> OfflineBackend:
    return OfflineBackend(library)
