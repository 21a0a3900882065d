"""The editors' pages through FastAPI's TestClient: the job form (plan, estimate, spec upload and
download, per-field errors), a job queued by the web app and run by a worker, cancel, the history; the
Sources page (upload with per-file outcome, search, remove); the Target groups page (a valid profile
saved and shown in the job form and the coverage matrix, an invalid one refused with field errors and
nothing written); reviewers see none of it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.web import sign_in

pytest_plugins = ("tests.support.web",)

FORM = {"name": "web-job", "framework": "vn-dcf-2025", "groups": ["elderly"], "competences": ["6.2"],
        "patterns": "", "levels": ["1", "2"], "languages": ["vi"], "formats": ["page"], "backend": "offline",
        "model": "", "sources": "", "executor": "local", "concurrency": "2"}


def _post(client, url: str, csrf: str, data: dict, **kw):  # type: ignore[no-untyped-def]
    return client.post(url, data={**data, "csrf_token": csrf}, **kw)


def _run_worker(app) -> None:  # type: ignore[no-untyped-def]
    from generator.jobs.queue import JobQueue
    from generator.jobs.settings import JobSettings
    from generator.jobs.worker import local_runner, work

    ctx = app.state.web
    work(JobQueue(ctx.store.engine), local_runner(ctx.settings, ctx.store), JobSettings(), once=True)


def test_reviewers_see_no_job_source_or_group_page(client):
    csrf = sign_in(client, "rv1")
    assert "/jobs/new" not in client.get("/").text
    for url in ("/jobs/new", "/jobs", "/sources", "/groups", "/groups/new"):
        assert client.get(url).status_code == 403, url
    assert _post(client, "/jobs", csrf, FORM).status_code == 403


def test_plan_start_progress_and_report(client, app):
    csrf = sign_in(client, "ed")
    page = client.get("/jobs/new")
    assert page.status_code == 200 and 'name="competences" value="4.2"' in page.text
    plan = _post(client, "/jobs/plan", csrf, FORM)
    assert plan.status_code == 200, plan.text[:2000]
    assert "Sẽ soạn 2 bài; 0 bài đã có sẵn" in plan.text and 'id="start-job"' in plan.text
    assert "không gọi mô hình, không tốn phí" in plan.text
    started = _post(client, "/jobs", csrf, FORM)
    assert started.status_code == 303
    url = started.headers["location"]
    queued = client.get(url + "/progress.json").json()
    assert queued["state"] == "queued" and queued["progress"]["total"] == 2
    _run_worker(app)
    done = client.get(url + "/progress.json").json()
    assert done["state"] == "done" and done["progress"]["finished"] == 2 and done["final"]
    report = client.get(url)
    assert "Hoàn thành" in report.text and "/lessons/vn-dcf-2025.6.2.L2.elderly.vi" in report.text
    assert '<script src="/static/jobs.js" defer></script>' in report.text and "<script>" not in report.text
    history = client.get("/jobs")
    assert "web-job" in history.text and "2 mới, 0 có sẵn, 0 lỗi" in history.text
    # planned again: both lessons are made already, so nothing can be started
    again = _post(client, "/jobs/plan", csrf, FORM)
    assert "Sẽ soạn 0 bài; 2 bài đã có sẵn" in again.text and 'id="start-job" disabled' in again.text


def test_cancel_a_queued_job(client, app):
    csrf = sign_in(client, "ed")
    url = _post(client, "/jobs", csrf, FORM).headers["location"]
    assert _post(client, url + "/cancel", csrf, {}).status_code == 303
    assert client.get(url + "/progress.json").json()["state"] == "cancelled"
    _run_worker(app)  # nothing to run
    assert not list((Path(app.state.web.settings.outputs_dir) / "drafts").glob("*6.2*/v*"))


def test_form_errors_are_shown_per_field_and_nothing_is_queued(client):
    csrf = sign_in(client, "ed")
    bad = _post(client, "/jobs", csrf, FORM | {"name": "bad name", "groups": [], "patterns": "9.*"})
    assert bad.status_code == 422
    assert 'id="err-name"' in bad.text and 'id="err-groups"' in bad.text
    unknown = _post(client, "/jobs/plan", csrf, FORM | {"competences": [], "patterns": "9.*"})
    assert unknown.status_code == 422 and 'id="err-competences"' in unknown.text and "9.*" in unknown.text
    assert "Chưa có công việc nào" in client.get("/jobs").text


def test_spec_upload_fills_the_form_and_a_bad_one_shows_field_errors(client):
    csrf = sign_in(client, "ed")
    good = "name: from-file\nframework: vn-dcf-2025\ngroups: [farmers]\ncompetences: ['4.*']\nlevels: [1]\n" \
           "formats: [page]\nbackend: offline\n"
    r = _post(client, "/jobs/upload", csrf, {}, files={"spec_file": ("spec.yaml", good.encode(), "text/yaml")})
    assert r.status_code == 200 and 'value="from-file"' in r.text and "Kế hoạch" in r.text
    bad = "name: from-file\nframework: vn-dcf-2025\nlevels: [12]\nexecutor: somewhere\n"
    r = _post(client, "/jobs/upload", csrf, {}, files={"spec_file": ("bad.yaml", bad.encode(), "text/yaml")})
    assert r.status_code == 422
    for field in ("groups", "competences", "levels", "executor"):
        assert f'id="err-{field}"' in r.text, field
    down = _post(client, "/jobs/download", csrf, FORM)
    assert down.status_code == 200 and "attachment" in down.headers["content-disposition"]
    assert "name: web-job" in down.text and "executor: local" in down.text


def test_sources_upload_search_and_remove(client, app, monkeypatch):
    monkeypatch.setenv("HOCVU_EMBEDDER", "hashing")
    app.state.web.settings.embedder = "hashing"
    csrf = sign_in(client, "ed")
    text = "# Mật khẩu mạnh\n\nMật khẩu mạnh có ít nhất mười hai ký tự, gồm chữ, số và ký hiệu.\n".encode()
    r = _post(client, "/sources", csrf, {"collection": "tinh"},
              files=[("files", ("mat-khau.md", text, "text/markdown")),
                     ("files", ("anh.exe", b"MZ\x00\x00", "application/octet-stream"))])
    assert r.status_code == 200, r.text[:2000]
    assert "mat-khau.md" in r.text and "đã thêm" in r.text and "không thêm được" in r.text
    assert (Path(app.state.web.settings.workspace) / "sources" / "tinh" / "mat-khau.md").is_file()
    hits = client.get("/sources", params={"q": "mật khẩu mạnh", "collection": "tinh"})
    assert 'id="source-hits"' in hits.text and "mười hai ký tự" in hits.text
    assert "tinh" in client.get("/jobs/new").text  # the collection can be chosen for a job
    gone = _post(client, "/sources/remove", csrf, {"collection": "tinh", "file": "mat-khau.md"})
    assert gone.status_code == 303
    page = client.get("/sources")
    assert "ed: tinh/mat-khau.md (đã gỡ)" in page.text


@pytest.fixture
def fishers(library):  # type: ignore[no-untyped-def]
    """The farmers' profile as form values, renamed to a new group 'fishers'."""
    from generator.web.groups import profile_form

    values = profile_form(library.group("farmers").model_dump(mode="json", by_alias=True))
    return values | {"id": "fishers", "name_vi": "Ngư dân ven biển", "name_en": "Coastal fishers"}


