"""Quality checks run on every draft and stored with it. Each has a name, pass/fail and a message."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from generator import registry
from generator.drafting.language import detect_language
from generator.i18n import N_, Joined, Message, from_data, gettext, to_data
from generator.lesson import Lesson, LessonDraft, Limits, count_words
from generator.schema import Framework, TargetGroup

if TYPE_CHECKING:
    from generator.drafting.backend import DraftRequest
    from generator.registry import Registry


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check: its name, pass/fail, the English message (for machines and logs) and a
    stable ``code`` with its ``params``, from which the message is rendered in the reader's language.
    Results stored before codes existed have no code and show their English message."""

    name: str
    passed: bool
    message: str
    code: str = ""
    params: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, code: str, /, **params: Any) -> CheckResult:
        """The result ``code`` ("<check>.<outcome>", a key of MESSAGES) with its parameters; it passes when
        the outcome is ``ok``."""
        name, outcome = code.rsplit(".", 1)
        data = {k: to_data(v) for k, v in params.items()}
        passed = outcome == "ok" or outcome.startswith("ok_")
        return cls(name, passed, Message(MESSAGES[code], **params).english, code, data)

    def as_message(self) -> Message:
        """The message, to render in any language (the stored English text when the code is unknown)."""
        if self.code in MESSAGES:
            return Message(MESSAGES[self.code], **{k: from_data(v) for k, v in self.params.items()})
        return Message(_VERBATIM, text=self.message)

    def render(self, lang: str | None = None) -> str:
        """The message in ``lang`` (the current language by default)."""
        return self.as_message().render(lang)

    def label(self, lang: str | None = None) -> str:
        """The check's name in ``lang``."""
        return gettext(CHECK_LABELS[self.name], lang) if self.name in CHECK_LABELS else self.name

    def summary(self) -> Message:
        """"<check>: <message>", to render in any language."""
        return Message("{check}: {message}", check=Message(CHECK_LABELS.get(self.name, self.name)),
                       message=self.as_message())

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form: name, passed, the English message, code and params."""
        return asdict(self)


_VERBATIM = "{text}"  # not a catalog entry: text stored before messages had codes is shown as it is

#: Every check outcome's message (English msgid with named fields), by code "<check>.<outcome>".
MESSAGES: dict[str, str] = {
    "language.wrong": N_("the lesson reads as {found!r}, not {wanted!r}"),
    "language.mixed": N_("{off} of {total} sections are not in {wanted!r}, e.g. {example!r}"),
    "language.ok": N_("written in {wanted!r} ({total} sections checked)"),
    "unicode.not_nfc": N_("text is not Unicode NFC: {text!r}"),
    "unicode.mojibake": N_("mojibake {found!r} in {text!r}"),
    "unicode.control": N_("control character in {text!r}"),
    "unicode.ok": N_("all text is NFC, no mojibake"),
    "length.too_long": N_("too long: {problems}"),
    "length.ok": N_("{words} of {max_words} words; sentences ≤ {max_sentence_words}"),
    "objectives.bad_descriptor": N_("objective {objective} cites {cited}; valid ids: {valid}"),
    "objectives.ok": N_("{n} objectives cite real descriptors"),
    "quiz.no_answer": N_("question {i} has no valid correct answer"),
    "quiz.bad_options": N_("question {i} has repeated or empty options"),
    "quiz.no_explanation": N_("question {i} has no explanation"),
    "quiz.unchecked": N_("no question checks objective(s) {objectives}"),
    "quiz.ok": N_("{n} questions, every objective checked"),
    "citations.forged": N_("cites passages that were not retrieved: {ids}"),
    "citations.unlisted": N_("cites passages missing from the Sources list: {ids}; list every cited passage "
                             "under Sources"),
    "citations.ok": N_("{n} cited, all retrieved and listed"),
    "faithful.misquoted": N_("{where} quotes “{quote}” but only {match:.0%} of it is in {passage}; quote the passage "
                             "word for word or drop the quotation marks"),
    "faithful.unfaithful": N_("{where} cites {passage} but only {share:.0%} of its words are in that passage "
                              "(at least {needed:.0%} needed): “{text}”; quote or closely paraphrase the passage, "
                              "or cite nothing"),
    "faithful.ok": N_("{checked} cited claims match their passage"),
    "faithful.ok_foreign": N_("{checked} cited claims match their passage; {foreign} translate a passage in another "
                              "language: compare them by eye"),
    "grounded.ok_no_sources": N_("drafted without sources"),
    "grounded.ok": N_("{cited} of {retrieved} retrieved passages cited"),
    "grounded.unused": N_("drafted with sources, but none of the {retrieved} retrieved passages could be used (none "
                          "cited; the offline drafter quotes only passages in {lang}): add sources in {lang}, or "
                          "draft with the model backend, which can translate them"),
    "links.outside": N_("links outside the allow-list: {links}; link only to {allowed} (setting HOCVU_LINK_ALLOW)"),
    "links.ok": N_("no links outside the allow-list"),
    "markup.found": N_("markup {markup!r} in “{text}”; write plain text"),
    "markup.ok": N_("plain text, no HTML or Markdown"),
}

#: Each check's name as people read it.
CHECK_LABELS: dict[str, str] = {
    "language": N_("language"),
    "unicode": N_("characters"),
    "length": N_("length"),
    "objectives": N_("objectives"),
    "quiz": N_("quiz"),
    "citations": N_("citations"),
    "faithful": N_("faithful quotes"),
    "grounded": N_("use of sources"),
    "links": N_("links"),
    "markup": N_("plain text"),
}


@dataclass(frozen=True)
class CheckContext:
    """What the checks compare a lesson against."""

    framework: Framework
    group: TargetGroup
    link_allow: list[str]
    retrieved: list[str]


_MOJIBAKE = re.compile(r"Ã[\x80-\xbf\xa0-\xff]|á»|áº|Æ°|Ä‘|Ä\x90|â€|\ufffd")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
#: Anything a learner could open or type: a URL with a scheme (any scheme: javascript:, data:, file: are
#: refused outright), or a bare domain such as "dichvucong.gov.vn" or "www.example.com/login".
_URL = re.compile(r"\b[a-z]{3,}[a-z0-9+.-]*:(?://)?[^\s<>\"'“”]+|(?<![@\w.-])(?:[a-z0-9-]+\.)+"
                  r"(?:vn|com|net|org|info|io|me|app|xyz|top|online|site|link|ly|co|biz|cc|tk|shop|store|asia)"
                  r"\b(?:[/:?#\\][^\s<>\"'“”]*)?", re.I)
#: Schemes a lesson may link with.
_SCHEMES = ("http", "https")
#: Longest word (not a link) a lesson may hold: longer breaks the page on a phone.
MAX_WORD_CHARS = 40
_MARKUP = re.compile(r"<\s*/?\s*[a-z!][^>]*>|\*\*[^*\n]+\*\*|__[^_\n]+__|\[[^\]\n]+\]\([^)\n]*\)|`[^`\n]+`|"
                     r"^\s{0,3}#{1,6}\s|&(?:[a-z]+|#\d+|#x[0-9a-f]+);", re.I | re.M)


def check_language(lesson: Lesson, ctx: CheckContext) -> CheckResult:
    """The lesson is written in the language asked for (lingua, on the whole and section by section)."""
    whole = detect_language(" ".join(lesson.learner_texts()))
    parts = [t for t in [*lesson.learner_texts(), lesson.narration] if count_words(t) >= 6]
    off = [t for t in parts if detect_language(t) not in (lesson.language, None)]
    if whole != lesson.language:
        return CheckResult.of("language.wrong", found=str(whole), wanted=lesson.language)
    if len(off) > max(1, len(parts) // 10):
        return CheckResult.of("language.mixed", off=len(off), total=len(parts), wanted=lesson.language,
                              example=off[0][:60])
    return CheckResult.of("language.ok", wanted=lesson.language, total=len(parts))


def check_unicode(lesson: Lesson, ctx: CheckContext) -> CheckResult:
    """Every text is Unicode NFC and free of mojibake and control characters."""
    for text in lesson.all_texts():
        if unicodedata.normalize("NFC", text) != text:
            return CheckResult.of("unicode.not_nfc", text=text[:60])
        if m := _MOJIBAKE.search(text):
            return CheckResult.of("unicode.mojibake", found=m.group(), text=text[:60])
        if _CONTROL.search(text):
            return CheckResult.of("unicode.control", text=text[:60])
    return CheckResult.of("unicode.ok")


def check_length(lesson: Lesson, ctx: CheckContext) -> CheckResult:
    """Words per lesson and per sentence stay within the group's limits."""
    limits = Limits.for_group(ctx.group, lesson.language)
    problems = lesson.limit_messages(limits)
    for text in lesson.all_texts():
        for word in _URL.sub(" ", text).split():
            if len(word) > MAX_WORD_CHARS:
                problems.append(Message("a word of {n} characters (limit {limit}): {word!r}…", n=len(word),
                                        limit=MAX_WORD_CHARS, word=word[:30]))
                break
    if problems:
        return CheckResult.of("length.too_long", problems=Joined(problems[:3]))
    return CheckResult.of("length.ok", words=lesson.word_count(), max_words=limits.max_words,
                          max_sentence_words=limits.max_sentence_words)


