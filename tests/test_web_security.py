"""The web app's guards, through FastAPI's TestClient: roles on every action, signed-out requests, CSRF,
escaping of lesson text, downloads, the sign-in limit, the session cookie and the secret key."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from tests.support.web import MAIN, PASSWORD, SCRIPT, XSS, csrf_of, row_version, sign_in

pytest_plugins = ("tests.support.web",)


def decision(app, lesson_id: str, csrf: str, comment: str = "Cần sửa phần tóm tắt.") -> dict:
    rv, n = row_version(app, lesson_id)
    return {"csrf_token": csrf, "expected_version": rv, "version": n, "comment": comment}


# -- roles ----------------------------------------------------------------------------------------
#: (method, path, form fields besides the CSRF token, roles allowed)
def actions(app) -> list[tuple[str, dict, set[str]]]:
    rv, n = row_version(app, MAIN)
    decide = {"expected_version": rv, "version": n, "comment": "Một góp ý."}
    return [
        (f"/lessons/{MAIN}/approve", decide, {"reviewer", "admin"}),
        (f"/lessons/{MAIN}/request-changes", decide, {"reviewer", "admin"}),
        (f"/lessons/{MAIN}/reject", decide, {"reviewer", "admin"}),
        (f"/lessons/{MAIN}/edit", {"section": "title", "text": "Giữ kín thông tin", "expected_version": rv},
         {"editor", "admin"}),
        (f"/lessons/{MAIN}/revise", {"section": "summary", "expected_version": rv}, {"editor", "admin"}),
        ("/users", {"name": "newbie", "role": "reviewer", "password": "mat-khau-moi-1"}, {"admin"}),
        ("/users/ed/role", {"role": "admin"}, {"admin"}),
        ("/users/ed/password", {"password": "mat-khau-moi-1"}, {"admin"}),
        ("/users/ed/token", {}, {"admin"}),
        ("/releases", {"name": "r1"}, {"admin"}),
    ]


@pytest.mark.parametrize("who,role", [("ed", "editor"), ("rv1", "reviewer")])
def test_each_action_is_refused_for_the_wrong_role(app, client, who, role):
    csrf = sign_in(client, who)
    store = app.state.web.store
    before = {s.id: (s.status, s.current_version) for s in store.list_lessons()}
    refused = 0
    for path, fields, allowed in actions(app):
        if role in allowed:
            continue
        r = client.post(path, data={**fields, "csrf_token": csrf})
        assert r.status_code == 403, (who, path, r.status_code, r.text[:300])
        refused += 1
    assert refused >= 5
    assert {s.id: (s.status, s.current_version) for s in store.list_lessons()} == before
    assert store.find_user("newbie") is None and store.get_user("ed").role == "editor"


@pytest.mark.parametrize("path", ["/users", "/releases", f"/lessons/{MAIN}/edit?section=title"])
def test_pages_for_other_roles_are_refused(client, path):
    sign_in(client, "rv1" if "edit" in path else "ed")
    assert client.get(path).status_code == 403


def test_signed_out_actions_are_refused_and_pages_redirect(app, client):
    anonymous_csrf = csrf_of(client, "/login")  # a valid token of a session with no user
    for path, fields, _ in actions(app):
        r = client.post(path, data={**fields, "csrf_token": anonymous_csrf})
        assert r.status_code == 403, (path, r.status_code)
    for path in ("/", "/queue", "/coverage", f"/lessons/{MAIN}", f"/lessons/{MAIN}/versions/1/files/audio",
                 "/users", "/releases"):
        r = client.get(path)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next="), path
    assert app.state.web.store.lesson_state(MAIN).status == "in_review"


def test_reviewer_cannot_approve_their_own_version(app, client):
    from generator.web.operations import edit_section

    store = app.state.web.store
    store.add_user("rv-author", "admin", PASSWORD)  # admins may both make and review versions
    edit_section(app.state.web, MAIN, "title", "Giữ kín thông tin cá nhân khi lên mạng", author="rv-author",
                 expected_version=store.lesson_state(MAIN).row_version)
    csrf = sign_in(client, "rv-author")
    page = client.get(f"/lessons/{MAIN}").text
    assert 'formaction="/lessons/' + MAIN + '/approve"' not in page  # no approve button for the author
    r = client.post(f"/lessons/{MAIN}/approve", data=decision(app, MAIN, csrf, ""))
    assert r.status_code == 403 and "duyệt bốn mắt" in r.text


# -- CSRF -----------------------------------------------------------------------------------------
def test_a_post_without_a_valid_csrf_token_is_refused(app, client):
    csrf = sign_in(client, "rv1")
    form = decision(app, MAIN, csrf)
    for bad in (None, "", "forged-token-" + "x" * 30, csrf[:-1] + ("A" if csrf[-1] != "A" else "B")):
        data = {k: v for k, v in form.items() if k != "csrf_token"}
        if bad is not None:
            data["csrf_token"] = bad
        r = client.post(f"/lessons/{MAIN}/request-changes", data=data)
        assert r.status_code == 403, bad
    assert app.state.web.store.lesson_state(MAIN).status == "in_review"
    assert client.post(f"/lessons/{MAIN}/request-changes", data=form).status_code == 303
    assert app.state.web.store.lesson_state(MAIN).status == "changes_requested"


def test_csrf_token_of_another_session_is_refused(app, web_ws):
    from fastapi.testclient import TestClient

    with TestClient(app, follow_redirects=False) as a, TestClient(app, follow_redirects=False) as b:
        sign_in(a, "rv1")
        token_b = sign_in(b, "rv2")
        r = a.post(f"/lessons/{MAIN}/request-changes", data=decision(app, MAIN, token_b))
        assert r.status_code == 403


def test_login_and_logout_need_the_csrf_token(client):
    r = client.post("/login", data={"name": "rv1", "password": PASSWORD})
    assert r.status_code == 403
    csrf = sign_in(client, "rv1")
    assert client.post("/logout", data={}).status_code == 403
    assert client.get("/").status_code == 200  # still signed in
    assert client.post("/logout", data={"csrf_token": csrf}).status_code == 303
    assert client.get("/").status_code == 303


# -- escaping -------------------------------------------------------------------------------------
def test_lesson_text_with_script_shows_as_text(app, client):
    csrf = sign_in(client, "rv1")
    client.post(f"/lessons/{XSS}/comments", data={"csrf_token": csrf, "text": f"Góp ý {SCRIPT}"})
    for path in (f"/lessons/{XSS}", "/", "/queue?q=script", f"/lessons/{XSS}/versions/1/page"):
        html = client.get(path).text
        assert "<script>alert(" not in html, path
        assert "&lt;script&gt;alert(" in html, path
    page = client.get(f"/lessons/{XSS}").text
    assert "<img src=x" not in page and "&lt;img src=x onerror=" in page
    assert 'sandbox="allow-scripts"' in page and "srcdoc" not in page


def test_the_lesson_preview_is_sandboxed(client):
    sign_in(client, "rv1")
    r = client.get(f"/lessons/{XSS}/versions/1/page")
    assert r.status_code == 200
    csp = r.headers["content-security-policy"]
    assert csp.startswith("sandbox allow-scripts;") and "allow-same-origin" not in csp
    page = client.get(f"/lessons/{XSS}")
    app_csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in app_csp and "unsafe-inline" not in app_csp
    assert page.headers["x-content-type-options"] == "nosniff"


# -- downloads ------------------------------------------------------------------------------------
def test_downloads_come_only_from_the_versions_own_files(app, client):
    sign_in(client, "rv1")
    base = f"/lessons/{MAIN}/versions/1/files"
    audio = client.get(f"{base}/audio")
    assert audio.status_code == 200 and audio.headers["content-type"] == "audio/mpeg"
    assert audio.content[:3] == b"ID3" or audio.content[0] == 0xFF
    assert client.get(f"{base}/lesson.json").json()["id"] == MAIN
    assert client.get(f"{base}/lesson").headers["content-disposition"].startswith("attachment")
    for bad in ("..", "..%2F..%2Fhocvu.db", "%2E%2E", "..%5C..%5Csecret_key", "...", "..lesson.json",
                "%2Fetc%2Fpasswd"):
        r = client.get(f"{base}/{bad}")
        assert r.status_code in (400, 404, 422), (bad, r.status_code)
        assert b"SQLite" not in r.content and b"root:" not in r.content
    r = client.get(f"{base}/..lesson.json")
    assert r.status_code == 422 and "không theo đường dẫn" in r.text
    assert client.get(f"{base}/handout").status_code == 404  # not rendered for this version
    assert client.get(f"/lessons/{MAIN}/versions/9/files/audio").status_code == 404


def test_a_file_changed_since_it_was_recorded_is_not_served(app, client):
    sign_in(client, "rv1")
    path = app.state.web.store.get_version(MAIN).artifacts["lesson.json"].path
    path.write_text(path.read_text(encoding="utf-8").replace("Giữ", "Bỏ"), encoding="utf-8")
    r = client.get(f"/lessons/{MAIN}/versions/1/files/lesson")
    assert r.status_code == 500 and "đã thay đổi kể từ khi được ghi nhận" in r.text


# -- sign-in --------------------------------------------------------------------------------------
@pytest.fixture
def clock(monkeypatch):  # type: ignore[no-untyped-def]
    """The store's clock for sign-ins and sessions, moved by hand."""
    from datetime import timedelta

    import generator.review.access as access

    now = [access.utcnow()]
    monkeypatch.setattr(access, "utcnow", lambda: now[0])

    def advance(**kw: float) -> None:
        now[0] = now[0] + timedelta(**kw)

    return advance


