"""The lesson model: what a backend drafts, what reviewers approve, what renderers render.

``LessonDraft`` is the part a model writes (its JSON schema is the structured-output schema);
``Lesson`` adds identity, cited sources and provenance. Group limits are enforced by a validator that
reads them from the validation context: ``LessonDraft.model_validate(data, context=limits.context())``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator

from generator.i18n import Joined, Message, MessageValueError
from generator.schema import Lang, TargetGroup
from generator.sketch import ScreenSketch

SECTIONS = (
    "title", "summary", "objectives", "key_points", "steps", "example", "tips", "practice", "quiz",
    "glossary", "facilitator", "narration",
)
Section = Literal[
    "title", "summary", "objectives", "key_points", "steps", "example", "tips", "practice", "quiz",
    "glossary", "facilitator", "narration",
]

#: The narration may be this much longer than the lesson's word limit: it also tells the story and, for
#: groups who learn by listening, the quiz with its answers.
NARRATION_SHARE = 1.5

#: A narration line that is only this is a pause (the audio leaves a silence; captions skip it).
PAUSE = "…"

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|(?<=[.!?…][”’\"»)])\s+|\n+")


def count_words(text: str) -> int:
    """Words as space-separated tokens (a Vietnamese syllable counts as one)."""
    return len(text.split())


def sentences(text: str) -> list[str]:
    """Split ``text`` into sentences at . ! ? … and line breaks."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


class Part(BaseModel):
    """Base for lesson parts: unknown fields refused, whitespace stripped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Objective(Part):
    """What the learner will be able to do, citing the level descriptors it serves."""

    id: str = Field(description="Short id such as 'O1'")
    text: str
    descriptors: list[str] = Field(min_length=1, description="Descriptor ids, e.g. '4.2-L1-a'")


class KeyPoint(Part):
    """One idea to take away."""

    text: str
    sources: list[str] = Field(default_factory=list, description="Ids of source passages used")


class Step(Part):
    """A hands-on step and what the learner should see."""

    action: str
    expect: str = Field(description="What the learner should see after doing it")
    sources: list[str] = Field(default_factory=list, description="Ids of source passages used")
    screen: ScreenSketch | None = Field(default=None, description="The phone screen at this step, drawn "
                                        "with the control to tap ringed in red")


class Tip(Part):
    """A safety tip, a common mistake (said as what not to do), or an accessibility note."""

    kind: Literal["safety", "mistake", "access"] = "safety"
    text: str


class Practice(Part):
    """A practice activity and its expected result."""

    task: str
    expected: str


class QuizQuestion(Part):
    """A multiple-choice question with exactly one correct option."""

    question: str
    options: list[str] = Field(min_length=3, max_length=4)
    answer: int = Field(ge=0, le=3, description="0-based index of the one correct option")
    explanation: str
    objective: str = Field(description="Id of the objective this question checks")

    @model_validator(mode="after")
    def _answer_in_range(self) -> QuizQuestion:
        if self.answer >= len(self.options):
            raise ValueError(f"answer {self.answer} is not one of the {len(self.options)} options")
        return self


class GlossaryEntry(Part):
    """A term and its plain-language definition."""

    term: str
    definition: str


class Facilitator(Part):
    """Notes for whoever runs the session."""

    duration_minutes: int = Field(ge=5, le=180)
    materials: list[str] = Field(min_length=1)
    how_to_run: str
    warm_up: str = ""
    discussion: list[str] = Field(default_factory=list)


@dataclass(frozen=True)
class Limits:
    """A group's reading limits for one language."""

    max_words: int
    max_sentence_words: int

    @classmethod
    def for_group(cls, group: TargetGroup, lang: str) -> Limits:
        """The limits ``group`` sets for ``lang``."""
        r = group.reading
        return cls(r.max_words_per_lesson[lang], r.max_words_per_sentence[lang])  # type: ignore[index]

    def context(self) -> dict[str, Any]:
        """Validation context that makes ``LessonDraft`` enforce these limits."""
        return {"limits": self}