def check_objectives(lesson: Lesson, ctx: CheckContext) -> CheckResult:
    """Every objective cites at least one real descriptor of this competence and level."""
    valid = {d.id for d in ctx.framework.descriptors(lesson.competence, lesson.level)}
    for o in lesson.objectives:
        bad = [d for d in o.descriptors if d not in valid]
        if bad or not o.descriptors:
            return CheckResult.of("objectives.bad_descriptor", objective=o.id,
                                  cited=", ".join(bad) if bad else Message("nothing"), valid=", ".join(sorted(valid)))
    return CheckResult.of("objectives.ok", n=len(lesson.objectives))


def check_quiz(lesson: Lesson, ctx: CheckContext) -> CheckResult:
    """One correct answer, distinct options, an explanation, and every objective checked."""
    for i, q in enumerate(lesson.quiz, 1):
        if not 0 <= q.answer < len(q.options):
            return CheckResult.of("quiz.no_answer", i=i)
        normalised = [o.strip().casefold() for o in q.options]
        if len(set(normalised)) != len(normalised) or not all(normalised):
            return CheckResult.of("quiz.bad_options", i=i)
        if not q.explanation.strip():
            return CheckResult.of("quiz.no_explanation", i=i)
    unchecked = [o.id for o in lesson.objectives if not any(q.objective == o.id for q in lesson.quiz)]
    if unchecked:
        return CheckResult.of("quiz.unchecked", objectives=", ".join(unchecked))
    return CheckResult.of("quiz.ok", n=len(lesson.quiz))


