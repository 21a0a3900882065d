"""Quality checks run on every draft and stored with it. Each has a name, pass/fail and a message."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from generator import registry
from generator.drafting.language import detect_language
from generator.lesson import Lesson, LessonDraft, Limits, count_words
from generator.schema import Framework, TargetGroup

if TYPE_CHECKING:
    from generator.drafting.backend import DraftRequest
    from generator.registry import Registry


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check."""

    name: str
    passed: bool
    message: str

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return asdict(self)


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
        return CheckResult("language", False, f"the lesson reads as {whole!r}, not {lesson.language!r}")
    if len(off) > max(1, len(parts) // 10):
        return CheckResult("language", False,
                           f"{len(off)} of {len(parts)} sections are not in {lesson.language!r}, e.g. {off[0][:60]!r}")
    return CheckResult("language", True, f"written in {lesson.language!r} ({len(parts)} sections checked)")


def check_unicode(lesson: Lesson, ctx: CheckContext) -> CheckResult:
    """Every text is Unicode NFC and free of mojibake and control characters."""
    for text in lesson.all_texts():
        if unicodedata.normalize("NFC", text) != text:
            return CheckResult("unicode", False, f"text is not Unicode NFC: {text[:60]!r}")
        if m := _MOJIBAKE.search(text):
            return CheckResult("unicode", False, f"mojibake {m.group()!r} in {text[:60]!r}")
        if _CONTROL.search(text):
            return CheckResult("unicode", False, f"control character in {text[:60]!r}")
    return CheckResult("unicode", True, "all text is NFC, no mojibake")


def check_length(lesson: Lesson, ctx: CheckContext) -> CheckResult:
    """Words per lesson and per sentence stay within the group's limits."""
    limits = Limits.for_group(ctx.group, lesson.language)
    problems = lesson.limit_problems(limits)
    for text in lesson.all_texts():
        for word in _URL.sub(" ", text).split():
            if len(word) > MAX_WORD_CHARS:
                problems.append(f"a word of {len(word)} characters (limit {MAX_WORD_CHARS}): {word[:30]!r}…")
                break
    if problems:
        return CheckResult("length", False, "; ".join(problems[:3]))
    return CheckResult("length", True,
                       f"{lesson.word_count()} of {limits.max_words} words; sentences ≤ {limits.max_sentence_words}")


def check_objectives(lesson: Lesson, ctx: CheckContext) -> CheckResult:
    """Every objective cites at least one real descriptor of this competence and level."""
    valid = {d.id for d in ctx.framework.descriptors(lesson.competence, lesson.level)}
    for o in lesson.objectives:
        bad = [d for d in o.descriptors if d not in valid]
        if bad or not o.descriptors:
            return CheckResult("objectives", False,
                               f"objective {o.id} cites {bad or 'nothing'}; valid ids: {', '.join(sorted(valid))}")
    return CheckResult("objectives", True, f"{len(lesson.objectives)} objectives cite real descriptors")


def check_quiz(lesson: Lesson, ctx: CheckContext) -> CheckResult:
    """One correct answer, distinct options, an explanation, and every objective checked."""
    for i, q in enumerate(lesson.quiz, 1):
        if not 0 <= q.answer < len(q.options):
            return CheckResult("quiz", False, f"question {i} has no valid correct answer")
        normalised = [o.strip().casefold() for o in q.options]
        if len(set(normalised)) != len(normalised) or not all(normalised):
            return CheckResult("quiz", False, f"question {i} has repeated or empty options")
        if not q.explanation.strip():
            return CheckResult("quiz", False, f"question {i} has no explanation")
    unchecked = [o.id for o in lesson.objectives if not any(q.objective == o.id for q in lesson.quiz)]
    if unchecked:
        return CheckResult("quiz", False, f"no question checks objective(s) {', '.join(unchecked)}")
    return CheckResult("quiz", True, f"{len(lesson.quiz)} questions, every objective checked")


#: A cited claim must have at least this share of its content words in the passage it cites: a quote
#: has all of them, a close paraphrase most; an invented sentence under a real id has few.
FAITHFUL_SHARE = 0.6
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
    """Every cited passage id was retrieved and is in the Sources list, and every claim that cites a
    passage quotes or closely paraphrases it (≥ FAITHFUL_SHARE of its content words are in it)."""
    retrieved = set(ctx.retrieved)
    cited = lesson.cited_source_ids() + [s.id for s in lesson.sources]
    forged = sorted({c for c in cited if c not in retrieved})
    if forged:
        return CheckResult("citations", False, f"cites passages that were not retrieved: {', '.join(forged)}")
    listed = {s.id: s.text for s in lesson.sources}
    unlisted = [c for c in lesson.cited_source_ids() if c not in listed]
    if unlisted:
        return CheckResult("citations", False,
                           f"cites passages missing from the Sources list: {', '.join(unlisted)}; "
                           "list every cited passage under Sources")
    claims = [(f"key point {i}", k.text, k.sources) for i, k in enumerate(lesson.key_points, 1)]
    claims += [(f"step {i}", f"{s.action} {s.expect}", s.sources) for i, s in enumerate(lesson.steps, 1)]
    checked = 0
    for where, text, ids in claims:
        for pid in ids:
            share = supported_share(text, listed[pid])
            checked += 1
            if share < FAITHFUL_SHARE:
                return CheckResult("citations", False,
                                   f"{where} cites {pid} but only {share:.0%} of its words are in that passage "
                                   f"(at least {FAITHFUL_SHARE:.0%} needed): “{text[:60]}”; quote or closely "
                                   "paraphrase the passage, or cite nothing")
    return CheckResult("citations", True,
                       f"{len(set(cited))} cited, all retrieved and listed; {checked} cited claims match their passage")


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
        return CheckResult("links", False, f"links outside the allow-list: {', '.join(bad[:3])}; link only to "
                                           f"{', '.join(ctx.link_allow[:5])} (setting HOCVU_LINK_ALLOW)")
    return CheckResult("links", True, "no links outside the allow-list")


def check_markup(lesson: Lesson, ctx: CheckContext) -> CheckResult:
    """Plain text only: HTML tags, entities and Markdown markup would show up literally in the handout
    and slides (and as code on the page)."""
    for text in lesson.all_texts():
        if m := _MARKUP.search(text):
            return CheckResult("markup", False, f"markup {m.group()[:40]!r} in “{text[:60]}”; write plain text")
    return CheckResult("markup", True, "plain text, no HTML or Markdown")


#: Every check, by name, in the order they run: ``generator.registry.checks`` (entry-point group
#: ``hocvu.checks``), where the form checks above and the fitness checks (``fitness.py``) are registered.
CHECKS: Registry[Callable[[Lesson, CheckContext], CheckResult]] = registry.checks


def run_checks(lesson: Lesson, ctx: CheckContext) -> list[CheckResult]:
    """Run every check on ``lesson``."""
    return [check(lesson, ctx) for check in CHECKS.values()]


def draft_failures(draft: LessonDraft, req: DraftRequest, link_allow: list[str]) -> list[CheckResult]:
    """The checks a freshly drafted lesson fails (before it has an identity), so a model can be re-asked
    with their messages."""
    from generator.lesson import Provenance, SourceCitation

    cited = set(draft.cited_source_ids())  # listed as assembly will list them, so only the text is judged
    sources = [SourceCitation(id=p.id, title=p.title, file=p.file, page=p.page, text=p.text)
               for p in req.passages if p.id in cited]
    lesson = Lesson.assemble(draft, framework=req.framework.id, competence=req.competence.code,
                             level=req.level, group=req.group.id, language=req.lang, sources=sources,
                             provenance=Provenance(backend="-", model="-", prompt_hash="-", framework_hash="-",
                                                   group_hash="-", retrieved=[p.id for p in req.passages]))
    ctx = CheckContext(req.framework, req.group, link_allow, [p.id for p in req.passages])
    return [c for c in run_checks(lesson, ctx) if not c.passed]
