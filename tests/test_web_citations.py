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
