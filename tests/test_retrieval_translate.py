"""Cross-lingual search: the question put into the sources' language (by the model, over real HTTP to a
loopback chat-completions server) and fused with the search in its own language."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from generator.errors import BackendError
from generator.retrieval.embedders import HashingEmbedder
from generator.retrieval.store import SourceStore
from generator.retrieval.translate import ChatTranslator, make_translator

CORPUS = Path(__file__).parent / "corpus"
ASKED = "Làm sao tạo mật khẩu mạnh mà dễ nhớ?"
TRANSLATION = "How do I make a strong password that is easy to remember? passphrase"


@pytest.fixture
def chat_server() -> Iterator[dict[str, Any]]:
    """A loopback chat-completions server answering TRANSLATION (or 500 when told); records requests."""
    state: dict[str, Any] = {"requests": [], "fail": False}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:  # noqa: N802
            body = json.loads(self.rfile.read(int(self.headers["content-length"])))
            state["requests"].append(body)
            status, payload = (500, {"error": {"message": "down", "type": "server_error"}}) if state["fail"] else (
                200, {"id": "c1", "object": "chat.completion", "created": 0, "model": body["model"],
                      "choices": [{"index": 0, "finish_reason": "stop",
                                   "message": {"role": "assistant", "content": f"“{TRANSLATION}”"}}],
                      "usage": {"prompt_tokens": 30, "completion_tokens": 12, "total_tokens": 42}})
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    state["url"] = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    yield state
    httpd.shutdown()
    httpd.server_close()


def _chat(url: str) -> Any:
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(model="test-model", api_key="sk-test", base_url=url, max_retries=0, timeout=5)  # type: ignore[arg-type]


def test_the_model_translates_and_the_translation_finds_the_english_passage(chat_server, workspace: Path) -> None:  # type: ignore[no-untyped-def]
    store = SourceStore(workspace / ".hocvu", HashingEmbedder())
    store.add([CORPUS])
    translator = ChatTranslator(_chat(chat_server["url"]))

    def right(hits: list[Any]) -> bool:
        return any(p.file == "strong-passwords.md" and "passphrase" in p.text for p in hits)

    assert not right(store.search(ASKED, k=3))  # hashed Vietnamese words cannot find English text
    hits = store.search(ASKED, k=3, translator=translator)
    assert right(hits)
    request = chat_server["requests"][-1]
    assert "from Vietnamese to English" in request["messages"][0]["content"]
    assert request["messages"][1]["content"] == ASKED
    assert len(chat_server["requests"]) == 1  # the corpus is vi+en: one other language, one request


def test_a_failed_translation_is_our_error_and_offline_has_no_translator(chat_server) -> None:  # type: ignore[no-untyped-def]
    chat_server["fail"] = True
    with pytest.raises(BackendError, match="could not translate the query"):
        ChatTranslator(_chat(chat_server["url"])).translate(ASKED, "vi", "en")

    class Offline:
        name = "offline"

    from generator.retrieval.terms import TermTranslator

    assert isinstance(make_translator(Offline()), TermTranslator)  # no chat model: the offline term table


PAIRS = [
    ("Đặt mật khẩu dài cho tài khoản.", "Set a long password for the account."),
    ("Không ai được biết mật khẩu của bạn.", "Nobody may know your password."),
    ("Đổi mật khẩu sau khi bị lộ.", "Change the password after a leak."),
    ("Bật xác thực hai bước cho Zalo.", "Turn on two-step verification for Zalo."),
    ("Xác thực hai bước cần mã thứ hai.", "Two-step verification needs a second code."),
    ("Tắt xác thực hai bước là nguy hiểm.", "Turning off two-step verification is risky."),
    ("Tài khoản ngân hàng cần mật khẩu.", "A bank account needs a password."),
    ("Ngân hàng không hỏi mã OTP.", "The bank never asks for the OTP code."),
    ("Gọi ngân hàng khi mất thẻ.", "Call the bank when you lose the card."),
] + [(f"Câu số {i} là gì?", f"What is sentence {i}?") for i in range(200)]  # makes the words above specific


def test_the_term_table_translates_known_phrases_longest_first_with_their_diacritics() -> None:
    from generator.retrieval.terms import TermTable

    table = TermTable(PAIRS)
    assert table.terms("Xác thực hai bước là gì?", "vi", "en") == ["two step"]  # English phrases: up to two words
    assert table.terms("Quên mật khẩu ngân hàng", "vi", "en") == ["password", "bank"]
    # English to Vietnamese gives the words as the texts write them, accents and all
    assert table.terms("I forgot my bank password", "en", "vi") == ["ngân hàng", "mật khẩu"]
    # question words are neither looked up nor given; unknown words give nothing
    assert table.terms("Là gì thế nào?", "vi", "en") == []
    assert table.terms("Con mèo của tôi", "vi", "en") == []
    assert table.terms("mật khẩu", "vi", "vi") == []


def test_term_translations_join_the_search_as_a_keyword_ranking_in_the_sources_language(workspace: Path) -> None:
    from generator.retrieval.terms import TermTable, TermTranslator

    store = SourceStore(workspace / ".hocvu", HashingEmbedder())
    store.add([CORPUS])
    translator = TermTranslator(table=TermTable(PAIRS))
    assert translator.terms_only and translator.translate("Xác thực hai bước là gì?", "vi", "en")

    def rank(hits: list[Any]) -> int | None:
        return next((i for i, p in enumerate(hits) if "Two-step verification asks" in p.text), None)

    assert rank(store.search("Xác thực hai bước là gì?", k=3)) is None
    assert rank(store.search("Xác thực hai bước là gì?", k=3, translator=translator)) is not None


def test_the_aligned_texts_are_cached_and_read_back_until_the_content_changes(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from generator.retrieval import terms

    class Library:
        signature = "content v1"

        def framework_ids(self) -> set[str]:
            return set()

        def content_frameworks(self) -> list[str]:
            return []

        def source_signatures(self, frameworks: list[str]) -> list[str]:
            return [self.signature]

    built: list[int] = []
    monkeypatch.setattr(terms, "bilingual_pairs", lambda lib: built.append(1) or list(PAIRS[:3]))
    lib, cache = Library(), tmp_path / "cache"
    assert terms.load_pairs(lib, cache) == PAIRS[:3] and len(built) == 1
    assert [p.name.startswith("term-pairs-") for p in cache.iterdir()] == [True]
    assert terms.load_pairs(lib, cache) == PAIRS[:3] and len(built) == 1  # read back, not rebuilt
    lib.signature = "content v2"  # a content file changed: built again, the old file replaced
    assert terms.load_pairs(lib, cache) == PAIRS[:3] and len(built) == 2
    assert len(list(cache.iterdir())) == 1
