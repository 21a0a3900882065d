"""Hostile input never gets a 5xx: every route of the review app and the API walked with huge, negative and
zero numbers, path tricks, lone surrogates and the wrong content types (Hypothesis draws the combinations)."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.web import MAIN, csrf_of, sign_in

pytest_plugins = ("tests.support.web",)

HOSTILE = ["0", "-1", "99999999999999999999999", "2147483648", "1e9", "%00", "..", "%2e%2e%2f", "%ED%A0%80",
           "%F0%9F%98%80", "a" * 300, MAIN, "1", "null"]
BODIES = [
    ("application/json", '{"version": 99999999999999999999999, "comment": "x"}'),
    ("application/json", '{"version": 1, "comment": "\\ud800"}'),
    ("application/json", '{"version": -5, "expected_version": 1e400}'),
    ("application/json", '{"text": "\\udfff", "section": "\\ud800"}'),
    ("application/json", "[" * 5000),
    ("application/json", '"just a string"'),
    ("text/plain", "version=1&comment=hello"),
    ("application/x-www-form-urlencoded", "version=99999999999999999999999&expected_version=-1&comment=%ED%A0%80"),
    ("application/x-www-form-urlencoded", "page=99999999999999999999999&level=99999999999999999999999"),
    ("multipart/form-data; boundary=x", "--x--"),
    ("", ""),
]
QUERIES = ["", "?level=99999999999999999999999", "?page=-1", "?version=0", "?a=99999999999999999999999&b=0",
           "?q=%ED%A0%80", "?level=abc&status=%00", "?group=" + "g" * 500]


def _flat(routes):  # type: ignore[no-untyped-def]
    for r in routes:
        inner = getattr(r, "original_router", None)  # FastAPI 0.165 keeps included routers whole
        yield from _flat(inner.routes) if inner is not None else [r]


def _routes(app):  # type: ignore[no-untyped-def]
    out = []
    for r in _flat(app.routes):
        path = getattr(r, "path", "")
        if path.startswith(("/static", "/docs-assets")) or not getattr(r, "methods", None):
            continue
        for m in r.methods - {"HEAD", "OPTIONS"}:
            out.append((m, path))
    return sorted(out)


def _fill(path: str, values: list[str]) -> str:
    it = iter(values)
    return re.sub(r"\{[^}]+\}", lambda _m: next(it, "1"), path)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_no_route_answers_hostile_input_with_a_5xx(app, client, data):
    if getattr(app.state, "csrf", None) is None:
        app.state.csrf = sign_in(client, "boss")
        from generator.review.tokens import issue_token

        app.state.token = issue_token(app.state.web.store, "boss")
    method, path = data.draw(st.sampled_from(_routes(app)))
    url = _fill(path, data.draw(st.lists(st.sampled_from(HOSTILE), min_size=3, max_size=3)))
    url += data.draw(st.sampled_from(QUERIES))
    headers = {"Authorization": f"Bearer {app.state.token}"} if path.startswith("/api") else {}
    kw = {}
    if method in ("POST", "PUT", "PATCH", "DELETE"):
        ctype, body = data.draw(st.sampled_from(BODIES))
        if ctype.startswith("application/x-www-form-urlencoded") and not path.startswith("/api"):
            body += f"&csrf_token={app.state.csrf}"
        if ctype:
            headers["Content-Type"] = ctype
        kw["content"] = body.encode("utf-8", "surrogatepass")
    r = client.request(method, url, headers=headers, **kw)
    assert r.status_code < 500, (method, url, kw.get("content", b"")[:80], r.status_code, r.text[:300])


def test_version_zero_is_not_the_current_version(app, client):
    sign_in(client, "rv1")
    assert client.get(f"/lessons/{MAIN}?version=0").status_code in (404, 422)
    from generator.review.tokens import issue_token

    token = issue_token(app.state.web.store, "rv1")
    r = client.get(f"/api/lessons/{MAIN}/versions/0", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code in (404, 422)


def test_csrf_of_login_still_works(client):
    assert csrf_of(client)


def test_the_walk_reaches_every_router(app):
    paths = {p for _, p in _routes(app)}
    assert {"/lessons/{lesson_id}/approve", "/api/lessons/{lesson_id}/versions/{number}", "/users", "/login"} <= paths
