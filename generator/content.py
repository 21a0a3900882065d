"""The offline content library: what a careful trainer wrote for each competence, per language.

One file per competence, ``frameworks/content/<framework>/<code>.yaml``. The offline drafter chooses
items by level, by the group (its family, its situations' tags, what its learners can see and hear) and
fits them to the group's limits. Nothing is copied whole from one group's lesson to another's: every
selectable item says which levels it suits (``levels``), which topics it is about (``tags``), which groups
it is written for (``for``: group ids or families; empty means anyone) and what it asks of the learner's
senses (``needs``: hearing, speech, sight).

The heart of a lesson is a **task**: one hands-on job done in a real app (its steps, each with a drawn
screen), the practice that follows it, and the quiz items, key points and mistakes that belong to it.
A group gets the task written for its family at that level; level 2 (4, 6, 8) gets the next task, so
it meets a new situation with fewer hints.

Vietnamese text addresses the learner as ``{you}`` (``{You}`` at the start of a sentence); the drafter
puts the group's own address form there ("ông bà", "bà con", "anh chị", "em", "bạn").
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from generator.schema import FAMILIES, Modality, Strict, Tag, TargetGroup
from generator.sketch import ScreenSketch

ALL_LEVELS = [1, 2, 3, 4, 5, 6, 7, 8]

#: Words a mistake must start with, so that on paper and in the narration it says what NOT to do.
NEGATIONS: dict[str, tuple[str, ...]] = {
    "vi": ("Đừng", "Không", "Chớ", "Tránh"),
    "en": ("Don't", "Do not", "Never", "Avoid", "Don’t"),
}

_AUDIENCE = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def _check_levels(v: list[int]) -> list[int]:
    if not v:
        raise ValueError("levels must name at least one level")
    bad = [n for n in v if not 1 <= n <= 8]
    if bad:
        raise ValueError(f"levels {bad} outside 1-8")
    return sorted(set(v))


class Targeted(Strict):
    """An item the drafter may choose: for some levels, topics, groups, and senses."""

    levels: list[int] = Field(min_length=1)
    tags: list[Tag] = Field(default_factory=list)
    for_: list[str] = Field(default_factory=list, alias="for")
    needs: list[Modality] = Field(default_factory=list)

    _v = field_validator("levels")(classmethod(lambda cls, v: _check_levels(v)))

    @field_validator("for_")
    @classmethod
    def _audience(cls, v: list[str]) -> list[str]:
        for a in v:
            if not _AUDIENCE.fullmatch(a):
                raise ValueError(f"'for' names a group id or a family ({', '.join(FAMILIES)}), got {a!r}")
        return v

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


class KeyPoint(Targeted):
    """One idea the learner should take away; ``objective`` names the objective it teaches."""

    text: str
    objective: str = ""


class ContentStep(Strict):
    """One action in a task, what the learner should see, and the screen it happens on."""

    action: str
    expect: str
    screen: ScreenSketch | None = None


class Practice(Strict):
    """A practice activity with its expected result."""

    task: str
    expected: str


class Attached(Strict):
    """Something that comes with a task; ``levels`` narrows it to some of the task's levels."""

    levels: list[int] = Field(default_factory=list)

    def suits(self, level: int) -> bool:
        """True when this item serves ``level`` (always, when it names no levels)."""
        return not self.levels or level in self.levels


class TaskQuiz(Attached):
    """A question that belongs to a task (its objective defaults to the task's)."""

    question: str
    options: list[str] = Field(min_length=3, max_length=4)
    answer: int
    explanation: str
    objective: str = ""

    @model_validator(mode="after")
    def _answer(self) -> TaskQuiz:
        if not 0 <= self.answer < len(self.options):
            raise ValueError(f"answer {self.answer} is not an option index (0-{len(self.options) - 1})")
        if len({o.casefold() for o in self.options}) != len(self.options):
            raise ValueError("options must be distinct")
        return self


class TaskPoint(Attached):
    """A key point that belongs to a task (its objective defaults to the task's)."""

    text: str
    objective: str = ""


class TaskTip(Attached):
    """A tip or mistake that belongs to a task."""

    kind: Literal["safety", "mistake", "access"] = "safety"
    text: str


class TaskExample(Attached):
    """A short story that belongs to a task."""

    text: str


