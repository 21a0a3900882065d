"""The pages through FastAPI's TestClient: what each shows, the editor's and the admin's forms, the
language switch, and the accessibility basics (a ``lang`` on every page, a label for every field)."""

from __future__ import annotations

import io
import re
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.support.web import BACK, DONE, MAIN, OTHER, XSS, row_version, sign_in

pytest_plugins = ("tests.support.web",)


class FormAudit(HTMLParser):
    """Collects the page's lang, its form fields and their labels."""

    def __init__(self) -> None:
        super().__init__()
        self.lang: str | None = None
        self.fields: list[dict[str, str | None]] = []
        self.label_for: set[str] = set()
        self.open_labels = 0
        self.wrapped: set[int] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang")
        elif tag == "label":
            self.open_labels += 1
            if a.get("for"):
                self.label_for.add(a["for"] or "")
        elif tag in ("input", "select", "textarea") and a.get("type") not in ("hidden", "submit", "button"):
            if self.open_labels:
                self.wrapped.add(len(self.fields))
            self.fields.append(a)

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self.open_labels -= 1

    def unlabelled(self) -> list[dict[str, str | None]]:
        """Fields with no <label for>, no wrapping label and no aria-label."""
        return [f for i, f in enumerate(self.fields)
                if not (f.get("id") in self.label_for or i in self.wrapped or f.get("aria-label"))]


def audit(html: str) -> FormAudit:
    parser = FormAudit()
    parser.feed(html)
    return parser


PAGES = {
    None: ["/login", "/login?lang=en"],
    "rv1": ["/", "/queue", "/queue?status=in_review&group=elderly", "/coverage",
            "/coverage?level=1&group=elderly", f"/lessons/{MAIN}", f"/lessons/{BACK}", f"/lessons/{XSS}",
            "/lessons/nope", "/queue?lang=en"],
    "ed": ["/", f"/lessons/{BACK}", f"/lessons/{BACK}/edit?section=steps",
           f"/lessons/{BACK}/edit?section=summary"],
    "boss": ["/", "/users", "/releases", f"/lessons/{MAIN}", "/coverage?lang=en"],
}


@pytest.mark.parametrize("who", list(PAGES))
def test_every_page_has_a_lang_and_a_label_for_every_field(client, who):
    if who:
        sign_in(client, who)
    fields = 0
    for path in PAGES[who]:
        r = client.get(path)
        assert r.status_code in (200, 404), (path, r.status_code)
        page = audit(r.text)
        assert page.lang == ("en" if "lang=en" in path else "vi"), path
        assert not page.unlabelled(), (path, page.unlabelled())
        fields += len(page.fields)
        client.get("/login?lang=vi")  # back to Vietnamese for the next page
    assert fields >= 3 * len(PAGES[who]) // 2


def test_english_switch_is_remembered(client):
    sign_in(client, "rv1")
    r = client.get("/queue?lang=en")
    assert '<html lang="en">' in r.text and "Lessons" in r.text and "hocvu_lang=en" in r.headers["set-cookie"]
    assert '<html lang="en">' in client.get("/coverage").text
    assert 'href="/coverage?lang=vi"' in client.get("/coverage").text  # the switch back
    r = client.get("/?lang=vi")
    assert '<html lang="vi">' in r.text and "Tổng quan" in r.text


def test_interface_strings_are_complete_in_both_languages():
    """Every label a template builds from a core value (a status, role, section, action, kind, coverage
    state) has its msgid; that each msgid is translated is tests/test_i18n.py's job."""
    from generator.lesson import SECTIONS
    from generator.review import workflow as wf
    from generator.web import i18n
    from generator.web.coverage import STATES

    used = {f"status_{s.value}" for s in wf.Status} | {f"role_{r}" for r in wf.ROLES}
    used |= {f"section_{s}" for s in (*SECTIONS, "sources", "all")} | {f"action_{a.value}" for a in wf.Action}
    used |= {f"kind_{k}" for k in wf.VERSION_KINDS} | {f"cv_{s}" for s in STATES}
    used |= {f"done_{a}" for a in ("approve", "request_changes", "reject")} | {"lang_vi", "lang_en"}
    assert not sorted(used - set(i18n.LABELS))


