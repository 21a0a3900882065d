"""The JSON API with bearer tokens, the token module and its CLI command, and ``hocvu serve``."""

from __future__ import annotations

import pytest

from tests.support.web import BACK, DONE, MAIN, OTHER, XSS

pytest_plugins = ("tests.support.web",)


@pytest.fixture
def tokens(app) -> dict[str, str]:
    """An API token for each seeded user."""
    from generator.review.tokens import issue_token

    store = app.state.web.store
    return {u.name: issue_token(store, u.name) for u in store.list_users()}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# -- authentication -------------------------------------------------------------------------------
def test_api_refuses_a_missing_or_wrong_token(client, tokens):
    for headers in ({}, bearer("hocvu_not-a-real-token"), bearer(""), {"Authorization": "Basic cnYxOng="},
                    bearer(tokens["rv1"][:-2]), {"Authorization": tokens["rv1"]}):
        for method, path in (("GET", "/api/lessons"), ("GET", f"/api/lessons/{MAIN}"),
                             ("POST", f"/api/lessons/{MAIN}/approve"), ("GET", "/api/coverage")):
            r = client.request(method, path, headers=headers)
            assert r.status_code == 401, (headers, path, r.status_code)
            assert r.headers["www-authenticate"] == "Bearer" and r.json()["error"] == "unauthorized"
    assert client.get("/api/me", headers=bearer(tokens["rv1"])).json() == {"name": "rv1", "role": "reviewer"}


def test_api_ignores_the_session_cookie(client, tokens):
    from tests.support.web import sign_in

    sign_in(client, "boss")
    assert client.get("/api/lessons").status_code == 401  # cookies are not API credentials (no CSRF there)


def test_a_new_token_replaces_the_old_and_revoking_ends_it(app, client, tokens):
    from generator.review.tokens import issue_token, revoke_token

    store = app.state.web.store
    old = tokens["rv1"]
    new = issue_token(store, "rv1")
    assert new != old and new.startswith("hocvu_")
    assert client.get("/api/me", headers=bearer(old)).status_code == 401
    assert client.get("/api/me", headers=bearer(new)).status_code == 200
    revoke_token(store, "rv1")
    assert client.get("/api/me", headers=bearer(new)).status_code == 401


def test_tokens_are_stored_only_as_a_hash(app, tokens):
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from generator.review.models import UserRow
    from generator.review.tokens import token_digest

    with Session(app.state.web.store.engine) as s:
        stored = dict(s.execute(select(UserRow.name, UserRow.token_hash)).all())
    assert stored["rv1"] == token_digest(tokens["rv1"]) and tokens["rv1"] not in stored.values()


def test_only_admins_issue_tokens_for_others(app):
    from generator.errors import PermissionError_
    from generator.review.tokens import issue_token, user_for_token

    store = app.state.web.store
    with pytest.raises(PermissionError_):
        issue_token(store, "rv2", by="rv1")
    assert user_for_token(store, issue_token(store, "rv1", by="rv1")).name == "rv1"
    assert user_for_token(store, issue_token(store, "rv2", by="boss")).name == "rv2"