class Task(Targeted):
    """A hands-on job in a real app — the heart of a lesson — with what comes with it when it is chosen:
    its steps in order, the practice that follows, and its own key points, quiz items, tips and story."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str = Field(description="What the learner does, e.g. 'Ẩn số điện thoại trên Zalo'")
    objective: str = Field(description="Key of the objective this task teaches")
    steps: list[ContentStep] = Field(min_length=3, max_length=7)
    practice: Practice
    transfer: Practice | None = Field(default=None, description="The next level's practice: the same skill "
                                      "in a new situation, with fewer hints")
    materials: list[str] = Field(default_factory=list, description="What the facilitator prepares")
    key_points: list[str | TaskPoint] = Field(default_factory=list)
    quiz: list[TaskQuiz] = Field(default_factory=list)
    tips: list[TaskTip] = Field(default_factory=list)
    examples: list[str | TaskExample] = Field(default_factory=list,
                                              description="Short stories of someone from this audience")

    def stories(self) -> list[TaskExample]:
        """The task's stories as TaskExample."""
        return [TaskExample(text=e) if isinstance(e, str) else e for e in self.examples]

    def points(self) -> list[TaskPoint]:
        """The task's key points with their objectives filled in."""
        out = []
        for p in self.key_points:
            p = TaskPoint(text=p) if isinstance(p, str) else p
            out.append(p if p.objective else p.model_copy(update={"objective": self.objective}))
        return out

    def questions(self) -> list[TaskQuiz]:
        """The task's quiz items with their objectives filled in."""
        return [q if q.objective else q.model_copy(update={"objective": self.objective}) for q in self.quiz]


class Example(Targeted):
    """A short story set in a situation; ``tags`` match group situations."""

    story: str


class Tip(Targeted):
    """A safety tip, a common mistake (written as what not to do) or an accessibility note."""

    kind: Literal["safety", "mistake", "access"] = "safety"
    text: str


class QuizItem(Targeted):
    """A multiple-choice question that checks one objective; distractors are real near-misses."""

    question: str
    options: list[str] = Field(min_length=3, max_length=4)
    answer: int
    explanation: str
    objective: str

    @model_validator(mode="after")
    def _answer(self) -> QuizItem:
        if not 0 <= self.answer < len(self.options):
            raise ValueError(f"answer {self.answer} is not an option index (0-{len(self.options) - 1})")
        if len({o.casefold() for o in self.options}) != len(self.options):
            raise ValueError("options must be distinct")
        return self


class GlossaryEntry(Strict):
    """A term with a plain-language definition."""

    term: str
    definition: str
    levels: list[int] = Field(default_factory=lambda: list(ALL_LEVELS))


class FacilitatorNotes(Targeted):
    """What a facilitator prepares and asks at these levels (the how-to is built from the lesson)."""

    materials: list[str] = Field(min_length=1)
    warm_up: str
    discussion: list[str] = Field(min_length=1)


class LanguageContent(Strict):
    """All content for one competence in one language."""

    titles: dict[int, str]
    summaries: dict[int, str]
    objectives: list[ContentObjective] = Field(min_length=2)
    key_points: list[KeyPoint] = Field(min_length=3)
    tasks: list[Task] = Field(min_length=1)
    examples: list[Example] = Field(min_length=3)
    tips: list[Tip] = Field(min_length=1)
    quiz: list[QuizItem] = Field(min_length=3)
    glossary: list[GlossaryEntry] = Field(min_length=2)
    facilitator: list[FacilitatorNotes] = Field(min_length=1)

    @model_validator(mode="after")
    def _references(self) -> LanguageContent:
        keys = {o.key for o in self.objectives}
        for q in self.quiz:
            if q.objective not in keys:
                raise ValueError(f"quiz question {q.question!r} checks unknown objective {q.objective!r}")
        for t in self.tasks:
            if t.objective not in keys:
                raise ValueError(f"task {t.id!r} teaches unknown objective {t.objective!r}")
            for o in [*(p.objective for p in t.points()), *(q.objective for q in t.questions())]:
                if o not in keys:
                    raise ValueError(f"task {t.id!r} refers to unknown objective {o!r}")
        for k in self.key_points:
            if k.objective and k.objective not in keys:
                raise ValueError(f"key point {k.text[:40]!r} teaches unknown objective {k.objective!r}")
        ids = [t.id for t in self.tasks]
        dup = {i for i in ids if ids.count(i) > 1}
        if dup:
            raise ValueError(f"task ids must be distinct: {sorted(dup)}")
        return self

    def text_for(self, table: dict[int, str], level: int) -> str:
        """Nearest entry of a per-level table at or below ``level``."""
        best = max((lv for lv in table if lv <= level), default=min(table))
        return table[best]


class SourceNote(Strict):
    """Where the facts of one topic come from."""

    topic: str
    title: str
    url: str = ""
    note: str = ""