def test_dashboard_counts_and_lists(client):
    sign_in(client, "rv1")
    page = client.get("/").text
    assert re.search(r"<strong>3</strong> <span>Chờ duyệt</span>", page)
    assert re.search(r"<strong>1</strong> <span>Đã duyệt</span>", page)
    waiting = page.split('id="h-waiting"')[1].split("</section>")[0]
    assert MAIN in waiting and OTHER in waiting and DONE not in waiting
    sign_in(client, "ed")
    page = client.get("/").text
    assert 'id="h-waiting"' not in page  # editors do not review
    assert BACK in page.split('id="h-revise"')[1].split("</section>")[0]


def test_queue_filters_and_search(client):
    sign_in(client, "rv1")

    def found(query: str) -> set[str]:
        html = client.get(f"/queue?{query}").text
        return set(re.findall(r'<span class="id">([^<]+)</span>', html))

    assert found("") == {MAIN, OTHER, XSS, DONE, BACK}
    assert found("status=in_review") == {MAIN, OTHER, XSS}
    assert found("group=farmers") == {OTHER}
    assert found("level=2") == {XSS, DONE}
    assert found("competence=4.2&level=1") == {MAIN}
    assert found("language=en") == set()
    assert found("q=script") == {XSS}
    assert found("q=4.2.L2") == {DONE}
    assert found("framework=vn-dcf-2025&status=changes_requested") == {BACK}
    assert client.get("/queue?status=bogus").status_code == 404


def test_lesson_page_shows_what_a_reviewer_needs(client):
    sign_in(client, "rv1")
    html = client.get(f"/lessons/{MAIN}").text
    assert f'<audio controls preload="metadata" src="/lessons/{MAIN}/versions/1/files/audio"' in html
    assert '<iframe class="preview" title="Trang bài học: ' in html
    for part in ('id="checks"', 'id="sources"', 'id="history"', 'id="comments"', 'id="downloads"',
                 f'formaction="/lessons/{MAIN}/approve"', f'action="/lessons/{MAIN}/request-changes"',
                 f'formaction="/lessons/{MAIN}/reject"', "ngôn ngữ</strong>"):
        assert part in html, part
    assert f'action="/lessons/{MAIN}/revise"' not in html  # editors' tools are not shown to reviewers
    xss = client.get(f"/lessons/{XSS}").text
    assert "so-tay.pdf" in xss and "tr. 3" in xss and "<blockquote" in xss  # a source with its passage
    back = client.get(f"/lessons/{BACK}").text
    assert "Phần tóm tắt quá dài" in back and "đang mở" in back and "Cần sửa" in back


def test_decide_from_the_page(app, client):
    csrf = sign_in(client, "rv1")
    rv, n = row_version(app, MAIN)
    r = client.post(f"/lessons/{MAIN}/request-changes", data={
        "csrf_token": csrf, "expected_version": rv, "version": n, "comment": "Ví dụ cần gần gũi hơn.",
        "section": "example"})
    assert r.status_code == 303 and r.headers["location"] == f"/lessons/{MAIN}"
    page = client.get(f"/lessons/{MAIN}").text
    assert "Đã gửi yêu cầu sửa phiên bản 1." in page and "Ví dụ cần gần gũi hơn." in page
    comment = app.state.web.store.comments(MAIN)[0]
    assert comment.section == "example" and comment.actor == "rv1"
    rv, n = row_version(app, OTHER)
    r = client.post(f"/lessons/{OTHER}/approve",
                    data={"csrf_token": csrf, "expected_version": rv, "version": n})
    assert r.status_code == 303
    assert app.state.web.store.lesson_state(OTHER).approved_by == "rv1"


def test_edit_one_section(app, client):
    csrf = sign_in(client, "ed")
    store = app.state.web.store
    form = client.get(f"/lessons/{BACK}/edit?section=summary").text
    old = store.get_version(BACK).lesson.summary
    assert old in form and 'name="expected_version"' in form
    rv, _ = row_version(app, BACK)
    new_summary = "Bạn học cách tìm thông tin trên mạng bằng vài từ khóa ngắn."
    r = client.post(f"/lessons/{BACK}/edit", data={"csrf_token": csrf, "section": "summary",
                                                   "text": new_summary, "expected_version": rv})
    assert r.status_code == 303, r.text[:500]
    v = store.get_version(BACK)
    assert (v.number, v.kind, v.author, v.lesson.summary) == (2, "edit", "ed", new_summary)
    assert store.lesson_state(BACK).status == "in_review"
    assert v.lesson.model_dump(exclude={"summary", "provenance"}) == \
        store.get_version(BACK, 1).lesson.model_dump(exclude={"summary", "provenance"})
    page = client.get(f"/lessons/{BACK}").text
    assert "Đã tạo phiên bản 2 (sửa: Tóm tắt)" in page
    assert "<h4>Tóm tắt</h4>" in page and "<ins>+" in page  # the section diff v1 → v2