# -- reads ----------------------------------------------------------------------------------------
def test_api_reads(client, tokens):
    h = bearer(tokens["ed"])
    lessons = client.get("/api/lessons", headers=h).json()
    assert {x["id"] for x in lessons} == {MAIN, OTHER, XSS, DONE, BACK}
    assert [x["id"] for x in client.get("/api/lessons?status=approved", headers=h).json()] == [DONE]
    assert [x["id"] for x in client.get("/api/lessons?group=farmers&level=1", headers=h).json()] == [OTHER]
    assert [x["id"] for x in client.get("/api/lessons?q=script", headers=h).json()] == [XSS]
    detail = client.get(f"/api/lessons/{MAIN}", headers=h).json()
    assert detail["lesson"]["status"] == "in_review" and detail["version"]["lesson"]["id"] == MAIN
    names = {a["name"] for a in detail["version"]["artifacts"]}
    assert names >= {"index.html", "narration.mp3", "lesson.json"}
    assert all(c["passed"] for c in detail["version"]["checks"])
    audio = next(a for a in detail["version"]["artifacts"] if a["name"] == "narration.mp3")
    r = client.get(audio["url"], headers=h)
    assert r.status_code == 200 and r.headers["content-type"] == "audio/mpeg"
    sneaky = audio["url"].replace("narration.mp3", "..%2Fhocvu.db")
    assert client.get(sneaky, headers=h).status_code in (404, 422)
    back = client.get(f"/api/lessons/{BACK}", headers=h).json()
    assert back["comments"][0]["text"].startswith("Phần tóm tắt") and back["comments"][0]["open"]
    history = client.get(f"/api/lessons/{BACK}/history", headers=h).json()
    assert [e["action"] for e in history] == ["create", "request_changes"]
    assert [v["number"] for v in client.get(f"/api/lessons/{BACK}/versions", headers=h).json()] == [1]
    assert client.get(f"/api/lessons/{BACK}/versions/1", headers=h).json()["lesson"]["id"] == BACK
    counts = client.get("/api/counts", headers=h).json()
    assert counts == {"in_review": 3, "approved": 1, "changes_requested": 1}
    assert client.get("/api/lessons/nope", headers=h).status_code == 404
    assert client.get("/api/lessons?status=bogus", headers=h).status_code == 404


def test_api_coverage(client, tokens):
    cov = client.get("/api/coverage?framework=vn-dcf-2025&language=vi&group=elderly",
                     headers=bearer(tokens["rv1"])).json()
    assert cov["totals"] == {"approved": 1, "in_review": 2, "changes_requested": 1, "missing": 188}
    row = next(c for c in cov["competences"] if c["code"] == "4.2")
    levels = {s["level"]: (s["state"], s["lesson"]) for s in row["groups"]["elderly"]}
    assert levels[1] == ("in_review", MAIN) and levels[2] == ("approved", DONE)
    assert levels[3] == ("missing", None)
    assert client.get("/api/coverage?group=nobody", headers=bearer(tokens["rv1"])).status_code == 404


# -- decisions ------------------------------------------------------------------------------------
def test_api_decisions_follow_the_roles_and_the_workflow(app, client, tokens):
    store = app.state.web.store
    path = f"/api/lessons/{MAIN}"
    assert client.post(f"{path}/approve", json={"version": 1}, headers=bearer(tokens["ed"])).status_code == 403
    r = client.post(f"{path}/approve", headers=bearer(tokens["rv1"]))
    assert r.status_code == 422  # a decision names the version it is for
    assert client.post(f"{path}/request-changes", json={"comment": "Sửa", "version": 1},
                       headers=bearer(tokens["ed"])).status_code == 403
    r = client.post(f"{path}/request-changes", json={"comment": " ", "version": 1}, headers=bearer(tokens["rv1"]))
    assert r.status_code == 422 and "comment is required" in r.json()["detail"]
    r = client.post(f"{path}/reject", json={}, headers=bearer(tokens["rv1"]))
    assert r.status_code == 422
    state = store.lesson_state(MAIN)
    r = client.post(f"{path}/approve", json={"expected_version": state.row_version + 5, "version": 1},
                    headers=bearer(tokens["rv1"]))
    assert r.status_code == 409 and r.json()["error"] == "conflict"
    r = client.post(f"{path}/approve", json={"expected_version": state.row_version, "version": 1,
                                             "comment": "Tốt."}, headers=bearer(tokens["rv1"]))
    assert r.status_code == 200 and r.json()["status"] == "approved" and r.json()["approved_by"] == "rv1"
    r = client.post(f"{path}/reject", json={"comment": "Muộn rồi.", "version": 1}, headers=bearer(tokens["rv2"]))
    assert r.status_code == 409 and r.json()["error"] == "transition"
    r = client.post(f"/api/lessons/{OTHER}/request-changes",
                    json={"comment": "Thêm ví dụ.", "section": "example", "version": 1}, headers=bearer(tokens["rv2"]))
    assert r.status_code == 200 and r.json()["status"] == "changes_requested"
    r = client.post(f"/api/lessons/{OTHER}/comments", json={"text": "Đã ghi nhận."},
                    headers=bearer(tokens["ed"]))
    assert r.status_code == 201 and r.json()["actor"] == "ed"


