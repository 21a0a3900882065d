"""Compose a lesson from the content library for one group, level and language — as a trainer would.

A trainer starts from the learners: which of the library's tasks is written for this group (its id or
family) and speaks to its situations (tags), leaving out anything its learners cannot hear, say or see;
then the key points, quiz, tips and story that come with that task, and from the band's pools whatever
teaches and checks the remaining objectives. Every text is addressed the way the group is addressed
(``{you}`` → "ông bà", "em", …). Level 2 (4, 6, 8) takes the same task with its transfer practice: the
same skill in a new situation with fewer hints.

``compose`` returns lesson data (before fitting to the limits); ``narrate`` writes the script for the ear;
``fit`` trims optional items until the lesson fits the group's limits.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import ValidationError

from generator.drafting.content import (
    ContentObjective,
    LanguageContent,
    QuizItem,
    Targeted,
    Task,
    TaskQuiz,
    TaskTip,
    Tip,
)
from generator.errors import BackendError
from generator.lesson import PAUSE, LessonDraft, Limits, count_words, sentences

if TYPE_CHECKING:
    from generator.drafting.backend import DraftRequest, SourcePassage
    from generator.schema import TargetGroup

T = TypeVar("T", bound=Targeted)

#: What the narration says between the lesson's parts, per language; {we} and {you} come from the group.
SPOKEN: dict[str, dict[str, Any]] = {
    "vi": {
        "today": "Bài học hôm nay: {title}.",
        "points": "Có {n} điều cần nhớ.",
        "ordinals": ["Thứ nhất", "Thứ hai", "Thứ ba", "Thứ tư", "Thứ năm"],
        "story": "Một câu chuyện có thật quanh ta.",
        "steps": "Bây giờ {we} cùng làm từng bước.",
        "step": "Bước {n}.",
        "safety": "Để an toàn:",
        "mistake": "Điều cần tránh:",
        "access": "Lưu ý:",
        "quiz": "Bây giờ là câu hỏi. {You} hãy tự trả lời trước khi nghe đáp án.",
        "question": "Câu {n}.",
        "letters": ["A", "B", "C", "D"],
        "answer": "Đáp án đúng là {letter}: {option}.",
        "practice": "Bài thực hành: {task}",
        "bye": "{You} đã học xong bài này. Hãy làm lại vài lần cho quen tay.",
        "from_source": "Theo tài liệu {title}",
    },
    "en": {
        "today": "Today's lesson: {title}.",
        "points": "There are {n} things to remember.",
        "ordinals": ["First", "Second", "Third", "Fourth", "Fifth"],
        "story": "Here is a true-to-life story.",
        "steps": "Now {we} will do it step by step.",
        "step": "Step {n}.",
        "safety": "To stay safe:",
        "mistake": "A mistake to avoid:",
        "access": "Note:",
        "quiz": "Now a question. Answer it yourself before you hear the answer.",
        "question": "Question {n}.",
        "letters": ["A", "B", "C", "D"],
        "answer": "The right answer is {letter}: {option}.",
        "practice": "Your practice: {task}",
        "bye": "You have finished this lesson. Practise it a few more times.",
        "from_source": "According to {title}",
    },
}

#: How the facilitator's plan reads, per language (built from the lesson, not from the group's text).
PLAN: dict[str, dict[str, str]] = {
    "vi": {
        "open": "Mở đầu ({minutes} phút): {warm_up}",
        "demo": "Làm mẫu nhiệm vụ “{task}” trên một máy, từng bước một ({n} bước), rồi cho người học tự làm "
                "trên máy của mình; người hỗ trợ chỉ nhắc, không làm hộ.",
        "check": "Sau mỗi bước, kiểm tra mọi người thấy đúng điều cần thấy: {expect}",
        "practice": "Thực hành: {task} Kết quả cần đạt: {expected}",
        "quiz": "Cuối buổi: {n} câu hỏi nhanh, mỗi câu kiểm tra một mục tiêu; giải thích đáp án.",
        "access": "Với nhóm này: {note}",
    },
    "en": {
        "open": "Opening ({minutes} minutes): {warm_up}",
        "demo": "Demonstrate the task “{task}” on one device, one step at a time ({n} steps), then let learners "
                "do it on their own devices; helpers prompt but never do it for them.",
        "check": "After each step, check everyone sees what they should: {expect}",
        "practice": "Practice: {task} Expected result: {expected}",
        "quiz": "To close: {n} quick questions, each checking one objective; explain the answers.",
        "access": "For this group: {note}",
    },
}


@dataclass(frozen=True)
class Audience:
    """What a group asks of content: who it is, what it cannot take, how it is addressed."""

    ids: tuple[str, ...]  # group id, then families, closest first
    tags: tuple[str, ...]
    excludes: frozenset[str]
    banned: tuple[str, ...]  # phrases (lower case) no text for this group may contain
    address: str
    capital: str

    @classmethod
    def of(cls, group: TargetGroup, lang: str) -> Audience:
        """The audience ``group`` makes in ``lang``."""
        reg = group.register(lang)
        banned = [*group.modality.forbidden.get(lang, []), *group.avoid.get(lang, [])]  # type: ignore[call-overload]
        return cls(tuple(group.audiences()), tuple(group.tags), frozenset(group.modality.excludes),
                   tuple(b.strip().lower() for b in banned if b.strip()), reg.address, reg.capital)

    def speak(self, text: str) -> str:
        """``text`` addressed to this audience."""
        return text.replace("{You}", self.capital).replace("{you}", self.address)

    def accepts(self, item: Targeted, level: int) -> bool:
        """True when ``item`` suits ``level`` and may be given to this audience."""
        if not item.suits(level) or self.excludes & set(item.needs):
            return False
        return not item.for_ or bool(set(item.for_) & set(self.ids))

    def clean(self, text: str) -> bool:
        """True when ``text`` holds none of the phrases this audience must not get (as whole words, as the
        register and modality checks read them: "hear" bans "hear", not "hearing")."""
        return not self.banned or _banned_re(self.banned).search(self.speak(text).lower()) is None

    def score(self, item: Targeted) -> int:
        """Higher for items written for this group (its id, then its families), then by topic."""
        s = 0
        for i, a in enumerate(self.ids):
            if a in item.for_:
                s = max(s, 1000 - 200 * i)
        weights = {tag: len(self.tags) - i for i, tag in enumerate(self.tags)}
        return s + sum(weights.get(t, 0) for t in item.tags)

    def rank(self, items: Iterable[T], level: int, texts: Callable[[T], Iterable[str]]) -> list[T]:
        """Items this audience may get at ``level``, best first (equals keep their order in the file)."""
        ok = [x for x in items if self.accepts(x, level) and all(self.clean(t) for t in texts(x))]
        return sorted(ok, key=lambda x: -self.score(x))


@lru_cache(maxsize=64)
def _banned_re(banned: tuple[str, ...]) -> re.Pattern[str]:
    """One pattern for a group's banned phrases, each as whole words (compiled once per group)."""
    return re.compile("|".join(rf"(?<!\w){re.escape(b)}(?!\w)" for b in banned))