def test_a_valid_group_is_saved_and_appears_in_the_job_form_and_coverage(client, app, fishers):
    csrf = sign_in(client, "ed")
    r = _post(client, "/groups", csrf, fishers)
    assert r.status_code == 303, r.text[:3000]
    saved = Path(app.state.web.settings.workspace) / "frameworks" / "groups" / "fishers.yaml"
    assert saved.is_file()
    assert "Ngư dân ven biển" in client.get("/groups").text
    assert 'value="fishers"' in client.get("/jobs/new").text
    assert "Ngư dân ven biển" in client.get("/coverage").text
    assert "ed: fishers (thêm mới)" in client.get("/groups").text


def test_an_invalid_group_shows_field_errors_and_writes_nothing(client, app, fishers):
    csrf = sign_in(client, "ed")
    bad = fishers | {"id": "Ngư Dân", "session_minutes": "500", "name_en": ""}
    bad["profile"] = bad["profile"].replace("max_words_per_lesson", "max_words")
    r = _post(client, "/groups", csrf, bad)
    assert r.status_code == 422
    assert 'id="err-id"' in r.text and 'id="err-session_minutes"' in r.text
    assert "reading.max_words" in r.text
    folder = Path(app.state.web.settings.workspace) / "frameworks" / "groups"
    assert not folder.exists() or not list(folder.iterdir())
    taken = _post(client, "/groups", csrf, fishers | {"id": "farmers"})
    assert taken.status_code == 422 and "Đã có nhóm farmers" in taken.text
    upload = _post(client, "/groups", csrf, {"original": ""},
                   files={"profile_file": ("g.yaml", b"id: x\nnames: [unclosed\n", "text/yaml")})
    assert upload.status_code == 422 and 'id="err-profile_file"' in upload.text


def test_an_upload_cannot_write_outside_its_collection_folder(client, app):
    from generator.web.sources import safe_file_name

    assert safe_file_name("../../etc/passwd") == "passwd"
    assert safe_file_name("..\\..\\boot.ini") == "boot.ini"
    assert safe_file_name(".bashrc") == "bashrc"
    csrf = sign_in(client, "ed")
    r = _post(client, "/sources", csrf, {"collection": "../x"}, files=[("files", ("a.md", b"# A\n", "text/markdown"))])
    assert r.status_code == 422 and "../x" in r.text
    ws = Path(app.state.web.settings.workspace)
    assert not (ws / "x").exists() and not (ws / "sources").exists()
