"""The editors' pages in a real browser (Debian's Chromium through Playwright) against the app served by
uvicorn, with a real ``hocvu worker`` process running the jobs — the web process never runs one:

    editor:   Soạn bài → plan → start a 6-lesson job (offline, page) → progress reaches the end (polled by
              /static/jobs.js under the strict CSP) → the report → a produced lesson from the queue
    editor:   a running job cancelled from its page → it stops; every version whole, none half-made
    editor:   a bad spec file uploaded → errors beside each field
    editor:   a new learner group through the form → in the job form and the coverage matrix
    reviewer: no "Soạn bài" link, and the form answers 403
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.drafts import REPO
from tests.test_web_browser import CHROMIUM, Session, browser, server  # noqa: F401 - fixtures

pytest_plugins = ("tests.support.web",)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"Debian's chromium is missing ({CHROMIUM})"),
]


@pytest.fixture
def worker(web_ws: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``hocvu worker`` as its own process over the test's workspace (as ``hocvu serve`` starts it)."""
    env = {**os.environ, "HOCVU_WORKSPACE": str(web_ws), "HOCVU_WORKER_POLL": "0.2",
           "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "generator.cli.main", "worker"], env=env, cwd=web_ws,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    yield proc
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _fill_job(page, name: str, competences: list[str], levels: list[int]) -> None:  # type: ignore[no-untyped-def]
    page.get_by_label("Tên công việc").fill(name)
    page.locator('input[name="groups"][value="elderly"]').check()
    for code in competences:
        box = page.locator(f'input[name="competences"][value="{code}"]')
        box.locator("xpath=ancestor::details").evaluate("d => d.open = true")
        box.check()
    for n in levels:
        page.locator(f'input[name="levels"][value="{n}"]').check()
    page.locator('input[name="formats"][value="page"]').check()
    page.get_by_label("Cách soạn").select_option("offline")


def _versions(ws: Path) -> list[Path]:
    return sorted((ws / "outputs" / "drafts").glob("*/v*"))


def test_an_editor_runs_a_job_from_the_browser_and_opens_a_lesson(server, browser, worker, web_ws):  # type: ignore[no-untyped-def]  # noqa: F811
    s = Session(browser, server)
    s.sign_in("ed")
    page = s.page
    page.get_by_role("link", name="Soạn bài", exact=True).click()
    page.locator('input[name="levels"][value="1"]').uncheck()
    _fill_job(page, "sau-bai", ["5.1", "5.2"], [1, 2, 3])
    page.get_by_role("button", name="Xem kế hoạch").click()
    plan = page.locator("#plan")
    assert "Sẽ soạn 6 bài; 0 bài đã có sẵn" in plan.inner_text()
    page.get_by_role("button", name="Bắt đầu soạn").click()
    page.wait_for_url(f"{server}/jobs/*")
    assert "Đã xếp hàng công việc" in page.locator(".flash").inner_text()
    assert page.locator("#job-total").inner_text() == "6"
    page.locator("#job-report").wait_for(timeout=180_000)  # the script reloads the page at the end
    assert page.locator("#job-state").inner_text() == "Hoàn thành"
    assert page.locator("#job-finished").inner_text() == "6"
    assert page.locator("#job-lessons li").count() == 6
    page.get_by_role("link", name="Xem trong danh sách bài chờ duyệt").click()
    link = page.locator('a.title[href^="/lessons/vn-dcf-2025.5.2.L3.elderly.vi"]')
    link.click()
    page.wait_for_load_state("networkidle")
    assert "Chờ duyệt" in page.locator(".lesson-head").inner_text()
    assert page.frame_locator("iframe.preview").locator("h1").count() == 1
    assert len(_versions(web_ws)) == 6 + 5  # the six new ones beside the five seeded
    assert not s.problems, s.problems  # no CSP violation, no script error
    s.close()


def test_cancelling_a_running_job_leaves_no_half_version(server, browser, worker, web_ws):  # type: ignore[no-untyped-def]  # noqa: F811
    from playwright.sync_api import expect

    from generator.config import load_settings
    from generator.review.store import ReviewStore

    seeded = len(_versions(web_ws))
    s = Session(browser, server)
    s.sign_in("ed")
    page = s.page
    page.goto(server + "/jobs/new")
    # 40 lessons one at a time: enough that the stop lands part-way even when lessons come quickly
    _fill_job(page, "dung-giua-chung", ["3.1", "3.2", "3.3", "3.4", "4.1", "4.2", "4.3", "4.4"], [2, 3, 4, 5, 6])
    page.get_by_label("Số lượt gọi mô hình cùng lúc").fill("1")
    page.get_by_role("button", name="Xem kế hoạch").click()
    page.get_by_role("button", name="Bắt đầu soạn").click()
    page.wait_for_url(f"{server}/jobs/*")
    expect(page.locator("#job-finished")).not_to_have_text("0", timeout=120_000)  # updated by the script
    page.get_by_role("button", name="Dừng công việc").click()
    page.locator("#job-report").wait_for(timeout=120_000)
    assert page.locator("#job-state").inner_text() == "Đã hủy"
    made = _versions(web_ws)[:]
    assert 1 <= len(made) - seeded < 40  # 40 planned, stopped part-way
    assert not list((web_ws / "outputs" / "drafts").glob("*/.incoming-*"))
    with ReviewStore.open(load_settings(web_ws)) as store:
        for folder in made:
            assert (folder / ".files.json").is_file()
            assert store.get_version(folder.parent.name, int(folder.name[1:])).number == int(folder.name[1:])
    assert not s.problems, s.problems
    s.close()


def test_a_bad_spec_file_shows_errors_beside_its_fields(server, browser, tmp_path):  # type: ignore[no-untyped-def]  # noqa: F811
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: thu nghiem\nframework: vn-dcf-2025\ngroups: []\nlevels: [9]\n", encoding="utf-8")
    s = Session(browser, server)
    s.sign_in("ed")
    page = s.page
    page.goto(server + "/jobs/new")
    page.get_by_label("Tệp cấu hình (YAML)").set_input_files(str(bad))
    page.get_by_role("button", name="Đọc tệp").click()
    for field in ("name", "groups", "competences", "levels"):
        assert page.locator(f"#err-{field}").is_visible(), field
    assert page.locator("#j-name").get_attribute("aria-invalid") == "true"
    s.close()


def test_a_new_group_from_the_form_is_offered_at_once(server, browser, web_ws):  # type: ignore[no-untyped-def]  # noqa: F811
    s = Session(browser, server)
    s.sign_in("ed")
    page = s.page
    page.get_by_role("link", name="Nhóm người học", exact=True).click()
    page.get_by_role("link", name="Tạo nhóm mới từ nhóm này").first.click()
    page.get_by_label("Mã nhóm").fill("ngu-dan")
    page.get_by_label("Tên tiếng Việt").fill("Ngư dân ven biển")
    page.get_by_label("Tên tiếng Anh").fill("Coastal fishers")
    page.get_by_label("Số phút một buổi học").fill("5")
    page.get_by_role("button", name="Lưu", exact=True).click()
    assert page.locator("#err-session_minutes").is_visible()
    assert not (web_ws / "frameworks" / "groups" / "ngu-dan.yaml").exists()
    page.get_by_label("Số phút một buổi học").fill("45")
    page.get_by_role("button", name="Lưu", exact=True).click()
    page.wait_for_url(f"{server}/groups")
    assert "Đã lưu nhóm ngu-dan" in page.locator(".flash").inner_text()
    page.get_by_role("link", name="Soạn bài", exact=True).click()
    assert page.locator('input[name="groups"][value="ngu-dan"]').count() == 1
    page.goto(server + "/coverage")
    assert page.locator("table.matrix thead").get_by_text("Ngư dân ven biển").count() == 1
    s.close()


def test_a_reviewer_cannot_see_the_job_form(server, browser):  # type: ignore[no-untyped-def]  # noqa: F811
    s = Session(browser, server)
    s.sign_in("rv1")
    page = s.page
    assert page.get_by_role("link", name="Soạn bài", exact=True).count() == 0
    response = page.goto(server + "/jobs/new")
    assert response is not None and response.status == 403
    assert page.locator("#job-form").count() == 0
    s.close()