def test_openapi_docs(client):
    spec = client.get("/openapi.json").json()
    assert "/api/lessons" in spec["paths"] and "/api/lessons/{lesson_id}/approve" in spec["paths"]
    assert "/api/coverage" in spec["paths"] and not any(p.startswith("/lessons") for p in spec["paths"])
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "/docs-assets/swagger-ui-bundle.js" in docs.text and "cdn." not in docs.text  # works offline
    asset = client.get("/docs-assets/swagger-ui-bundle.js")
    assert asset.status_code == 200 and "SwaggerUIBundle" in asset.text


# -- CLI ------------------------------------------------------------------------------------------
def _cli_app(with_users: bool):  # type: ignore[no-untyped-def]
    import typer

    from generator.cli import token_cmd
    from generator.cli.common import HocvuGroup, State, new_app

    app = typer.Typer(cls=HocvuGroup, no_args_is_help=True, add_completion=False,
                      pretty_exceptions_enable=False)

    @app.callback()
    def root() -> None:
        State.reset(None)

    if with_users:
        users = new_app("Manage users.")

        @users.command("list")
        def list_users() -> None:
            """List users."""

        app.add_typer(users, name="users")
    token_cmd.register(app)
    return app


@pytest.mark.parametrize("with_users", [True, False])
def test_users_token_command(app, with_users):
    from typer.testing import CliRunner

    from generator.review.tokens import user_for_token

    runner = CliRunner()
    cli = _cli_app(with_users)
    groups = [g.name for g in cli.registered_groups]
    assert groups == ["users"]
    r = runner.invoke(cli, ["users", "token", "rv1"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    token = next(w for w in r.output.split() if w.startswith("hocvu_"))
    assert user_for_token(app.state.web.store, token).name == "rv1"
    r = runner.invoke(cli, ["users", "token", "rv1", "--revoke"], catch_exceptions=False)
    assert r.exit_code == 0 and user_for_token(app.state.web.store, token) is None
    r = runner.invoke(cli, ["users", "token", "nobody"], catch_exceptions=False)
    assert r.exit_code != 0 and "unknown user" in r.output


def test_serve_command_runs_uvicorn_on_the_workspace(web_ws, monkeypatch):
    import typer
    import uvicorn
    from typer.testing import CliRunner

    from generator.cli import serve_cmd
    from generator.cli.common import HocvuGroup, State

    seen = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(app=app, **kw))
    cli = typer.Typer(cls=HocvuGroup, add_completion=False)

    @cli.callback()
    def root() -> None:
        State.reset(None)

    serve_cmd.register(cli)
    r = CliRunner().invoke(cli, ["serve", "--port", "8123"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert seen["host"] == "127.0.0.1" and seen["port"] == 8123
    assert seen["app"].state.web.settings.workspace == web_ws.resolve()
    r = CliRunner().invoke(cli, ["serve", "--help"])
    assert "--host" in r.output and "--port" in r.output


def test_hocvu_users_token(cli, app):
    from generator.review.tokens import user_for_token

    assert "token" in cli("users", "--help").output
    result = cli("users", "token", "rv2")
    assert result.exit_code == 0, result.output
    token = next(w for w in result.output.split() if w.startswith("hocvu_"))
    assert user_for_token(app.state.web.store, token).name == "rv2"