#: A cited claim must have at least this share of its content words in the passage it cites: a quote
#: has all of them, a close paraphrase most; an invented sentence under a real id has few.
FAITHFUL_SHARE = 0.6
#: Text in quotation marks must be found in the passage nearly word for word (see quote_match).
QUOTE_MATCH = 0.85
#: Words that carry no content (Vietnamese and English), left out of the comparison.
_STOPWORDS = frozenset("""
và của là có các những một cho với để không được trong khi này đó thì mà ở ra vào bạn người hãy nên
cũng như theo từ đã sẽ đang rất nhiều hoặc hay nếu vì sau trước lên xuống đến tại bị do thể việc
the a an and or of to in on for with is are be was were it this that these those you your can will
not no do does if as at by from into than then so such any all more most should must may have has
""".split())


def _content_words(text: str) -> set[str]:
    words = re.findall(r"\w+", unicodedata.normalize("NFC", text).casefold())
    return {w for w in words if len(w) > 1 and w not in _STOPWORDS and not w.isdigit()}


def _found(word: str, words: set[str]) -> bool:
    return word in words or word.rstrip("s") in words or word + "s" in words


def supported_share(claim: str, passage: str) -> float:
    """Share of the claim's content words found in the passage (1.0 for a claim with none)."""
    claim_words = _content_words(claim)
    if not claim_words:
        return 1.0
    passage_words = _content_words(passage)
    return sum(1 for w in claim_words if _found(w, passage_words)) / len(claim_words)


def check_citations(lesson: Lesson, ctx: CheckContext) -> CheckResult:
    """Every cited passage id was retrieved and is in the Sources list (what the claims say is the
    ``faithful`` check's)."""
    retrieved = set(ctx.retrieved)
    cited = lesson.cited_source_ids() + [s.id for s in lesson.sources]
    forged = sorted({c for c in cited if c not in retrieved})
    if forged:
        return CheckResult.of("citations.forged", ids=", ".join(forged))
    listed = {s.id for s in lesson.sources}
    unlisted = [c for c in lesson.cited_source_ids() if c not in listed]
    if unlisted:
        return CheckResult.of("citations.unlisted", ids=", ".join(unlisted))
    return CheckResult.of("citations.ok", n=len(set(cited)))