def _task_texts(t: Task) -> list[str]:
    return [t.title, *(x for s in t.steps for x in (s.action, s.expect)), t.practice.task, t.practice.expected]


def choose_task(entry: LanguageContent, aud: Audience, level: int) -> Task:
    """The task a trainer would choose for this audience and level."""
    ranked = aud.rank(entry.tasks, level, _task_texts)
    if not ranked:
        raise BackendError(
            "the content library has no task at level {level} this group can do (check the tasks' 'for', "
            "'needs' and 'levels', and the group's modality); add one to the content file",
            level=level,
        )
    return ranked[0]


def _objectives(entry: LanguageContent, level: int, task: Task, taught: set[str]) -> list[ContentObjective]:
    """The level's objectives that this lesson can teach: the task's first, at most four."""
    at_level = [o for o in entry.objectives if level in o.descriptors]
    first = [o for o in at_level if o.key == task.objective]
    rest = [o for o in at_level if o.key != task.objective and o.key in taught]
    return (first + rest)[:4]


def _cite_letters(code: str, level: int) -> Callable[[ContentObjective], list[str]]:
    return lambda o: [f"{code}-L{level}-{x}" for x in o.descriptors[level]]


def compose(entry: LanguageContent, req: DraftRequest,
            cite: Callable[[ContentObjective], list[str]] | None = None) -> dict[str, Any]:
    """Choose and adapt content items into lesson data for ``req`` (before fitting to the limits).

    ``cite`` maps an objective to the descriptor ids it cites (default: this competence's letters at the
    level); a lesson drafted for another framework through an equivalence passes its own.
    """
    level, lang, group = req.level, req.lang, req.group
    aud = Audience.of(group, lang)
    task = choose_task(entry, aud, level)
    even = level % 2 == 0 and task.transfer is not None and (level - 1) in task.levels

    pool_points = aud.rank(entry.key_points, level, lambda k: [k.text])
    task_points = [p for p in task.points() if p.suits(level) and aud.clean(p.text)]
    taught = {task.objective} | {p.objective for p in task_points} | {k.objective for k in pool_points if k.objective}
    if not any(k.objective for k in entry.key_points):  # a first-format file: key points name no objective
        taught |= {o.key for o in entry.objectives}
    objs = _objectives(entry, level, task, taught)
    if len(objs) < 2:
        raise BackendError("the content library teaches fewer than 2 objectives at level {level} for this "
                           "group; add key points or tasks for the level's objectives", level=level)
    cite = cite or _cite_letters(req.competence.code, level)
    obj_id = {o.key: f"O{i + 1}" for i, o in enumerate(objs)}

    # Key points: the task's own, then one for each objective not yet taught, then the best others.
    points = [{"text": aud.speak(p.text), "sources": [], "objective": p.objective} for p in task_points]
    for o in objs:
        if not any(p["objective"] == o.key for p in points) and o.key != task.objective:
            k = next((k for k in pool_points if k.objective == o.key), None)
            if k is not None:
                points.append({"text": aud.speak(k.text), "sources": [], "objective": k.objective})
    for k in pool_points:
        if len(points) >= 5:
            break
        if all(aud.speak(k.text) != p["text"] for p in points):
            points.append({"text": aud.speak(k.text), "sources": [], "objective": k.objective})
    quoted = _quotes(req.passages, lang, req.limits.max_sentence_words)
    chosen_points = [*quoted, *points][:5]
    key_points = [{"text": p["text"], "sources": p["sources"]} for p in chosen_points]

    steps = [{"action": aud.speak(s.action), "expect": aud.speak(s.expect), "sources": [],
              **({"screen": _speak_screen(s.screen.model_dump(), aud)} if s.screen else {})}
             for s in task.steps[: group.max_new_actions]]

    # A story written for this very level (a band's second level has its own) before one for the band.
    told = sorted((e for e in task.stories() if e.suits(level) and aud.clean(e.text)), key=lambda e: not e.levels)
    stories = [e.text for e in told]
    if not stories:
        stories = [e.story for e in aud.rank(entry.examples, level, lambda e: [e.story])]
    if not stories:
        raise BackendError("the content library has no story at level {level} this group may get; add one",
                           level=level)

    tips: list[TaskTip | Tip] = [t for t in task.tips if t.suits(level) and aud.clean(t.text)]
    tips += [t for t in aud.rank(entry.tips, level, lambda t: [t.text]) if all(t.text != x.text for x in tips)]
    tips = sorted(tips, key=lambda t: t.kind != "mistake")[:3]
    tip_data = [{"kind": t.kind, "text": aud.speak(t.text)} for t in tips]
    if group.modality.tip is not None:
        tip_data.append({"kind": "access", "text": group.modality.tip.get(lang)})

    quiz = _quiz(entry, task, aud, level, objs, obj_id)
    practice = task.transfer if even and task.transfer else task.practice
    body = " ".join([*(str(p["text"]) for p in key_points), *(str(s["action"]) for s in steps), stories[0]]).lower()
    glossary = [g for g in entry.glossary if level in g.levels and aud.clean(g.definition)]
    glossary.sort(key=lambda g: g.term.lower() not in body)  # terms the lesson uses first

    notes = aud.rank(entry.facilitator, level, lambda f: [f.warm_up, *f.discussion])
    fac = notes[0] if notes else None
    return {
        "title": aud.speak(entry.text_for(entry.titles, level)),
        "summary": aud.speak(entry.text_for(entry.summaries, level)),
        "objectives": [{"id": obj_id[o.key], "text": aud.speak(o.wording(level)), "descriptors": cite(o)}
                       for o in objs],
        "key_points": key_points,
        "steps": steps,
        "example": aud.speak(stories[0]),
        "tips": tip_data,
        "practice": {"task": aud.speak(practice.task), "expected": aud.speak(practice.expected)},
        "quiz": quiz,
        "glossary": [{"term": g.term, "definition": aud.speak(g.definition)} for g in glossary][:6],
        "facilitator": {
            "duration_minutes": group.session_minutes,
            "materials": list(dict.fromkeys(aud.speak(m) for m in [*task.materials,
                                                                   *(fac.materials if fac else [])]))[:6]
            or ["—"],
            "warm_up": aud.speak(fac.warm_up) if fac else "",
            "discussion": [aud.speak(d) for d in (fac.discussion if fac else [])][:3],
            "how_to_run": "",  # written from the fitted lesson (plan_session)
        },
        "_task": aud.speak(task.title),
        # what each key point teaches, so trimming never drops an objective's only point
        "_point_objectives": [p["objective"] if p["objective"] != task.objective else "" for p in chosen_points],
    }


