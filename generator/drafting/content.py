"""The offline content library: what a careful teacher wrote for each competence, per language.

One file per competence, ``frameworks/content/<framework>/<code>.yaml``. The offline drafter selects
and adapts these items by level, by the group's situations (through tags) and by the group's limits.
Items carry ``levels``: the levels (1-4) they suit.
"""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from generator.schema import Strict, Tag

LevelSet = list[int]


def _check_levels(v: list[int]) -> list[int]:
    if not v:
        raise ValueError("levels must name at least one level")
    bad = [n for n in v if not 1 <= n <= 8]
    if bad:
        raise ValueError(f"levels {bad} outside 1-8")
    return v


class Leveled(Strict):
    """An item that suits some levels."""

    levels: LevelSet = Field(default_factory=lambda: [1, 2, 3, 4])

    _v = field_validator("levels")(classmethod(lambda cls, v: _check_levels(v)))

    def suits(self, level: int) -> bool:
        """True when this item suits ``level``."""
        return level in self.levels


class ContentObjective(Strict):
    """An objective and the descriptor letters it serves at each level it suits."""

    key: str
    text: dict[int, str]  # level -> wording; a level uses the nearest defined level at or below it
    descriptors: dict[int, list[str]]  # level -> descriptor letters ('a', 'b', ...)

    def wording(self, level: int) -> str:
        """The objective's wording for ``level``."""
        best = max((lv for lv in self.text if lv <= level), default=min(self.text))
        return self.text[best]

    @model_validator(mode="after")
    def _letters(self) -> ContentObjective:
        for lvl, letters in self.descriptors.items():
            if not letters or any(len(x) != 1 or not x.isalpha() for x in letters):
                raise ValueError(f"objective {self.key!r} level {lvl}: descriptors must be letters")
        return self


class KeyPoint(Leveled):
    """One idea the learner should take away."""

    text: str


class Step(Leveled):
    """A hands-on step and what the learner should see."""

    action: str
    expect: str


class Example(Strict):
    """A short story set in a situation; ``tags`` match group situations."""

    tags: list[Tag] = Field(min_length=1)
    story: str
    levels: LevelSet = Field(default_factory=lambda: [1, 2, 3, 4])


class Tip(Leveled):
    """A safety tip or a common mistake."""

    kind: str = "safety"  # safety | mistake
    text: str


class Practice(Leveled):
    """A practice activity with its expected result."""

    task: str
    expected: str


class QuizItem(Leveled):
    """A multiple-choice question that checks one objective."""

    question: str
    options: list[str] = Field(min_length=3, max_length=4)
    answer: int
    explanation: str
    objective: str

    @model_validator(mode="after")
    def _answer(self) -> QuizItem:
        if not 0 <= self.answer < len(self.options):
            raise ValueError(f"answer {self.answer} is not an option index (0-{len(self.options) - 1})")
        if len(set(self.options)) != len(self.options):
            raise ValueError("options must be distinct")
        return self


class GlossaryEntry(Strict):
    """A term with a plain-language definition."""

    term: str
    definition: str


class Facilitator(Strict):
    """What a facilitator needs beyond the group profile."""

    materials: list[str] = Field(min_length=1)
    warm_up: str
    discussion: list[str] = Field(min_length=1)


class LanguageContent(Strict):
    """All content for one competence in one language."""

    titles: dict[int, str]
    summaries: dict[int, str]
    objectives: list[ContentObjective] = Field(min_length=2)
    key_points: list[KeyPoint] = Field(min_length=3)
    steps: list[Step] = Field(min_length=3)
    examples: list[Example] = Field(min_length=3)
    tips: list[Tip] = Field(min_length=1)
    practice: list[Practice] = Field(min_length=1)
    quiz: list[QuizItem] = Field(min_length=3)
    glossary: list[GlossaryEntry] = Field(min_length=2)
    facilitator: Facilitator

    @model_validator(mode="after")
    def _quiz_objectives(self) -> LanguageContent:
        keys = {o.key for o in self.objectives}
        for q in self.quiz:
            if q.objective not in keys:
                raise ValueError(f"quiz question {q.question!r} checks unknown objective {q.objective!r}")
        return self

    def text_for(self, table: dict[int, str], level: int) -> str:
        """Nearest entry of a per-level table at or below ``level``."""
        best = max((lv for lv in table if lv <= level), default=min(table))
        return table[best]


class CompetenceContent(Strict):
    """The content library entry for one competence."""

    framework: str
    competence: str
    source: str
    licence: str
    verified: bool
    vi: LanguageContent
    en: LanguageContent

    def lang(self, lang: str) -> LanguageContent:
        """Content in ``lang``."""
        return self.vi if lang == "vi" else self.en