def cited_claims(lesson: Lesson) -> list[tuple[Message, str, list[str]]]:
    """(where, text, cited ids) of every claim that cites passages: key points, then steps."""
    claims = [(Message("key point {i}", i=i), k.text, list(k.sources)) for i, k in enumerate(lesson.key_points, 1)]
    claims += [(Message("step {i}", i=i), f"{s.action} {s.expect}", list(s.sources))
               for i, s in enumerate(lesson.steps, 1)]
    return [c for c in claims if c[2]]


_QUOTED = re.compile(r"[“\"«]([^”\"»]{12,})[”\"»]")


def quote_match(quote: str, passage: str) -> float:
    """How exactly the passage holds the quote: 1.0 when word for word; each word the quote adds, or leaves
    out inside the span it matches, costs 1/len(quote) ("có thể" for "không bao giờ" costs five words)."""
    from difflib import SequenceMatcher

    def words(t: str) -> list[str]:
        return re.findall(r"\w+", unicodedata.normalize("NFC", t).casefold())

    q, p = words(quote), words(passage)
    if not q:
        return 1.0
    blocks = [b for b in SequenceMatcher(None, q, p, autojunk=False).get_matching_blocks() if b.size]
    if not blocks:
        return 0.0
    matched = sum(b.size for b in blocks)
    span = blocks[-1].b + blocks[-1].size - blocks[0].b
    return max(0.0, 1 - ((len(q) - matched) + (span - matched)) / len(q))


def check_faithful(lesson: Lesson, ctx: CheckContext) -> CheckResult:
    """Every cited claim quotes or closely paraphrases its passage: text in quotation marks must be in
    the passage nearly word for word (``quote_match`` ≥ QUOTE_MATCH), the rest must share ≥ FAITHFUL_SHARE of its
    content words with it. A claim in another language than its passage cannot be compared word for
    word; the message counts those for the reviewer."""
    listed = {s.id: s.text for s in lesson.sources}
    checked, foreign = 0, 0
    for where, text, ids in cited_claims(lesson):
        for pid in ids:
            passage = listed.get(pid)
            if passage is None:
                continue  # the citations check reports it
            checked += 1
            for quote in _QUOTED.findall(text):
                if (match := quote_match(quote, passage)) < QUOTE_MATCH:
                    return CheckResult.of("faithful.misquoted", where=where, quote=quote[:60], match=match,
                                          passage=pid)
            if _other_language(text, passage):
                foreign += 1
                continue
            share = supported_share(text, passage)
            if share < FAITHFUL_SHARE:
                return CheckResult.of("faithful.unfaithful", where=where, passage=pid, share=share,
                                      needed=FAITHFUL_SHARE, text=text[:60])
    if foreign:
        return CheckResult.of("faithful.ok_foreign", checked=checked, foreign=foreign)
    return CheckResult.of("faithful.ok", checked=checked)


def check_grounded(lesson: Lesson, ctx: CheckContext) -> CheckResult:
    """A lesson drafted with sources uses at least one of the passages retrieved for it."""
    if not ctx.retrieved:
        return CheckResult.of("grounded.ok_no_sources")
    if lesson.cited_source_ids():
        return CheckResult.of("grounded.ok", cited=len(lesson.cited_source_ids()), retrieved=len(ctx.retrieved))
    lang = {"vi": Message("Vietnamese"), "en": Message("English")}.get(lesson.language, lesson.language)
    return CheckResult.of("grounded.unused", retrieved=len(ctx.retrieved), lang=lang)


def _other_language(claim: str, passage: str) -> bool:
    if count_words(claim) < 4:
        return False
    a, b = detect_language(claim), detect_language(passage)
    return a is not None and b is not None and a != b


def link_host(url: str) -> str | None:
    """The host ``url`` leads to, as a browser reads it, or None when it is not an http(s) address
    (javascript:, data:, a host with a backslash, credentials, or characters no host name has)."""
    from urllib.parse import urlsplit

    text = url.strip().rstrip(".,;:!?)")
    m = re.match(r"([a-z][a-z0-9+.-]*):", text, re.I)
    if m and not text.lower().startswith(("http://", "https://")):
        # "gov.vn:443/x" is a bare host with a port; anything else with a colon first is a scheme
        if not re.match(r"(?:[a-z0-9-]+\.)+[a-z]{2,}:\d", text, re.I):
            return None
    if not m or not text.lower().startswith(("http://", "https://")):
        text = "https://" + text
    if "\\" in text:  # browsers read a backslash as a slash: "evil.com\.gov.vn" is evil.com
        return None
    parts = urlsplit(text)
    if parts.scheme.lower() not in _SCHEMES or "@" in parts.netloc:
        return None
    host = (parts.hostname or "").rstrip(".").lower()
    if not re.fullmatch(r"(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}", host):
        return None
    return host