def test_an_invalid_edit_shows_why_and_keeps_the_text(app, client):
    csrf = sign_in(client, "ed")
    rv, _ = row_version(app, BACK)
    broken = "- action: Mở trình duyệt\n  expect: [chưa đóng"
    r = client.post(f"/lessons/{BACK}/edit", data={"csrf_token": csrf, "section": "steps", "text": broken,
                                                   "expected_version": rv})
    assert r.status_code == 422 and "YAML sai cú pháp" in r.text and "aria-invalid" in r.text
    assert "expect: [chưa đóng" in r.text
    too_few = "- action: Mở trình duyệt\n  expect: Trình duyệt mở ra\n"
    r = client.post(f"/lessons/{BACK}/edit", data={"csrf_token": csrf, "section": "steps", "text": too_few,
                                                   "expected_version": rv})
    assert r.status_code == 422 and "steps" in r.text
    same = app.state.web.store.get_version(BACK).lesson.title
    r = client.post(f"/lessons/{BACK}/edit", data={"csrf_token": csrf, "section": "title", "text": same,
                                                   "expected_version": rv})
    assert r.status_code == 400 and "không có gì thay đổi" in r.text
    assert app.state.web.store.lesson_state(BACK).current_version == 1


def test_revise_a_section_with_the_comments(app, client):
    csrf = sign_in(client, "ed")
    store = app.state.web.store
    rv, _ = row_version(app, BACK)
    r = client.post(f"/lessons/{BACK}/revise", data={"csrf_token": csrf, "section": "summary",
                                                     "expected_version": rv})
    assert r.status_code == 303, r.text[:500]
    v = store.get_version(BACK)
    assert (v.number, v.kind, v.author) == (2, "revise", "ed")
    assert store.lesson_state(BACK).status == "in_review"
    assert "narration.mp3" in v.artifacts  # rendered with the app's formats
    page = client.get(f"/lessons/{BACK}").text
    assert "soạn lại «Tóm tắt» theo 1 góp ý" in page and "Soạn offline" in page and "«summary»" not in page
    r = client.post(f"/lessons/{BACK}/revise", data={"csrf_token": csrf, "section": "summary",
                                                     "expected_version": rv})
    assert r.status_code == 409  # made from a stale page


def test_comment_and_resolve(app, client):
    csrf = sign_in(client, "ed")
    r = client.post(f"/lessons/{MAIN}/comments", data={"csrf_token": csrf, "text": "Tôi sẽ sửa ví dụ.",
                                                       "section": "example"})
    assert r.status_code == 303
    comment = app.state.web.store.comments(MAIN)[0]
    assert client.post(f"/lessons/{MAIN}/comments/{comment.id}/resolve",
                       data={"csrf_token": csrf}).status_code == 303
    assert app.state.web.store.comments(MAIN) == []
    assert "đã xử lý" in client.get(f"/lessons/{MAIN}").text


def test_coverage_matrix(client):
    sign_in(client, "rv1")
    html = client.get("/coverage?group=elderly").text
    assert f'class="slot cv-approved" href="/lessons/{DONE}"' in html
    assert f'class="slot cv-changes_requested" href="/lessons/{BACK}"' in html
    assert f'class="slot cv-in_review" href="/lessons/{MAIN}"' in html
    assert "Người cao tuổi" in html and "Nông dân" not in html.split("<table")[1]
    legend = html.split('class="legend"')[1].split("</ul>")[0]
    assert "Đã duyệt: <strong>1</strong>" in legend and "Cần sửa: <strong>1</strong>" in legend
    assert "Đang duyệt: <strong>2</strong>" in legend and "Chưa có: <strong>188</strong>" in legend