def _speak_screen(screen: dict[str, Any], aud: Audience) -> dict[str, Any]:
    return {k: ([aud.speak(x) for x in v] if isinstance(v, list) else aud.speak(v) if isinstance(v, str) else v)
            for k, v in screen.items()}


def _quiz(entry: LanguageContent, task: Task, aud: Audience, level: int, objs: Sequence[ContentObjective],
          obj_id: dict[str, str]) -> list[dict[str, Any]]:
    """The task's own questions, then one for every objective not yet checked, then others (four at most)."""
    seed = int(hashlib.sha256(task.id.encode("utf-8")).hexdigest(), 16)

    def data(q: Any, i: int) -> dict[str, Any]:
        options, answer = _placed(seed + i, q.options, q.answer)
        return {"question": aud.speak(q.question), "options": [aud.speak(o) for o in options],
                "answer": answer, "explanation": aud.speak(q.explanation), "objective": obj_id[q.objective]}

    def ok(q: Any) -> bool:
        return q.objective in obj_id and all(aud.clean(t) for t in (q.question, *q.options, q.explanation))

    mine: list[TaskQuiz | QuizItem] = [q for q in task.questions() if q.suits(level) and ok(q)]
    pool = [q for q in aud.rank(entry.quiz, level, lambda q: [q.question, *q.options, q.explanation]) if ok(q)]
    chosen = list(mine)
    for o in objs:
        if not any(q.objective == o.key for q in chosen):
            q = next((q for q in pool if q.objective == o.key), None)
            if q is not None:
                chosen.append(q)
    for q in pool:
        if len(chosen) >= 4:
            break
        if q not in chosen:
            chosen.append(q)
    return [data(q, i) for i, q in enumerate(chosen[:5])]