def test_sign_in_limit_slows_the_account_not_the_office(app, client, clock):
    for _ in range(5):
        r = client.post("/login", data={"name": "rv1", "password": "wrong", "csrf_token": csrf_of(client)})
        assert r.status_code == 401
    r = client.post("/login", data={"name": "rv1", "password": PASSWORD, "csrf_token": csrf_of(client)})
    assert r.status_code == 429 and "Retry-After" in r.headers  # even the right password waits
    assert "thử lại" in r.text
    ok = client.post("/login", data={"name": "rv2", "password": PASSWORD, "csrf_token": csrf_of(client)})
    assert ok.status_code == 303  # another user from the same address is not locked out
    client.cookies.clear()
    clock(seconds=31)  # past the limit, each try waits: 30 s after the fifth failure
    r = client.post("/login", data={"name": "RV1 ", "password": "wrong", "csrf_token": csrf_of(client)})
    assert r.status_code == 401  # the sixth failure (names compared without case): the next wait doubles
    clock(seconds=31)
    r = client.post("/login", data={"name": "rv1", "password": PASSWORD, "csrf_token": csrf_of(client)})
    assert r.status_code == 429
    clock(seconds=30)
    r = client.post("/login", data={"name": "rv1", "password": PASSWORD, "csrf_token": csrf_of(client)})
    assert r.status_code == 303