def _allowed(url: str, allow: list[str]) -> bool:
    host = link_host(url)
    return host is not None and any(host == d or host.endswith("." + d) for d in allow)


#: Search operators are typed into a search box, not opened: "site:gov.vn", "filetype:pdf".
_OPERATOR = re.compile(r"^(?:site|filetype|intitle|allintitle|inurl|allinurl|intext|related|before|after):", re.I)
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)


def _links(text: str, bare: bool = True) -> list[str]:
    """Addresses in ``text``; with ``bare`` False, only those with a scheme (a quiz may show a fake
    bare address for learners to judge, e.g. "dichvucong-vn.com")."""
    found = [m.group() for m in _URL.finditer(text) if not _OPERATOR.match(m.group())]
    return found if bare else [u for u in found if _SCHEME.match(u) and not re.match(r"[^:]+\.[^:]+:\d", u)]


def _quiz_texts(lesson: Lesson) -> set[str]:
    return {x for q in lesson.quiz for x in (q.question, *q.options, q.explanation)}


def check_links(lesson: Lesson, ctx: CheckContext) -> CheckResult:
    """Every web address (with or without http://) leads to a host on the allow-list; nothing else
    (javascript:, data:, credentials, backslashes) passes. Search operators (site:gov.vn) are not
    links, and a quiz may name a fake bare address for learners to judge (never a full link)."""
    quiz = _quiz_texts(lesson)
    bad = [u for t in lesson.all_texts() for u in _links(t, bare=t not in quiz) if not _allowed(u, ctx.link_allow)]
    if bad:
        return CheckResult.of("links.outside", links=", ".join(bad[:3]), allowed=", ".join(ctx.link_allow[:5]))
    return CheckResult.of("links.ok")


def check_markup(lesson: Lesson, ctx: CheckContext) -> CheckResult:
    """Plain text only: HTML tags, entities and Markdown markup would show up literally in the handout
    and slides (and as code on the page)."""
    for text in lesson.all_texts():
        if m := _MARKUP.search(text):
            return CheckResult.of("markup.found", markup=m.group()[:40], text=text[:60])
    return CheckResult.of("markup.ok")


#: Every check, by name, in the order they run: ``generator.registry.checks`` (entry-point group
#: ``hocvu.checks``), where the form checks above and the fitness checks (``fitness.py``) are registered.
CHECKS: Registry[Callable[[Lesson, CheckContext], CheckResult]] = registry.checks


def run_checks(lesson: Lesson, ctx: CheckContext) -> list[CheckResult]:
    """Run every check on ``lesson``."""
    return [check(lesson, ctx) for check in CHECKS.values()]


def draft_failures(draft: LessonDraft, req: DraftRequest, link_allow: list[str]) -> list[CheckResult]:
    """The checks a freshly drafted lesson fails (before it has an identity), so a model can be re-asked
    with their messages."""
    return [c for c in draft_checks(draft, req, link_allow) if not c.passed]


def draft_checks(draft: LessonDraft, req: DraftRequest, link_allow: list[str]) -> list[CheckResult]:
    """Every check's result on a freshly drafted lesson, judged as ``check_lesson`` will judge it once
    assembled (same framework, group, allowed links, retrieved passages and cited sources)."""
    from generator.lesson import Provenance, SourceCitation

    cited = set(draft.cited_source_ids())  # listed as assembly will list them, so only the text is judged
    sources = [SourceCitation.model_validate(p.citation()) for p in req.passages if p.id in cited]  # type: ignore[arg-type]
    lesson = Lesson.assemble(draft, framework=req.framework.id, competence=req.competence.code,
                             level=req.level, group=req.group.id, language=req.lang, sources=sources,
                             provenance=Provenance(backend="-", model="-", prompt_hash="-", framework_hash="-",
                                                   group_hash="-", retrieved=[p.id for p in req.passages]))
    ctx = CheckContext(req.framework, req.group, link_allow, [p.id for p in req.passages])
    return run_checks(lesson, ctx)

# The fitness checks' messages and names (register, modality, new actions, taught objectives, safe narration,
# plausible distractors); the checks themselves are registered in generator.registry.
from generator.drafting.fitness import FITNESS_LABELS, FITNESS_MESSAGES  # noqa: E402

MESSAGES.update(FITNESS_MESSAGES)
CHECK_LABELS.update(FITNESS_LABELS)
