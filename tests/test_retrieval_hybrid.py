"""Hybrid search: BM25 keyword search (folded Vietnamese) fused with the vector search by reciprocal rank."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.errors import RetrievalError
from generator.retrieval.embedders import HashingEmbedder
from generator.retrieval.keyword import KeywordIndex, fold, reciprocal_rank_fusion, tokens
from generator.retrieval.store import SourceStore

CORPUS = Path(__file__).parent / "corpus"


def test_tokens_fold_vietnamese_diacritics() -> None:
    assert fold("Mật khẩu ĐỔI mới") == "mat khau doi moi"
    assert tokens("Không chia sẻ mã OTP!") == ["khong", "chia", "se", "ma", "otp"]


def test_bm25_finds_an_unaccented_query_and_skips_non_matches() -> None:
    index = KeywordIndex.build(["a", "b", "c"], ["Đổi mật khẩu ngân hàng", "Sao lưu ảnh", "Mật khẩu Wi-Fi ở nhà"])
    hits = index.search("doi mat khau ngan hang", 5)
    assert [i for i, _ in hits][:1] == ["a"] and "b" not in {i for i, _ in hits}
    assert index.search("zzz", 5) == [] and KeywordIndex.build([], []).search("mật khẩu", 3) == []


def test_reciprocal_rank_fusion_rewards_agreement() -> None:
    fused = reciprocal_rank_fusion([["x", "y", "z"], ["y", "w"]])
    assert [i for i, _ in fused] == ["y", "x", "w", "z"]
    assert fused[0][1] == pytest.approx(1 / 62 + 1 / 61)


def test_hybrid_search_puts_the_keyword_match_first(workspace: Path) -> None:
    # The hashing embedder's vectors barely separate these passages; the rare code word decides.
    store = SourceStore(workspace / ".hocvu", HashingEmbedder())
    store.add([CORPUS])
    query = "ứng dụng Family Link"
    vector = store.search(query, k=3, mode="vector")
    hybrid = store.search(query, k=3)
    keyword = store.search(query, k=3, mode="keyword")
    assert "Family Link" in keyword[0].text and keyword[0].file == "tre-em-tren-mang.md"
    assert "Family Link" not in vector[0].text and "Family Link" in hybrid[0].text  # the keywords lift it
    assert hybrid[0].score is not None and hybrid[0].score > 0 and vector[0].score is not None
    with pytest.raises(RetrievalError, match="unknown search mode"):
        store.search(query, mode="fuzzy")  # type: ignore[arg-type]


def test_hybrid_leaves_a_cross_lingual_answer_to_the_vectors(workspace: Path) -> None:
    from generator.retrieval.store import _crosses_languages

    assert _crosses_languages("How do I make a strong password?", "Hãy đặt mật khẩu dài, khó đoán và dễ nhớ.")
    assert not _crosses_languages("Làm sao tạo mật khẩu mạnh?", "Hãy đặt mật khẩu dài, khó đoán và dễ nhớ.")
