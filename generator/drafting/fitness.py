"""Checks of fitness for the group, not only of form: run on offline and model output alike.

Each check returns a failing CheckResult that quotes the offending text, so an editor (or the model, when
it is re-asked) knows exactly what to change:

- ``register``: the learner is addressed the way the profile says, no forbidden address form, none of the
  words and examples the profile says to avoid;
- ``modality``: nothing the group cannot do (a deaf learner gets no voice call, a blind learner no "look at
  the picture"), facilitator notes included;
- ``new-actions``: no more steps than the group takes in one session;
- ``taught``: every objective is taught by the key points, steps, story or practice;
- ``narration``: a mistake is never voiced as an instruction;
- ``distractors``: quiz options are plausible near-misses, not jokes, and of similar length.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable

from generator.drafting.checks import CheckContext, CheckResult
from generator.i18n import N_, Message
from generator.lesson import Lesson, sentences

NEGATIONS: dict[str, tuple[str, ...]] = {
    "vi": ("đừng", "không", "chớ", "tránh", "cấm", "không nên", "không được"),
    "en": ("don't", "don’t", "do not", "never", "avoid", "no ", "not "),
}

#: Options that are never a plausible answer in a lesson about digital skills.
JOKES = (
    "món ăn yêu thích", "bài hát yêu thích", "màu sắc yêu thích", "màu yêu thích", "cung hoàng đạo",
    "xem bói", "đi ngủ sớm", "không làm gì, chờ may mắn", "hỏi thầy bói", "ăn thật no",
    "favourite food", "favorite food", "favourite song", "favorite song", "favourite colour", "favorite color",
    "horoscope", "star sign", "go to sleep early", "turn the phone off and on again", "do nothing and hope",
    "ask a fortune teller",
)

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)

#: Function words and the verbs every objective starts with: they say nothing about what is taught.
STOP: dict[str, frozenset[str]] = {
    "vi": frozenset(
        "và của cho các những một được là có trong với khi để thì mà này đó ra vào lên xuống rồi cũng "
        "đã sẽ đang hay hoặc như từ theo về bằng tại nếu vì nên không đến trên dưới ai gì nào sao thế "
        "bị do người cách việc mình tự biết nhận diện ra làm thể hiện giải thích thảo luận áp dụng đánh giá "
        "lựa chọn chọn sử dụng dùng thực hiện hiểu nêu chỉ xác định phân biệt hướng dẫn khác nhau phù hợp "
        "nhất đơn giản cơ bản phổ biến an toàn số mạng trên".split()
    ),
    "en": frozenset(
        "the a an and or of to for in on at by with from into your you their them it its is are be can "
        "will that this these those what when how why which who as not no so do does use using able "
        "recognise recognize identify explain discuss apply evaluate choose follow understand describe "
        "show know find make simple basic safely safe online digital others other own".split()
    ),
}


#: Only function words: whether a quiz option is about the lesson is judged on every content syllable
#: ("đơn" in "chép đơn ra giấy" is the application form, not the "đơn" of "đơn giản").
FUNCTION: dict[str, frozenset[str]] = {
    "vi": frozenset("và của cho các những một được là có trong với khi để thì mà này đó ra vào lên xuống rồi cũng "
                    "đã sẽ đang hay hoặc như từ theo về bằng tại nếu vì nên không đến trên dưới gì nào sao thế "
                    "bị do".split()),  # not "ai": in a lesson on AI it is the topic
    "en": frozenset("the a an and or of to for in on at by with from into your you their them it its is are be "
                    "can will that this these those what when how why which who as not no so do does".split()),
}


def _words(text: str, lang: str, stop: frozenset[str] | None = None) -> set[str]:
    stop = STOP.get(lang, frozenset()) if stop is None else stop
    return {w for w in (m.group().lower() for m in _WORD.finditer(text)) if w not in stop and len(w) > 1}


def _same_word(a: str, b: str) -> bool:
    """True when two English words are forms of one ("express"/"expresses", "share"/"shared")."""
    if a == b:
        return True
    short, long_ = sorted((a, b), key=len)
    if len(short) >= 3 and long_.startswith(short) and len(long_) - len(short) <= 3:
        return True
    common = len(os.path.commonprefix([a, b]))
    return common >= max(5, len(short) - 2)


def _covered(word: str, have: set[str], lang: str) -> bool:
    return word in have or (lang == "en" and any(_same_word(word, h) for h in have))


def _find(phrase: str, text: str) -> re.Match[str] | None:
    """``phrase`` as whole words in ``text``, ignoring case."""
    return re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", text, re.I)


def _quote(text: str, m: re.Match[str], room: int = 30) -> str:
    start, end = max(0, m.start() - room), min(len(text), m.end() + room)
    return ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")


def _learner_texts(lesson: Lesson) -> list[str]:
    out = list(lesson.learner_texts())
    for q in lesson.quiz:
        out += [q.question, *q.options, q.explanation]
    out += [f"{g.term}: {g.definition}" for g in lesson.glossary]
    return [t for t in out if t]


def _all_texts(lesson: Lesson) -> list[str]:
    f = lesson.facilitator
    return [*_learner_texts(lesson), lesson.narration, *f.materials, f.how_to_run, f.warm_up, *f.discussion]


def _first_hit(phrases: Iterable[str], texts: Iterable[str], allow: Iterable[str] = ()) -> Message | None:
    allowed = sorted(allow, key=len, reverse=True)
    for text in texts:
        masked = text
        for a in allowed:
            masked = re.sub(re.escape(a), lambda m: "\x00" * len(m.group()), masked, flags=re.I)
        for p in phrases:
            m = _find(p.strip(), masked) if p.strip() else None
            if m:
                return Message("{phrase!r} in “{quote}”", phrase=p.strip(), quote=_quote(text, m))
    return None


def check_register(lesson: Lesson, ctx: CheckContext) -> CheckResult:
    """The learner is addressed as the profile says; no forbidden address form; nothing the profile says
    to avoid."""
    reg = ctx.group.register(lesson.language)
    texts = [*_learner_texts(lesson), lesson.narration]
    hit = _first_hit(reg.forbidden, texts, reg.allow)
    if hit:
        return CheckResult.of("register.forbidden", hit=hit, address=reg.address)
    avoid = ctx.group.avoid.get(lesson.language, [])  # type: ignore[call-overload]
    hit = _first_hit(avoid, _all_texts(lesson))
    if hit:
        return CheckResult.of("register.avoid", hit=hit, group=ctx.group.id)
    if lesson.language == "vi" and not any(_find(reg.address, t) for t in lesson.learner_texts()):
        return CheckResult.of("register.never", address=reg.address)
    return CheckResult.of("register.ok", address=reg.address)


def check_modality(lesson: Lesson, ctx: CheckContext) -> CheckResult:
    """Nothing the group's learners cannot do: phrases the profile excludes appear nowhere, facilitator
    notes included."""
    forbidden = ctx.group.modality.forbidden.get(lesson.language, [])  # type: ignore[call-overload]
    hit = _first_hit(forbidden, _all_texts(lesson))
    if hit:
        what = ", ".join(ctx.group.modality.excludes) or Message("what the profile excludes")
        return CheckResult.of("modality.excluded", what=what, hit=hit)
    return CheckResult.of("modality.ok", what=", ".join(ctx.group.modality.excludes) or Message("what the group lacks"))


def check_new_actions(lesson: Lesson, ctx: CheckContext) -> CheckResult:
    """No more steps than the group takes in one session."""
    limit = ctx.group.max_new_actions
    if len(lesson.steps) > limit:
        return CheckResult.of("new-actions.too_many", n=len(lesson.steps), group=ctx.group.id, limit=limit,
                              last=lesson.steps[-1].action[:60])
    return CheckResult.of("new-actions.ok", n=len(lesson.steps), limit=limit)


#: Share of an objective's content words the teaching must contain.
TAUGHT_SHARE = 0.5


def check_taught(lesson: Lesson, ctx: CheckContext) -> CheckResult:
    """Every objective is taught: most of its content words appear in the key points, steps, story,
    tips or practice."""
    lang = lesson.language
    body = " ".join([*(k.text for k in lesson.key_points), *(f"{s.action} {s.expect}" for s in lesson.steps),
                     lesson.example, *(t.text for t in lesson.tips), lesson.practice.task,
                     lesson.practice.expected])
    have = _words(body, lang)
    for o in lesson.objectives:
        need = _words(o.text, lang)
        if not need:
            continue
        missing = sorted(w for w in need if not _covered(w, have, lang))
        if len(missing) > (1 - TAUGHT_SHARE) * len(need):
            return CheckResult.of("taught.missing", objective=o.id, text=o.text, words=", ".join(missing[:6]))
    return CheckResult.of("taught.ok", n=len(lesson.objectives))


def _negated(sentence: str, lang: str) -> bool:
    low = sentence.lower()
    return any(re.search(rf"(?<!\w){re.escape(n.strip())}(?!\w)", low) for n in NEGATIONS[lang])


def check_narration(lesson: Lesson, ctx: CheckContext) -> CheckResult:
    """A mistake is always said as what not to do — on paper and, above all, in the narration."""
    lang = lesson.language
    mistakes = [t.text for t in lesson.tips if t.kind == "mistake"]
    for m in mistakes:
        if not _negated(sentences(m)[0] if sentences(m) else m, lang):
            return CheckResult.of("narration.not_negated", mistake=m[:80])
    # A tip's own sentences are said with it (after "Điều cần tránh:"), and quiz options are read out as
    # "B: …" for listeners: a wrong option may well be the mistake itself.
    spoken_tips = {x for t in lesson.tips for x in sentences(t.text)}
    options = {o.strip().rstrip(".") for q in lesson.quiz for o in q.options}
    for m in mistakes:
        core = _words(m, lang)
        if len(core) < 3:
            continue
        for s in sentences(lesson.narration):
            if s in spoken_tips or any(s.endswith(x) for x in spoken_tips) or \
                    (re.match(r"^[A-D]: ", s) and s[3:].strip().rstrip(".") in options):
                continue
            said = _words(s, lang)
            if len(core & said) >= 0.7 * len(core) and not _negated(s, lang):
                return CheckResult.of("narration.as_advice", sentence=s[:90])
    return CheckResult.of("narration.ok", n=len(mistakes))


def check_distractors(lesson: Lesson, ctx: CheckContext) -> CheckResult:
    """Quiz options are plausible: none from the joke list, on the lesson's topic, of similar length."""
    lang = lesson.language
    function = FUNCTION.get(lang, frozenset())
    topic = _words(" ".join([lesson.title, lesson.summary, *(o.text for o in lesson.objectives),
                             *(k.text for k in lesson.key_points), *(f"{s.action} {s.expect}" for s in lesson.steps),
                             lesson.example, *(t.text for t in lesson.tips), lesson.practice.task,
                             *(f"{q.question} {q.explanation}" for q in lesson.quiz)]), lang, function)
    for i, q in enumerate(lesson.quiz, 1):
        right = len(q.options[q.answer].split())
        for j, opt in enumerate(q.options):
            if j == q.answer:
                continue
            low = opt.casefold()
            if any(joke in low for joke in JOKES):
                return CheckResult.of("distractors.joke", i=i, option=opt)
            if not any(_covered(w, topic, lang) for w in _words(opt, lang, function)):
                return CheckResult.of("distractors.off_topic", i=i, option=opt)
            n = len(opt.split())
            if right >= 4 and (n * 3 < right or n > right * 3):
                return CheckResult.of("distractors.length", i=i, option=opt, n=n, right=right)
    return CheckResult.of("distractors.ok", n=len(lesson.quiz))