def test_admin_publishes_verifies_and_downloads_a_release(app, client):
    csrf = sign_in(client, "boss")
    assert "Có 1 bài đã duyệt sẵn sàng" in client.get("/releases").text
    r = client.post("/releases", data={"csrf_token": csrf, "name": "2025-12-thu"})
    assert r.status_code == 303, r.text[:800]
    assert app.state.web.store.lesson_state(DONE).status == "published"
    page = client.get("/releases").text
    assert "2025-12-thu" in page and "Đã phát hành 2025-12-thu với 1 bài." in page
    r = client.post("/releases/2025-12-thu/verify", data={"csrf_token": csrf})
    assert r.status_code == 200 and "khớp với bản kê" in r.text
    z = client.get("/releases/2025-12-thu/download")
    assert z.status_code == 200 and z.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(z.content)).namelist()
    assert "2025-12-thu/manifest.json" in names and f"2025-12-thu/lessons/{DONE}/index.html" in names
    again = client.post("/releases", data={"csrf_token": csrf, "name": "2025-12-thu"})
    assert again.status_code == 409 and "đã có" in again.text
    record = app.state.web.store.get_release("2025-12-thu")
    (record.path / "lessons" / DONE / "lesson.json").write_text("{}", encoding="utf-8")
    r = client.post("/releases/2025-12-thu/verify", data={"csrf_token": csrf})
    assert "bị thay đổi" in r.text and f"changed: lessons/{DONE}/lesson.json" in r.text


def test_admin_manages_users_and_tokens(app, client):
    from generator.review.tokens import user_for_token

    csrf = sign_in(client, "boss")
    store = app.state.web.store
    r = client.post("/users", data={"csrf_token": csrf, "name": "rv3", "role": "reviewer",
                                    "password": "mat-khau-rv3"})
    assert r.status_code == 303 and store.get_user("rv3").role == "reviewer"
    assert client.post("/users", data={"csrf_token": csrf, "name": "rv3", "role": "reviewer",
                                       "password": "mat-khau-rv3"}).status_code == 400
    assert client.post("/users/rv3/role", data={"csrf_token": csrf, "role": "editor"}).status_code == 303
    assert store.get_user("rv3").role == "editor"
    short = client.post("/users/rv3/password", data={"csrf_token": csrf, "password": "short"})
    assert short.status_code == 400
    r = client.post("/users/rv3/token", data={"csrf_token": csrf})
    token = re.search(r'<code class="token">([^<]+)</code>', r.text).group(1)
    assert user_for_token(store, token).name == "rv3"
    assert token not in client.get("/users").text  # shown once
    client.post("/users/rv3/token/revoke", data={"csrf_token": csrf})
    assert user_for_token(store, token) is None


def test_error_pages_are_pages(client):
    sign_in(client, "rv1")
    r = client.get("/lessons/vn-dcf-2025.4.2.L1.elderly.v")
    assert r.status_code == 404 and "Không tìm thấy" in r.text and "có phải bạn muốn tìm" in r.text
    assert client.get("/no-such-page").status_code == 404
    r = client.get(f"/lessons/{MAIN}?version=7")
    assert r.status_code == 404


def test_dashboard_and_queue_show_outdated_lessons(web_ws: Path):
    """A group profile changed in the workspace makes that group's lessons outdated, with the reason."""
    from fastapi.testclient import TestClient

    from generator.frameworks import shipped_dir
    from tests.support.web import make_app

    groups = web_ws / "frameworks" / "groups"
    groups.mkdir(parents=True)
    text = (shipped_dir("frameworks") / "groups" / "elderly.yaml").read_text(encoding="utf-8")
    changed = text.replace("apps: [Zalo,", "apps: [Zalo, Messenger,")
    (groups / "elderly.yaml").write_text(changed, encoding="utf-8")
    app = make_app(web_ws)  # its own library: the workspace overrides a shipped group
    try:
        with TestClient(app, follow_redirects=False) as client:
            sign_in(client, "rv1")
            page = client.get("/").text
            outdated = page.split('id="h-outdated"')[1].split("</section>")[0]
            assert "(4)" in outdated and "hồ sơ nhóm elderly đã thay đổi" in outdated
            assert OTHER not in outdated  # farmers are untouched
            html = client.get("/queue?outdated=1").text
            assert set(re.findall(r'<span class="id">([^<]+)</span>', html)) == {MAIN, XSS, DONE, BACK}
            assert "hồ sơ nhóm elderly đã thay đổi" in client.get(f"/lessons/{MAIN}").text
    finally:
        app.state.web.store.close()


def test_serve_is_a_hocvu_command(cli):
    result = cli("serve", "--help")
    assert result.exit_code == 0 and "--host" in result.output and "--port" in result.output