def test_failures_count_per_account_from_any_address_and_survive_a_restart(app, clock):
    from generator.review.access import Limits, begin_sign_in, end_sign_in
    from generator.review.store import ReviewStore

    store, limits = app.state.web.store, Limits()
    for i in range(5):  # a rotating X-Forwarded-For would look like this: a new address every time
        wait, attempt = begin_sign_in(store, "rv1", f"10.0.0.{i}", limits)
        assert wait == 0 and attempt is not None
        end_sign_in(store, "rv1", attempt, ok=False)
    with ReviewStore(store.engine) as again:  # another worker, or the server after a restart
        wait, attempt = begin_sign_in(again, "rv1", "10.9.9.9", limits)
    assert attempt is None and wait > 0


def test_parallel_guesses_get_no_more_password_checks_than_the_limit(app):
    import threading

    from generator.review.access import Limits, begin_sign_in, end_sign_in

    store, limits = app.state.web.store, Limits(max_failures=5)
    checked, lock = [], threading.Lock()

    def guess(i: int) -> None:
        _, attempt = begin_sign_in(store, "rv2", "192.0.2.7", limits)
        if attempt is not None:
            with lock:
                checked.append(i)
            end_sign_in(store, "rv2", attempt, ok=store.verify_password("rv2", f"guess-{i}") is not None)

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(checked) == 5