#: The fitness checks' messages, by code "<check>.<outcome>" (merged into checks.MESSAGES).
FITNESS_MESSAGES: dict[str, str] = {
    "register.forbidden": N_("addresses the learner as {hit}; this group is addressed as “{address}”"),
    "register.avoid": N_("uses {hit}, which does not fit {group}"),
    "register.never": N_("never addresses the learner as “{address}” in the lesson text"),
    "register.ok": N_("addresses the learner as “{address}”"),
    "modality.excluded": N_("asks for {what}: {hit}"),
    "modality.ok": N_("nothing that needs {what}"),
    "new-actions.too_many": N_("{n} steps; {group} takes at most {limit} new actions a session — the last is "
                               "“{last}”"),
    "new-actions.ok": N_("{n} of at most {limit} steps"),
    "taught.missing": N_("objective {objective} “{text}” is not taught: nothing in the lesson is about {words}"),
    "taught.ok": N_("{n} objectives taught"),
    "narration.not_negated": N_("mistake “{mistake}” does not say what not to do"),
    "narration.as_advice": N_("the narration voices a mistake as advice: “{sentence}”"),
    "narration.ok": N_("{n} mistake(s), each said as what not to do"),
    "distractors.joke": N_("question {i}: “{option}” is a joke, not a near-miss"),
    "distractors.off_topic": N_("question {i}: “{option}” has nothing to do with the lesson; use a real mistake"),
    "distractors.length": N_("question {i}: “{option}” ({n} words) and the answer ({right} words) differ too much "
                             "in length; a learner can guess by length"),
    "distractors.ok": N_("{n} questions with plausible options"),
}

FITNESS_LABELS: dict[str, str] = {
    "register": N_("form of address"),
    "modality": N_("what learners can do"),
    "new-actions": N_("new actions"),
    "taught": N_("objectives taught"),
    "narration": N_("narration of mistakes"),
    "distractors": N_("quiz options"),
}