class CompetenceContent(Strict):
    """The content library entry for one competence."""

    framework: str
    competence: str
    source: str
    licence: str
    verified: bool
    sources: list[SourceNote] = Field(default_factory=list)
    vi: LanguageContent
    en: LanguageContent

    @model_validator(mode="before")
    @classmethod
    def _upgrade(cls, data: Any) -> Any:
        """Read the first library format (top-level ``steps`` and ``practice``, mistakes written as the
        mistake itself) so a workspace's older content files keep working."""
        if isinstance(data, dict):
            data = dict(data)
            for lang in ("vi", "en"):
                if isinstance(data.get(lang), dict) and "tasks" not in data[lang] and "steps" in data[lang]:
                    data[lang] = _upgrade_language(data[lang], lang)
        return data

    @model_validator(mode="after")
    def _mistakes_say_dont(self) -> CompetenceContent:
        for lang in ("vi", "en"):
            lc = self.lang(lang)
            tips: list[Tip | TaskTip] = [*lc.tips, *(x for task in lc.tasks for x in task.tips)]
            for t in tips:
                if t.kind == "mistake" and not t.text.startswith(NEGATIONS[lang]):
                    raise ValueError(
                        f"{lang} mistake {t.text[:50]!r} must say what not to do: start it with "
                        f"{' / '.join(NEGATIONS[lang])}"
                    )
        return self

    def lang(self, lang: str) -> LanguageContent:
        """Content in ``lang``."""
        return self.vi if lang == "vi" else self.en


def _upgrade_language(data: dict[str, Any], lang: str) -> dict[str, Any]:
    """The first format's language block as tasks: each practice becomes a task with the steps of its
    levels; a mistake gets the words that say not to do it."""
    data = dict(data)
    steps, practice = data.pop("steps"), data.pop("practice", [])
    first = next((o.get("key") for o in data.get("objectives", []) if isinstance(o, dict)), "")
    tasks = []
    for i, p in enumerate(practice):
        lv = p.get("levels", [1, 2, 3, 4])
        mine = [{k: s[k] for k in ("action", "expect") if k in s}
                for s in steps if set(s.get("levels", [1, 2, 3, 4])) & set(lv)][:7]
        tasks.append({"id": f"task-{i + 1}", "title": p.get("task", "")[:60], "objective": first, "levels": lv,
                      "steps": mine, "practice": {"task": p.get("task", ""), "expected": p.get("expected", "")}})
    data["tasks"] = tasks
    for name in ("key_points", "examples", "tips", "quiz"):
        data[name] = [dict({"levels": [1, 2, 3, 4]}, **x) if isinstance(x, dict) else x
                      for x in data.get(name, [])]
    for t in data["tips"]:
        text = str(t.get("text", "")) if isinstance(t, dict) else ""
        if isinstance(t, dict) and t.get("kind") == "mistake" and not text.startswith(NEGATIONS[lang]):
            t["text"] = ("Đừng " + text[:1].lower() + text[1:]) if lang == "vi" else "Avoid this: " + text
    fac = data.get("facilitator")
    if isinstance(fac, dict):
        data["facilitator"] = [dict({"levels": list(ALL_LEVELS)}, **fac)]
    return data


#: Where "bạn" is not the learner's address form ("bạn bè", "kết bạn" …): the content writes ``{you}``
#: for the learner, and these stay as they are.
BAN_COMPOUNDS = ("bạn bè", "kết bạn", "người bạn", "bạn học", "bạn cùng", "bạn thân", "bạn của", "bạn trai",
                 "bạn gái", "bạn hàng", "bạn đọc", "bạn nhỏ", "bạn đời", "bè bạn", "Bạn có thể biết")
_BAN = re.compile(r"(?<!\w)bạn(?!\w)", re.I)
_SENT = re.compile(r"(?<=[.!?…])\s+|(?<=[.!?…][”’\"»)])\s+|\n+")


def raw_address(text: str) -> bool:
    """True when Vietnamese ``text`` calls the learner "bạn" instead of ``{you}``."""
    for c in BAN_COMPOUNDS:
        text = re.sub(re.escape(c), " ", text, flags=re.I)
    return bool(_BAN.search(text))


def _texts(lc: LanguageContent) -> list[tuple[str, Targeted | None, str]]:
    """(text, the item it belongs to, where) for every learner-facing text of a language block."""
    out: list[tuple[str, Targeted | None, str]] = []
    for t in lc.tasks:
        where = f"task {t.id}"
        out += [(t.title, t, where), (t.practice.task, t, where), (t.practice.expected, t, where)]
        out += [(x, t, where) for s in t.steps for x in (s.action, s.expect)]
        out += [(p.text, t, where) for p in t.points()] + [(x.text, t, where) for x in t.tips]
        out += [(x, t, where) for q in t.quiz for x in (q.question, *q.options, q.explanation)]
        out += [(e.text, t, where) for e in t.stories()]
        if t.transfer:
            out += [(t.transfer.task, t, where), (t.transfer.expected, t, where)]
    out += [(k.text, k, "key point") for k in lc.key_points] + [(e.story, e, "example") for e in lc.examples]
    out += [(x.text, x, "tip") for x in lc.tips]
    out += [(x, q, "quiz") for q in lc.quiz for x in (q.question, *q.options, q.explanation)]
    out += [(g.definition, None, f"glossary {g.term}") for g in lc.glossary]
    out += [(x, f, "facilitator") for f in lc.facilitator for x in (f.warm_up, *f.discussion)]
    return out