class LessonDraft(Part):
    """The lesson content a backend writes."""

    title: str = Field(min_length=3)
    summary: str = Field(description="One sentence")
    objectives: list[Objective] = Field(min_length=2, max_length=4)
    key_points: list[KeyPoint] = Field(min_length=3, max_length=5)
    steps: list[Step] = Field(min_length=3, max_length=7)
    example: str = Field(description="A short story set in one of the group's situations")
    tips: list[Tip] = Field(default_factory=list, max_length=6)
    practice: Practice
    quiz: list[QuizQuestion] = Field(min_length=3, max_length=5)
    glossary: list[GlossaryEntry] = Field(default_factory=list, max_length=10)
    facilitator: Facilitator
    narration: str = Field(description="A script written for the ear, read aloud as the audio")

    def learner_texts(self) -> list[str]:
        """The learner-facing body, counted against the lesson word limit."""
        out = [self.title, self.summary, *(o.text for o in self.objectives), *(k.text for k in self.key_points)]
        for s in self.steps:
            out += [s.action, s.expect]
        out += [self.example, *(t.text for t in self.tips), self.practice.task, self.practice.expected]
        return out

    def sentence_texts(self) -> list[str]:
        """Every text a learner reads or hears, checked against the sentence limit."""
        out = self.learner_texts()[1:]  # a title is not a sentence
        for q in self.quiz:
            out += [q.question, q.explanation]
        out += [g.definition for g in self.glossary]
        out.append(self.narration)
        return out

    def all_texts(self) -> list[str]:
        """Every string in the lesson body."""
        out = self.learner_texts()
        for q in self.quiz:
            out += [q.question, *q.options, q.explanation]
        out += [f"{g.term}: {g.definition}" for g in self.glossary]
        f = self.facilitator
        out += [*f.materials, f.how_to_run, f.warm_up, *f.discussion, self.narration]
        return [t for t in out if t]

    def word_count(self) -> int:
        """Words in the learner-facing body."""
        return sum(count_words(t) for t in self.learner_texts())

    def limit_problems(self, limits: Limits) -> list[str]:
        """Ways this lesson breaks ``limits`` (empty when it fits), in English."""
        return [m.english for m in self.limit_messages(limits)]

    def limit_messages(self, limits: Limits) -> list[Message]:
        """Ways this lesson breaks ``limits``, as messages to show in the reader's language."""
        problems = []
        total = self.word_count()
        if total > limits.max_words:
            problems.append(Message("lesson has {n} words; the group's limit is {limit}", n=total,
                                    limit=limits.max_words))
        narr, most = count_words(self.narration), int(limits.max_words * NARRATION_SHARE)
        if narr > most:
            problems.append(Message("narration has {n} words; the group's limit is {limit} ({share:g} × the "
                                    "lesson's, as it also tells the story and the quiz)", n=narr, limit=most,
                                    share=NARRATION_SHARE))
        for text in self.sentence_texts():
            for s in sentences(text):
                n = count_words(s)
                if n > limits.max_sentence_words:
                    problems.append(Message("sentence of {n} words (limit {limit}): {sentence!r}", n=n,
                                            limit=limits.max_sentence_words, sentence=s[:80]))
        return problems

    @model_validator(mode="after")
    def _structure(self, info: ValidationInfo) -> LessonDraft:
        ids = [o.id for o in self.objectives]
        if len(set(ids)) != len(ids):
            raise ValueError(f"objective ids must be distinct: {ids}")
        for q in self.quiz:
            if q.objective not in ids:
                raise ValueError(f"quiz question {q.question[:40]!r} checks unknown objective {q.objective!r}")
        limits = (info.context or {}).get("limits") if info else None
        if isinstance(limits, Limits):
            problems = self.limit_messages(limits)
            if problems:
                raise MessageValueError(Joined(problems[:5]))
        return self

    def cited_source_ids(self) -> list[str]:
        """Every passage id the key points and steps cite."""
        ids: list[str] = []
        for sources in [*(k.sources for k in self.key_points), *(s.sources for s in self.steps)]:
            ids.extend(i for i in sources if i not in ids)
        return ids

    def draft_part(self) -> dict[str, Any]:
        """Only the drafted fields, as JSON-ready data."""
        return self.model_dump(mode="json", include=set(SECTIONS))


class SourceCitation(Part):
    """A passage from the editor's source library that the lesson cites."""

    id: str
    title: str = ""
    file: str = ""
    page: int | None = None
    text: str = ""
    section: str = ""
    page_label: str = ""  # the page number printed on the page, when it differs from ``page``

    def where(self) -> str:
        """'2 Scam calls, p. 76': the passage's section and printed page, as far as known."""
        label = self.page_label or (str(self.page) if self.page else "")
        return ", ".join(x for x in (self.section, f"p. {label}" if label else "") if x)


class Usage(Part):
    """Token usage summed over the calls that made a lesson."""

    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        """Input plus output tokens."""
        return self.input_tokens + self.output_tokens

    def add(self, other: Usage) -> Usage:
        """The sum of two usages."""
        return Usage(
            calls=self.calls + other.calls,
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
        )


class Provenance(Part):
    """What produced this lesson, so a reviewer and a rebuild can trust it."""

    backend: str
    model: str
    prompt_hash: str
    framework_hash: str
    group_hash: str
    content_hash: str = ""
    content_verified: bool | None = Field(default=None, description="Whether the offline content was "
                                          "verified by a person when the lesson was drafted (None: no content)")
    sources_hash: str = ""
    retrieved: list[str] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    cost_usd: float = 0.0
    attempts: int = 1
    cache_key: str = ""
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    notes: list[str] = Field(default_factory=list)


def lesson_id(framework: str, competence: str, level: int, group: str, lang: str) -> str:
    """Stable id, e.g. ``vn-dcf-2025.4.2.L1.elderly.vi``."""
    return f"{framework}.{competence}.L{level}.{group}.{lang}"


class Lesson(LessonDraft):
    """A drafted lesson with its identity, sources and provenance."""

    id: str
    framework: str
    competence: str
    level: int = Field(ge=1, le=8)
    group: str
    language: Lang
    sources: list[SourceCitation] = Field(default_factory=list)
    provenance: Provenance

    @model_validator(mode="after")
    def _id_matches(self) -> Lesson:
        expected = lesson_id(self.framework, self.competence, self.level, self.group, self.language)
        if self.id != expected:
            raise ValueError(f"lesson id {self.id!r} does not match its fields ({expected!r})")
        return self

    @classmethod
    def assemble(
        cls,
        draft: LessonDraft,
        *,
        framework: str,
        competence: str,
        level: int,
        group: str,
        language: str,
        provenance: Provenance,
        sources: list[SourceCitation] | None = None,
    ) -> Lesson:
        """Combine a draft with its identity, sources and provenance."""
        return cls.model_validate(
            {
                **draft.draft_part(),
                "id": lesson_id(framework, competence, level, group, language),
                "framework": framework,
                "competence": competence,
                "level": level,
                "group": group,
                "language": language,
                "sources": [s.model_dump() for s in sources or []],
                "provenance": provenance.model_dump(),
            }
        )