def test_serve_trusts_forwarded_headers_only_from_named_proxies(cli, monkeypatch):
    import uvicorn

    seen: list[dict] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.append(kw))
    assert cli("serve").exit_code == 0
    assert seen[-1]["proxy_headers"] is False and seen[-1]["forwarded_allow_ips"] is None
    assert cli("serve", "--forwarded-allow-ips", "10.0.0.1").exit_code == 0
    assert seen[-1]["proxy_headers"] is True and seen[-1]["forwarded_allow_ips"] == "10.0.0.1"


# -- sessions -------------------------------------------------------------------------------------
def _replay(app, cookie: str) -> int:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    with TestClient(app, follow_redirects=False) as other:
        other.cookies.set("hocvu_session", cookie)
        return other.get("/").status_code


def test_a_copied_cookie_dies_with_logout_password_change_role_change_and_disable(app, client):
    store = app.state.web.store
    for end in ("logout", "password", "role", "disable"):
        csrf = sign_in(client, "rv2")
        cookie = client.cookies.get("hocvu_session")
        assert _replay(app, cookie) == 200
        if end == "logout":
            client.post("/logout", data={"csrf_token": csrf})
        elif end == "password":
            store.set_password("rv2", "mat-khau-moi-9")
            store.set_password("rv2", PASSWORD)
        elif end == "role":
            store.set_role("rv2", "editor")
            store.set_role("rv2", "reviewer")
        else:
            store.set_disabled("rv2", True)
        assert _replay(app, cookie) == 303, end
    r = client.post("/login", data={"name": "rv2", "password": PASSWORD, "csrf_token": csrf_of(client)})
    assert r.status_code == 401  # disabled: no sign-in either
    store.set_disabled("rv2", False)
    sign_in(client, "rv2")


def test_sign_out_everywhere(app, client):
    from fastapi.testclient import TestClient

    sign_in(client, "rv1")
    with TestClient(app, follow_redirects=False) as phone:
        csrf = sign_in(phone, "rv1")
        phone.post("/logout", data={"csrf_token": csrf, "everywhere": "1"})
    assert client.get("/").status_code == 303


def test_sessions_end_when_idle_and_at_their_absolute_lifetime(app, client, clock):
    sign_in(client, "rv1")
    for _ in range(8):  # busy all day: every 90 minutes a page
        clock(minutes=90)
        assert client.get("/").status_code == 200
    clock(minutes=90)  # 13.5 hours after sign-in
    assert client.get("/").status_code == 303
    sign_in(client, "rv1")
    clock(minutes=121)
    assert client.get("/").status_code == 303


def test_names_are_unique_whatever_their_case_and_the_last_admin_stays(app):
    from generator.errors import ReviewError

    store = app.state.web.store
    with pytest.raises(ReviewError, match="already exists"):
        store.add_user("RV1", "reviewer")
    with pytest.raises(ReviewError, match="last admin"):
        store.set_role("boss", "reviewer")
    with pytest.raises(ReviewError, match="last admin"):
        store.set_disabled("boss", True)
    with pytest.raises(ReviewError, match="last admin"):
        store.remove_user("boss")


def test_a_disabled_users_api_token_stops_working(app):
    from fastapi.testclient import TestClient

    from generator.review.tokens import issue_token

    store = app.state.web.store
    token = issue_token(store, "rv1")
    with TestClient(app) as api:
        headers = {"Authorization": f"Bearer {token}"}
        assert api.get("/api/lessons", headers=headers).status_code == 200
        store.set_disabled("rv1", True)
        assert api.get("/api/lessons", headers=headers).status_code == 401