def _groups_for(item: Targeted | None, groups: list[TargetGroup]) -> list[TargetGroup]:
    if item is None or not item.for_:
        return groups
    return [g for g in groups if set(item.for_) & set(g.audiences())] or groups


def content_problems(entry: CompetenceContent, letters: dict[int, set[str]],
                     groups: list[TargetGroup]) -> list[str]:
    """What stops ``entry`` from serving every level 1-8 and every group (``letters``: the framework's
    descriptor letters per level)."""
    problems: list[str] = []
    code = entry.competence
    audiences = set(FAMILIES) | {g.id for g in groups}
    for lang in ("vi", "en"):
        lc = entry.lang(lang)
        for lvl in range(1, 9):
            where = f"{code} {lang} L{lvl}"
            if not letters.get(lvl):
                continue
            objs = [o for o in lc.objectives if lvl in o.descriptors]
            for o in objs:
                bad = [x for x in o.descriptors[lvl] if x not in letters[lvl]]
                if bad:
                    problems.append(f"{where}: objective {o.key} cites {bad}, the level has {sorted(letters[lvl])}")
            tasks = [t for t in lc.tasks if t.suits(lvl)]
            points = [(p.objective, p.text) for t in tasks for p in t.points() if p.suits(lvl)]
            points += [(k.objective, k.text) for k in lc.key_points if k.suits(lvl)]
            taught = {t.objective for t in tasks} | {o for o, _ in points if o}
            teachable = [o for o in objs if o.key in taught]
            if len(teachable) < 2:
                problems.append(f"{where}: needs 2 objectives that a task or key point teaches, has "
                                f"{[o.key for o in teachable]}")
            quizzed = {q.objective for q in lc.quiz if q.suits(lvl)} | {q.objective for t in tasks
                                                                      for q in t.questions() if q.suits(lvl)}
            for o in teachable:
                if o.key not in quizzed:
                    problems.append(f"{where}: no quiz question checks objective {o.key}")
            if len(tasks) < 2:
                problems.append(f"{where}: needs 2 tasks (level {lvl} and the next level each get their own), "
                                f"has {len(tasks)}")
            counts = {"key points": len(points), "examples": sum(e.suits(lvl) for e in lc.examples)
                      + sum(len(t.examples) for t in tasks),
                      "tips": sum(x.suits(lvl) for x in lc.tips) + sum(len(t.tips) for t in tasks),
                      "facilitator notes": sum(f.suits(lvl) for f in lc.facilitator),
                      "glossary terms": sum(lvl in g.levels for g in lc.glossary)}
            for name, need in (("key points", 3), ("examples", 1), ("tips", 1), ("facilitator notes", 1),
                               ("glossary terms", 2)):
                if counts[name] < need:
                    problems.append(f"{where}: {name}: has {counts[name]}, needs {need}")
            for name, table in (("title", lc.titles), ("summary", lc.summaries)):
                if lvl not in table:
                    problems.append(f"{where}: no {name} of its own (every level has one)")
        for text, item, where in _texts(lc):
            if lang == "vi" and raw_address(text):
                problems.append(f"{code} vi {where}: write {{you}} where the learner is addressed: {text[:70]!r}")
            if item is not None:
                unknown = [a for a in item.for_ if a not in audiences]
                if unknown:
                    problems.append(f"{code} {lang} {where}: 'for' names unknown groups or families {unknown}")
                limit = min(g.reading.max_words_per_sentence[lang] for g in _groups_for(item, groups))  # type: ignore[index]
                for sent in _SENT.split(text.replace("{you}", "x").replace("{You}", "X")):
                    if len(sent.split()) > limit:
                        problems.append(f"{code} {lang} {where}: sentence of {len(sent.split())} words "
                                        f"(limit {limit} for its groups): {sent[:60]!r}")
    return problems


BANDS = ((1, 2), (3, 4), (5, 6), (7, 8))


def coverage(entry: CompetenceContent, lang: str) -> dict[tuple[int, int], dict[str, list[str]]]:
    """For each band of levels, the tasks written for each family or group id ('*' for anyone)."""
    out: dict[tuple[int, int], dict[str, list[str]]] = {}
    for band in BANDS:
        row: dict[str, list[str]] = {}
        for t in entry.lang(lang).tasks:
            if set(t.levels) & set(band):
                for a in t.for_ or ["*"]:
                    row.setdefault(a, []).append(t.id)
        out[band] = row
    return out