def _placed(turn: int, options: list[str], answer: int) -> tuple[list[str], int]:
    """The options with the right one moved to place ``turn`` (mod the number of options): consecutive
    questions take consecutive places, so across a quiz the answer is not always the same letter — and the
    same lesson always gets the same order, in every format."""
    at = turn % len(options)
    rest = [o for i, o in enumerate(options) if i != answer]
    return rest[:at] + [options[answer]] + rest[at:], at


def _quotes(passages: Sequence[SourcePassage], lang: str, limit: int) -> list[dict[str, Any]]:
    """Up to two self-contained sentences from the editor's sources in the lesson language, cited by id."""
    from generator.drafting.language import detect_language

    out: list[dict[str, Any]] = []
    for p in passages:
        if len(out) >= 2 or detect_language(p.text) != lang:
            continue
        sentence = _passage_sentence(p, limit)
        if sentence:
            out.append({"text": sentence, "sources": [p.id], "objective": ""})
    return out


#: A sentence that leans on what came before it cannot be quoted alone.
_DEPENDENT = re.compile(r"^(khi đó|khi ấy|như vậy|vì vậy|do đó|ngoài ra|tuy nhiên|điều này|việc này|cách này|"
                        r"khi nhận được .* như vậy|this|these|that|such|however|therefore|also|it )", re.I)


def _passage_sentence(p: SourcePassage, limit: int) -> str | None:
    """The first body sentence of a passage (headings skipped) that fits the limit and stands alone."""
    body = " ".join(line.strip() for line in p.text.splitlines() if line.strip() and not line.lstrip().startswith("#"))
    return next((s for s in sentences(body) if 6 <= count_words(s) <= limit and s[-1] in ".!?…"
                 and not _DEPENDENT.match(s) and " như vậy" not in s.lower()), None)


def narrate(data: dict[str, Any], lang: str, group: TargetGroup) -> str:
    """A script for the ear: greeting, the lesson's point, the key points, the story, the steps, the tips
    (a mistake said as what not to do), the practice and — for groups who learn by listening — the quiz
    with its answer after a pause. One sentence group per line."""
    say = SPOKEN[lang]
    reg = group.register(lang)
    we = reg.we or ("chúng ta" if lang == "vi" else "we")
    fmt = {"we": we, "You": reg.capital, "you": reg.address}
    lines = [reg.greeting, say["today"].format(title=data["title"].rstrip(".")), data["summary"]]
    points = data["key_points"]
    lines.append(say["points"].format(n=len(points)))
    lines += [f"{say['ordinals'][i]}. {k['text']}" for i, k in enumerate(points)]
    lines += [say["story"], data["example"]]
    lines.append(say["steps"].format(**fmt))
    lines += [f"{say['step'].format(n=i + 1)} {s['action']} {s['expect']}" for i, s in enumerate(data["steps"])]
    for t in data["tips"]:
        lines.append(f"{say[t['kind']]} {t['text']}")
    lines.append(say["practice"].format(task=data["practice"]["task"]))
    if group.accessibility.audio_first:
        lines.append(say["quiz"].format(**fmt))
        for i, q in enumerate(data["quiz"][:3]):
            opts = " ".join(f"{say['letters'][j]}: {_end(o)}" for j, o in enumerate(q["options"]))
            lines += [f"{say['question'].format(n=i + 1)} {q['question']} {opts}", PAUSE,
                      say["answer"].format(letter=say["letters"][q["answer"]],
                                           option=q["options"][q["answer"]].rstrip(".")) + " " + q["explanation"]]
    lines.append(say["bye"].format(**fmt))
    return "\n".join(x.strip() for x in lines if x.strip())