def test_users_cli_disables_enables_and_removes(cli, workspace):
    assert cli("users", "add", "hoa", "--role", "reviewer", "--no-password").exit_code == 0
    assert cli("users", "add", "Hoa", "--role", "editor", "--no-password").exit_code != 0
    r = cli("users", "disable", "hoa")
    assert r.exit_code == 0 and "signed out everywhere" in r.stdout
    assert "disabled" in cli("users", "list").stdout
    assert cli("users", "enable", "hoa").exit_code == 0
    assert cli("users", "sign-out", "hoa").exit_code == 0
    assert cli("users", "remove", "hoa", "--yes").exit_code == 0
    assert "hoa" not in cli("users", "list").stdout


def test_wrong_passwords_and_unknown_users_get_the_same_answer(client):
    a = client.post("/login", data={"name": "rv1", "password": "nope-nope", "csrf_token": csrf_of(client)})
    b = client.post("/login", data={"name": "nobody", "password": "nope-nope", "csrf_token": csrf_of(client)})
    assert a.status_code == b.status_code == 401
    message = "Tên đăng nhập hoặc mật khẩu không đúng"
    assert message in a.text and message in b.text


def test_session_cookie_is_signed_httponly_and_samesite(app, client):
    r = client.post("/login", data={"name": "rv1", "password": PASSWORD, "csrf_token": csrf_of(client)})
    cookie = r.headers["set-cookie"]
    flags = cookie.lower()
    assert cookie.startswith("hocvu_session=") and "httponly" in flags and "samesite=lax" in flags
    value = client.cookies.get("hocvu_session")
    assert client.get("/").status_code == 200
    client.cookies.clear()
    client.cookies.set("hocvu_session", value[:-3] + ("AAA" if not value.endswith("AAA") else "BBB"))
    assert client.get("/").status_code == 303


def test_next_after_sign_in_stays_on_this_site(client):
    for target, expected in (("/queue", "/queue"), ("https://evil.example/", "/"), ("//evil.example", "/")):
        client.cookies.clear()
        r = client.post("/login", data={"name": "rv1", "password": PASSWORD, "next": target,
                                        "csrf_token": csrf_of(client)})
        assert r.headers["location"] == expected


def test_secret_key_is_generated_once_with_mode_0600(web_ws: Path):
    from generator.config import load_settings
    from generator.web.security import load_secret_key

    settings = load_settings(web_ws)
    first = load_secret_key(settings)
    path = settings.state_dir / "secret_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_secret_key(settings) == first and len(first) >= 32
    assert load_secret_key(load_settings(web_ws, secret_key="s" * 40)) == "s" * 40


def test_a_removed_role_takes_effect_at_once(app, client):
    csrf = sign_in(client, "rv1")
    app.state.web.store.set_role("rv1", "editor")
    r = client.post(f"/lessons/{MAIN}/approve", data=decision(app, MAIN, csrf, ""))
    assert r.status_code == 403


def test_stale_decision_is_a_conflict(app, client):
    csrf = sign_in(client, "rv1")
    stale = decision(app, MAIN, csrf)
    app.state.web.store.add_comment(MAIN, "rv2", "Một góp ý khác.")  # does not bump the row version
    app.state.web.store.request_changes(MAIN, "rv2", "Sửa ví dụ.")
    r = client.post(f"/lessons/{MAIN}/reject", data={**stale, "confirm": "1"})
    assert r.status_code == 409 and "reload" in r.text.lower()
    assert app.state.web.store.lesson_state(MAIN).status == "changes_requested"


def test_request_changes_needs_a_comment(app, client):
    csrf = sign_in(client, "rv1")
    r = client.post(f"/lessons/{MAIN}/request-changes", data={**decision(app, MAIN, csrf, "   "),
                                                             "section": "example"})
    assert r.status_code == 422 and "Hãy viết nhận xét" in r.text  # beside the form, not an error page
    assert 'id="decision-error"' in r.text and '<option value="example" selected>' in r.text
    assert app.state.web.store.lesson_state(MAIN).status == "in_review"
