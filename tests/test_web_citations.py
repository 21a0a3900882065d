"""The review app's lesson page shows each cited claim beside the passage it cites, with the passage's
section and printed page."""

from __future__ import annotations

import re

from tests.support.web import MAIN, XSS, sign_in

pytest_plugins = ("tests.support.web",)


def test_each_cited_claim_is_shown_beside_its_passage(client) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, "rv1")
    html = client.get(f"/lessons/{XSS}").text
    claims = html.split('<ul class="claims">')[1].split("</ul>")[0]
    assert "Từng ý và đoạn nguồn của nó" in html
    assert re.search(r"<strong>Điều cần nhớ 1:</strong>", claims)
    assert "<blockquote>Đoạn trích &lt;img" in claims  # the passage, escaped
    assert "· Mật khẩu · tr. 3</footer>" in claims  # its section and page
    assert "so-tay.pdf · Mật khẩu · tr. 3" in html  # and in the Sources list
    english = client.get(f"/lessons/{XSS}?lang=en").text
    assert "Each claim beside its passage" in english and "<strong>Key points 1:</strong>" in english


def test_a_lesson_without_sources_shows_no_claims_list(client) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, "rv1")
    html = client.get(f"/lessons/{MAIN}").text
    assert '<ul class="claims">' not in html and 'id="sources-unused"' not in html


def test_a_lesson_drafted_with_sources_it_could_not_use_says_so_in_its_checks_and_page(  # type: ignore[no-untyped-def]
    web_ws, library, monkeypatch
) -> None:
    """A Vietnamese lesson drafted offline with --sources over English-only sources cites nothing: its
    checks fail 'use of sources' and the review app's lesson page says why, beside the sources."""
    from pathlib import Path

    from fastapi.testclient import TestClient

    from generator.config import load_settings
    from generator.frameworks import Library
    from generator.pipeline import draft_one
    from generator.retrieval.store import make_store
    from tests.support.web import make_app

    monkeypatch.setenv("HOCVU_EMBEDDER", "hashing")
    settings = load_settings(web_ws)
    corpus = Path(__file__).resolve().parent / "corpus"
    names = ("ai-assistants.txt", "fake-news.txt", "online-shopping.html", "strong-passwords.md")
    english = [corpus / n for n in names]
    assert make_store(settings).add(english, collection="english").passages
    drafted = draft_one(Library(web_ws), settings, framework="vn-dcf-2025", competence="4.2", level=1,
                        group="farmers", lang="vi", backend="offline", collection="english", author="ed").drafted
    n = len(drafted.lesson.provenance.retrieved)
    assert n and not drafted.lesson.cited_source_ids()
    grounded = next(c for c in drafted.checks if c.name == "grounded")
    assert not grounded.passed and f"none of the {n} retrieved passages could be used" in grounded.message

    app = make_app(web_ws, library=library)
    try:
        with TestClient(app, follow_redirects=False) as client:
            sign_in(client, "rv1")
            html = client.get(f"/lessons/{drafted.lesson.id}").text
            english_html = client.get(f"/lessons/{drafted.lesson.id}?lang=en").text
    finally:
        app.state.web.store.close()
    notice = html.split('id="sources-unused">')[1].split("</p>")[0]
    assert notice == (f"Bài được soạn với nguồn nhưng không dùng được đoạn nào trong {n} đoạn tìm thấy "
                      "(không đoạn nào cùng ngôn ngữ với bài).")
    checks = html.split('<ul class="checks">')[1].split("</ul>")[0]
    assert re.search(r'<li class="fail">.*?<strong>[^<]+</strong>.*?không dùng được đoạn nào trong '
                     rf"{n} đoạn tìm thấy", checks, re.S)
    assert f"none of the {n} passages found could be used" in english_html
