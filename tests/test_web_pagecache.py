"""Kept list pages: sent again while nothing they show changed, with an ETag a browser can ask with (304);
never kept across users, sessions, messages, decisions or a replaced library; the user is still checked."""

from __future__ import annotations

import re

from generator.web.pagecache import KeptPage, PageCache
from tests.support.web import OTHER, row_version, sign_in

pytest_plugins = ("tests.support.web",)


def _renders(monkeypatch) -> list[str]:  # type: ignore[no-untyped-def]
    """The templates the list pages render from now on (not the sign-in form)."""
    from generator.web import pages

    seen: list[str] = []
    real = pages.render

    def counting(request, template, *a, **kw):  # type: ignore[no-untyped-def]
        if template != "login.html":
            seen.append(template)
        return real(request, template, *a, **kw)

    monkeypatch.setattr(pages, "render", counting)
    return seen


def test_a_list_page_is_sent_again_until_a_decision_changes_it(app, client, monkeypatch):
    csrf = sign_in(client, "rv1")
    renders = _renders(monkeypatch)
    first = client.get("/queue?status=in_review")
    assert first.status_code == 200 and first.headers["cache-control"] == "private, no-cache"
    etag = first.headers["etag"]
    again = client.get("/queue?status=in_review")
    assert again.text == first.text and again.headers["etag"] == etag and renders == ["queue.html"]
    not_modified = client.get("/queue?status=in_review", headers={"If-None-Match": etag})
    assert not_modified.status_code == 304 and not_modified.content == b"" and renders == ["queue.html"]
    assert f'value="{csrf}"' in first.text  # the sign-out form carries this session's token

    rv, n = row_version(app, OTHER)
    assert client.post(f"/lessons/{OTHER}/approve",
                       data={"csrf_token": csrf, "expected_version": rv, "version": n}).status_code == 303
    client.get(f"/lessons/{OTHER}")  # the page that shows the "approved" message
    after = client.get("/queue?status=in_review", headers={"If-None-Match": etag})
    assert after.status_code == 200 and after.headers["etag"] != etag
    assert OTHER in first.text and OTHER not in after.text and renders == ["queue.html", "queue.html"]


def test_pages_are_kept_per_user_and_never_with_a_message(app, client, monkeypatch):
    renders = _renders(monkeypatch)
    sign_in(client, "rv1")  # sign_in reads "/" once: the page with the "signed in" message, not kept
    rv1 = client.get("/")
    assert "Chờ duyệt" in rv1.text and 'class="flash' not in rv1.text
    assert renders == ["dashboard.html", "dashboard.html"]
    sign_in(client, "ed")
    ed = client.get("/")
    assert renders.count("dashboard.html") == 4  # another user: rendered for them
    assert 'id="h-waiting"' in rv1.text and 'id="h-waiting"' not in ed.text


def test_a_user_disabled_elsewhere_is_refused_even_a_kept_page(app, client):
    sign_in(client, "rv1")
    assert client.get("/queue").status_code == 200
    app.state.web.store.set_disabled("rv1", True)
    r = client.get("/queue")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_a_replaced_library_renders_the_pages_anew(app, client, monkeypatch):
    from generator.frameworks import Library

    sign_in(client, "rv1")
    renders = _renders(monkeypatch)
    client.get("/coverage")
    client.get("/coverage")
    ctx = app.state.web
    ctx.replace_library(Library(ctx.settings.workspace))  # what saving a group profile does
    client.get("/coverage")
    assert renders == ["coverage.html", "coverage.html"]


def test_the_api_list_is_kept_once_for_every_token_and_sent_gzipped_or_plain(app, client):
    from generator.review.tokens import issue_token

    store = app.state.web.store
    mine, theirs = ({"Authorization": f"Bearer {issue_token(store, name)}"} for name in ("rv1", "boss"))
    first = client.get("/api/lessons?limit=2", headers=mine)
    assert first.status_code == 200 and first.headers["x-total-count"] == "5" and 'rel="next"' in first.headers["link"]
    assert [x["id"] for x in first.json()] == sorted(x["id"] for x in first.json())
    plain = client.get("/api/lessons?limit=2", headers={**theirs, "Accept-Encoding": "identity"})
    assert plain.json() == first.json() and "content-encoding" not in plain.headers
    assert plain.headers["etag"] == first.headers["etag"]
    assert client.get("/api/lessons?limit=2", headers={**theirs, "If-None-Match": first.headers["etag"]}
                      ).status_code == 304
    assert client.get("/api/lessons?limit=2").status_code == 401  # no token: no kept answer either
    store.approve(OTHER, "rv1")
    assert client.get("/api/lessons?limit=2", headers=mine).json() != first.json()


def test_a_big_page_is_sent_gzipped_and_its_etag_is_its_bytes(client):
    sign_in(client, "rv1")
    raw = client.get("/coverage", headers={"Accept-Encoding": "gzip"})
    assert raw.headers["content-encoding"] == "gzip"
    plain = client.get("/coverage", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.text == raw.text
    assert re.fullmatch(r'"[0-9a-f]{24}"', raw.headers["etag"])


def test_the_cache_keeps_the_newest_pages_within_its_byte_budget():
    cache = PageCache(size=10, budget=2500)
    for k in range(4):
        cache.put((k,), KeptPage(0.0, 200, "text/html", (), bytes(1000), False, f'"{k}"'))
    assert [cache.get((k,), 0.5) is not None for k in range(4)] == [False, False, True, True]
    assert cache.get((3,), 10.0) is None  # older than the lists' bound: asked afresh


def test_a_group_saved_by_another_process_shows_without_a_restart(app, client, monkeypatch, web_ws):
    from generator.web import context
    from tests.support.drafts import REPO

    sign_in(client, "rv1")
    assert "Người cao tuổi" in client.get("/queue").text
    monkeypatch.setattr(context, "LIBRARY_CHECK", 0.0)
    src = (REPO / "frameworks/groups/elderly.yaml").read_text(encoding="utf-8")
    (web_ws / "frameworks/groups").mkdir(parents=True, exist_ok=True)
    (web_ws / "frameworks/groups/elderly.yaml").write_text(  # as the other process's group form writes it
        src.replace('vi: "Người cao tuổi"', 'vi: "Người lớn tuổi"'), encoding="utf-8")
    page = client.get("/queue").text
    assert "Người lớn tuổi" in page and "Người cao tuổi" not in page