def _end(text: str) -> str:
    text = text.strip()
    return text if text[-1:] in ".!?…" else text + "."


def plan_session(data: dict[str, Any], lang: str, group: TargetGroup) -> str:
    """How to run this lesson, written from the lesson itself: its warm-up, its task and steps, what to
    check, its practice and quiz — and what this group's learners need."""
    p = PLAN[lang]
    steps = data["steps"]
    parts = []
    if data["facilitator"]["warm_up"]:
        parts.append(p["open"].format(minutes=max(5, group.session_minutes // 9),
                                      warm_up=data["facilitator"]["warm_up"]))
    parts.append(p["demo"].format(task=data.get("_task") or data["title"], n=len(steps)))
    parts.append(p["check"].format(expect=steps[0]["expect"]))
    parts.append(p["practice"].format(task=data["practice"]["task"], expected=data["practice"]["expected"]))
    parts.append(p["quiz"].format(n=len(data["quiz"])))
    if group.modality.tip is not None:
        parts.append(p["access"].format(note=group.modality.tip.get(lang)))
    return "\n".join(parts)


#: What to drop, in order, while a lesson is over the group's limits.
_TRIMS = [("glossary", 4), ("tips", 2), ("key_points", 4), ("quiz", 4), ("glossary", 2), ("key_points", 3),
          ("tips", 1), ("quiz", 3), ("steps", 4), ("tips", 0), ("steps", 3), ("glossary", 0)]


def fit(data: dict[str, Any], lang: str, limits: Limits, group: TargetGroup) -> LessonDraft:
    """Drop optional items until the lesson and its narration fit the limits (never an objective's only
    quiz question, never a cited source's key point, never below three steps)."""
    data = dict(data)
    while True:
        data["facilitator"] = dict(data["facilitator"], how_to_run=plan_session(data, lang, group))
        data["narration"] = narrate(data, lang, group)
        try:
            draft = LessonDraft.model_validate({k: v for k, v in data.items() if not k.startswith("_")})
        except ValidationError as exc:
            where = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:3])
            raise BackendError(
                "the content library gives this group too little at this level ({where}); add key points, "
                "quiz questions or steps for it to the content file (check their 'for', 'needs' and 'levels')",
                where=where,
            ) from exc
        problems = draft.limit_problems(limits)
        if not problems:
            return draft
        for name, keep in _TRIMS:
            if len(data[name]) > keep and (name != "quiz" or _quiz_droppable(data)):
                if name == "key_points":
                    data["key_points"], data["_point_objectives"] = _drop_point(
                        data["key_points"], data.get("_point_objectives") or [""] * len(data["key_points"]))
                else:
                    data[name] = data[name][:-1]
                break
        else:
            raise BackendError(
                "the offline content does not fit this group's limits even at its shortest: {problems}; shorten "
                "the content file or raise the group's limits", problems="; ".join(problems[:3]))


def _drop_point(points: list[dict[str, Any]], objectives: list[str]
                ) -> tuple[list[dict[str, Any]], list[str]]:
    """Drop the last plain point that is not an objective's only teaching (cited source facts stay)."""
    def droppable(i: int) -> bool:
        o = objectives[i]
        return not points[i]["sources"] and (not o or objectives.count(o) > 1)

    for ok in (droppable, lambda i: not points[i]["sources"], lambda i: True):
        for i in range(len(points) - 1, -1, -1):
            if ok(i):
                return points[:i] + points[i + 1:], objectives[:i] + objectives[i + 1:]
    return points, objectives


def _quiz_droppable(data: dict[str, Any]) -> bool:
    last = data["quiz"][-1]["objective"]
    return sum(q["objective"] == last for q in data["quiz"]) > 1
