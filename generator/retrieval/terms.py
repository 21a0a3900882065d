"""Offline query translation: the terms of a question put into the other language, learned from the
content library's own parallel texts.

The offline content library writes every competence in Vietnamese and English item by item (titles,
steps, tips, quiz, glossary…: ~29,000 aligned text pairs), and the frameworks name every domain and
competence in both. That is a parallel corpus. For each word or phrase of a question (1–3 syllables in
Vietnamese, 1–2 words in English) the table finds the phrase of the other language that most often
stands in the same aligned pairs (the Dice coefficient ``2·both / (a + b)``), and keeps it only when
the association is strong and both sides are specific (not in more than a few percent of the pairs).
The phrases are taken greedily, longest first, so "mật khẩu" gives "password" and is not also read as
"mật" and "khẩu".

This is not a translation, only its key terms ("Xác thực hai bước là gì?" → "authentication two step");
so ``SourceStore.search`` fuses its rankings with a lower weight than the question's own. A first try
(a word table learned by co-occurrence from the frameworks' ~260 bilingual texts alone, fused like a real
translation) lowered cross-lingual recall@3 from 0.56 to 0.44: too few texts for the statistics, single
words only, and full weight. BENCHMARKS.md ("Retrieval") has the figures of this one.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from generator.retrieval.keyword import fold

__all__ = ["TermTable", "TermTranslator", "bilingual_pairs", "load_pairs"]

#: Changes when what ``bilingual_pairs`` gives changes, so older cache files are not read.
CACHE_VERSION = 1

#: Longest phrase looked up, in words, per language (a Vietnamese word is often two syllables).
MAX_WORDS = {"vi": 3, "en": 2}
#: A phrase pair is kept when its Dice coefficient is at least this…
MIN_DICE = 0.5
#: …both phrases occur in at least this many pairs (fewer is chance)…
MIN_PAIRS = 3
#: …and neither occurs in more than this share of the pairs (function words: "là", "the", "how do").
MAX_SHARE = 0.02
_WORD = re.compile(r"\w+")
#: Question and function words (folded): a phrase made only of these is neither looked up nor given, so
#: "How do I…" does not bring "thế nào" and "của tôi" into a search, nor "về bị" an English word.
STOPWORDS = {
    "vi": set(
        "ai bao bi biet cach cai cho chua co cua da dang de den di duoc gi hay khi khong la lam lo ma minh mot "
        "nao neu nen nhu nhung nua o phai ra roi sao se tai the thi toi tu va vao ve voi".split()
    ),
    "en": set(
        "a an and are as at be by can could did do does for from get has have how i if in into is it its me "
        "my of on or should so that the their there this to up was what when where whether which who why "
        "will with would you your".split()
    ),
}


def _words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def _surface(text: str) -> list[str]:
    """The words of ``text`` lower-cased with their diacritics, one for each of ``_words(text)``."""
    import unicodedata

    return _WORD.findall(unicodedata.normalize("NFC", text).lower())


class TermTable:
    """Phrase translations between Vietnamese and English from aligned (vi, en) text pairs.

    Only single words are indexed (building takes about a second for the shipped library); a phrase's
    pairs are the pairs holding all its words, checked for the phrase itself when it is looked up.
    """

    def __init__(self, pairs: Sequence[tuple[str, str]]) -> None:
        self.size = len(pairs)
        self._text: dict[str, list[str]] = {"vi": [], "en": []}  # folded, space-padded, per pair
        self._where: dict[str, dict[str, set[int]]] = {"vi": defaultdict(set), "en": defaultdict(set)}
        for i, (vi, en) in enumerate(pairs):
            for lang, text in (("vi", vi), ("en", en)):
                words = _words(text)
                self._text[lang].append(f" {' '.join(words)} ")
                for w in words:
                    self._where[lang][w].add(i)
        self._cache: dict[tuple[str, str], frozenset[int]] = {}
        self._pairs = pairs

    def _holding(self, lang: str, phrase: str) -> frozenset[int]:
        """The pairs whose ``lang`` text holds the folded ``phrase``."""
        key = (lang, phrase)
        if key not in self._cache:
            words = phrase.split()
            found = set.intersection(*(self._where[lang].get(w, set()) for w in words))
            if len(words) > 1:
                found = {i for i in found if f" {phrase} " in self._text[lang][i]}
            self._cache[key] = frozenset(found)
        return self._cache[key]

    def _specific(self, lang: str, phrase: str) -> int:
        """How many pairs hold ``phrase`` when it is specific enough to translate, else 0."""
        if all(w in STOPWORDS[lang] for w in phrase.split()):
            return 0
        n = len(self._holding(lang, phrase))
        return n if MIN_PAIRS <= n <= MAX_SHARE * self.size else 0

    def lookup(self, phrase: str, source: str, target: str) -> tuple[str, float] | None:
        """The best ``target`` phrase for the folded ``phrase`` and its Dice coefficient, or None."""
        n = self._specific(source, phrase)
        if not n:
            return None
        longest = MAX_WORDS[target]
        together: Counter[str] = Counter()
        for i in self._holding(source, phrase):
            words = self._text[target][i].split()
            together.update({" ".join(words[j : j + k]) for k in range(1, longest + 1)
                             for j in range(len(words) - k + 1)})
        best: tuple[float, int, str] | None = None
        for other, both in together.items():
            # Dice ≥ MIN_DICE needs both ≥ n·MIN_DICE / (2 − MIN_DICE): skip the rest before counting them
            if both * (2 - MIN_DICE) < MIN_DICE * n:
                continue
            m = self._specific(target, other)
            if m:
                # ties go to the longer phrase ("two step" over "step"), then the alphabet (stable)
                key = (2 * both / (n + m), len(other.split()), other)
                best = key if best is None or key > best else best
        if best is None or best[0] < MIN_DICE:
            return None
        return self._written(target, best[2]), best[0]

    def _written(self, lang: str, phrase: str) -> str:
        """The folded ``phrase`` as the texts write it most often ("mat khau" → "mật khẩu")."""
        size = len(phrase.split())
        seen: Counter[str] = Counter()
        for i in sorted(self._holding(lang, phrase))[:50]:
            text = self._pairs[i][0 if lang == "vi" else 1]
            words, written = _words(text), _surface(text)
            if len(words) != len(written):
                continue
            seen.update(" ".join(written[j : j + size]) for j in range(len(words) - size + 1)
                        if " ".join(words[j : j + size]) == phrase)
        return seen.most_common(1)[0][0] if seen else phrase

    def terms(self, text: str, source: str, target: str) -> list[str]:
        """The ``target`` terms of ``text``: phrases translated greedily, longest first, without repeats."""
        if source not in MAX_WORDS or target not in MAX_WORDS or source == target:
            return []
        words = _WORD.findall(fold(text))
        out: list[str] = []
        i = 0
        while i < len(words):
            for n in range(min(MAX_WORDS[source], len(words) - i), 0, -1):
                found = self.lookup(" ".join(words[i : i + n]), source, target)
                if found:
                    if found[0] not in out:
                        out.append(found[0])
                    i += n
                    break
            else:
                i += 1
        return out


def bilingual_pairs(library: Any) -> list[tuple[str, str]]:
    """Aligned (vi, en) texts of a ``frameworks.Library``: domain and competence names, and every item of
    the offline content whose two language blocks line up item for item."""
    from generator.content import _texts

    out: list[tuple[str, str]] = []
    for fid in sorted(library.framework_ids()):
        fw = library.framework(fid)
        out += [(x.name.vi, x.name.en) for x in (*fw.domains, *fw.competences) if x.name.vi and x.name.en]
    for fid in library.content_frameworks():
        for code in library.content_codes(fid):
            entry = library.content(fid, code)
            out += [(a.term, b.term) for a, b in _aligned(entry.vi.glossary, entry.en.glossary)]
            vi, en = _texts(entry.vi), _texts(entry.en)
            # an entry whose blocks differ in shape (an extra tip in one language) is left out whole:
            # pairing by position would then pair the wrong texts
            if len(vi) == len(en) and all(a[2].split()[0] == b[2].split()[0] for a, b in zip(vi, en, strict=True)):
                out += [(a[0], b[0]) for a, b in zip(vi, en, strict=True)]
    return out


def _aligned(a: Sequence[Any], b: Sequence[Any]) -> Iterable[tuple[Any, Any]]:
    return zip(a, b, strict=True) if len(a) == len(b) else ()


def _signature(library: Any) -> str:
    """A short hash of the files the pairs come from (sizes and times: nothing is parsed)."""
    frameworks = sorted(set(library.framework_ids()) | set(library.content_frameworks()))
    signature = "\n".join([f"terms {CACHE_VERSION}", *library.source_signatures(frameworks)])
    return hashlib.sha256(signature.encode()).hexdigest()[:16]


#: Tables built in this process, by signature: a server or a test suite builds each once.
_TABLES: dict[str, TermTable] = {}


def load_pairs(library: Any, cache_dir: Path | None = None) -> list[tuple[str, str]]:
    """``bilingual_pairs(library)``, kept in ``cache_dir`` (JSON, named by the signatures of the files
    they come from) so that only the first search after a content change reads the whole library."""
    if cache_dir is None:
        return bilingual_pairs(library)
    path = cache_dir / f"term-pairs-{_signature(library)}.json"
    try:
        return [(vi, en) for vi, en in json.loads(path.read_text(encoding="utf-8"))]
    except (OSError, ValueError, TypeError):
        pass  # not there yet, or unreadable: build it again
    pairs = bilingual_pairs(library)
    from generator.fsutil import write_text_atomic

    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        for old in cache_dir.glob("term-pairs-*.json"):
            old.unlink(missing_ok=True)
        write_text_atomic(path, json.dumps(pairs, ensure_ascii=False))
    except OSError:  # DiskFullError is one too
        pass  # a read-only or full workspace searches all the same, only slower
    return pairs


class TermTranslator:
    """The offline ``QueryTranslator``: key terms through a ``TermTable`` built on first use from the
    framework library (its text pairs cached in ``cache_dir``; about a second from the cache)."""

    name = "terms"
    #: Key terms, not a sentence: the search adds their keyword ranking only (see ``SourceStore.search``).
    terms_only = True
    #: Weight of that ranking in the fusion, as a model's translation has (measured: BENCHMARKS.md).
    weight = 1.0

    def __init__(self, library: Any = None, cache_dir: Path | None = None, table: TermTable | None = None) -> None:
        self.library, self.cache_dir, self._table = library, cache_dir, table

    @property
    def table(self) -> TermTable:
        """The term table, built from the library on first use."""
        if self._table is None:
            if self.library is None:
                from generator.frameworks import Library

                self.library = Library()
            key = _signature(self.library)
            if key not in _TABLES:
                _TABLES[key] = TermTable(load_pairs(self.library, self.cache_dir))
            self._table = _TABLES[key]
        return self._table

    def translate(self, text: str, source: str, target: str) -> str | None:
        """The key terms of ``text`` in ``target``, space-separated, or None when none is known."""
        return " ".join(self.table.terms(text, source, target)) or None