def test_a_reviewer_marks_the_lessons_content_verified(app, client):
    sign_in(client, "ed")
    page = client.get(f"/lessons/{MAIN}").text
    assert "Nội dung chưa được xác minh." in page and "verify-content" not in page  # editors cannot
    csrf = sign_in(client, "rv1")
    page = client.get(f"/lessons/{MAIN}").text
    assert f'action="/lessons/{MAIN}/verify-content"' in page
    _, n = row_version(app, MAIN)
    r = client.post(f"/lessons/{MAIN}/verify-content", data={"csrf_token": csrf, "version": n})
    assert r.status_code == 303
    page = client.get(f"/lessons/{MAIN}").text
    assert "Nội dung chưa được xác minh." not in page and "Nội dung đã được rv1 xác minh" in page


def test_reject_asks_first_and_keeps_the_comment(app, client):
    csrf = sign_in(client, "rv1")
    rv, n = row_version(app, MAIN)
    form = {"csrf_token": csrf, "expected_version": rv, "version": n, "comment": "Sai đối tượng."}
    r = client.post(f"/lessons/{MAIN}/reject", data=form)
    assert r.status_code == 200 and "Từ chối bài học?" in r.text and "Sai đối tượng." in r.text
    assert 'name="confirm" value="1"' in r.text and "<script" not in r.text
    assert app.state.web.store.lesson_state(MAIN).status == "in_review"  # nothing happened yet
    r = client.post(f"/lessons/{MAIN}/reject", data={**form, "confirm": "1"})
    assert r.status_code == 303 and app.state.web.store.lesson_state(MAIN).status == "rejected"


def test_approving_with_open_comments_needs_the_reviewer_to_say_they_are_dealt_with(app, client):
    store = app.state.web.store
    store.add_comment(MAIN, "rv2", "Ví dụ chưa hợp với người cao tuổi.", section="example")
    csrf = sign_in(client, "rv1")
    page = client.get(f"/lessons/{MAIN}").text
    assert 'name="resolve_open"' in page and "Còn 1 góp ý đang mở" in page
    rv, n = row_version(app, MAIN)
    form = {"csrf_token": csrf, "expected_version": rv, "version": n}
    r = client.post(f"/lessons/{MAIN}/approve", data=form)
    assert r.status_code >= 400 and "còn mở" in r.text or "still open" in r.text
    assert store.lesson_state(MAIN).status == "in_review"
    r = client.post(f"/lessons/{MAIN}/approve", data={**form, "resolve_open": "1"})
    assert r.status_code == 303 and store.lesson_state(MAIN).status == "approved"
    assert store.comments(MAIN) == []


def test_what_changed_since_the_request_is_at_the_top(app, client):
    csrf = sign_in(client, "ed")
    rv, _ = row_version(app, BACK)  # changes were requested on version 1 (about the summary)
    client.post(f"/lessons/{BACK}/edit", data={"csrf_token": csrf, "section": "summary", "expected_version": rv,
                                                "text": "Một tóm tắt ngắn hơn, rõ hơn cho các bác."})
    page = client.get(f"/lessons/{BACK}").text
    top = page[: page.index('id="decide"')]
    assert "Đã sửa kể từ yêu cầu sửa (v1 → v2):" in top and "Tóm tắt" in top
    assert f"/lessons/{BACK}?a=1&amp;b=2#diff" in top


def test_queue_titles_say_the_group_and_level(client):
    sign_in(client, "rv1")
    html = client.get("/queue").text
    assert re.search(r'class="title"[^>]*>[^<]+<span class="for">· [^<]+ · Bậc \d</span>', html)


def test_a_stale_decision_keeps_the_typed_comment(app, client):
    csrf = sign_in(client, "rv1")
    rv, n = row_version(app, MAIN)
    app.state.web.store.request_changes(MAIN, "rv2", "Sửa ví dụ.", version=n)  # someone decided meanwhile
    r = client.post(f"/lessons/{MAIN}/request-changes", data={
        "csrf_token": csrf, "expected_version": rv, "version": n, "comment": "Bước 2 cần rõ hơn cho các bác."})
    assert r.status_code == 409 and "Bước 2 cần rõ hơn cho các bác." in r.text and 'id="decision-error"' in r.text


def test_the_releases_page_lists_what_would_go_in(app, client):
    sign_in(client, "boss")
    html = client.get("/releases").text
    assert 'id="goes-in"' in html and f'href="/lessons/{DONE}"' in html  # the approved lesson
    assert f'href="/lessons/{MAIN}"' not in html.split('id="goes-in"')[1].split("</details>")[0]  # in review
