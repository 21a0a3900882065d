"""The SCORM bridge in a real browser: inside an LMS frame it reports the quiz score through
``window.API``; opened on its own it does nothing and raises nothing."""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
import zipfile
from pathlib import Path

import pytest

from generator.config import load_settings
from generator.publish.release import build_release
from generator.review.store import ReviewStore
from generator.versions import make_version
from tests.support.drafts import offline_lesson

CHROMIUM = "/usr/bin/chromium"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium package"),
]

LMS = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>fake LMS</title><script>
window.calls = [];
function rec(name) { return function (a, b) { window.calls.push([name, a, b]); return "true"; }; }
window.API = {
  LMSInitialize: rec("LMSInitialize"), LMSFinish: rec("LMSFinish"), LMSCommit: rec("LMSCommit"),
  LMSSetValue: rec("LMSSetValue"),
  LMSGetValue: function (k) {
    window.calls.push(["LMSGetValue", k]);
    return k === "cmi.core.lesson_status" ? "not attempted" : "";
  },
  LMSGetLastError: function () { return "0"; }, LMSGetErrorString: function () { return ""; },
  LMSGetDiagnostic: function () { return ""; }
};
</script></head>
<body><iframe id="sco" src="sco/index.html" style="width:100%;height:90vh"></iframe></body></html>
"""


@pytest.fixture
def site(workspace, library, tmp_path):  # type: ignore[no-untyped-def]
    """A release with one approved lesson; its SCORM package unpacked under a fake LMS page, served."""
    settings = load_settings()
    with ReviewStore.open(settings) as store:
        store.add_user("rev", "reviewer")
        d = offline_lesson(library)
        make_version(d, library, settings, store, author="ed", kind="draft", formats=["page"])
        store.approve(d.lesson.id, "rev")
        release = build_release(store, library, settings, "r1", by="ed")
    served = tmp_path / "served"
    from generator.publish.scorm import zip_scorm

    with zipfile.ZipFile(zip_scorm(release.path / "scorm" / d.lesson.id, tmp_path / "package.zip")) as zf:
        zf.extractall(served / "sco")
    (served / "lms.html").write_text(LMS, encoding="utf-8")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *a: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", d.lesson
    server.shutdown()
    shutil.rmtree(served, ignore_errors=True)


@pytest.fixture
def browser():  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


def _answer(frame, n: int, option: int) -> None:  # type: ignore[no-untyped-def]
    frame.locator(f"#q{n} input[value='{option}']").check()
    frame.locator(f"#q{n} button[type=submit]").click()


def _set_values(page) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return [(c[1], c[2]) for c in page.evaluate("window.calls") if c[0] == "LMSSetValue"]


def test_the_quiz_score_reaches_the_lms(site, browser):
    url, lesson = site
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{url}/lms.html")
    frame = page.frame_locator("#sco")
    frame.locator("form.quiz").first.wait_for()
    calls = page.evaluate("window.calls")
    assert calls[0][0] == "LMSInitialize"
    assert ("cmi.core.lesson_status", "incomplete") in _set_values(page)
    n = len(lesson.quiz)
    wrong = (lesson.quiz[0].answer + 1) % len(lesson.quiz[0].options)
    _answer(frame, 1, wrong)
    for i, q in enumerate(lesson.quiz[1:], start=2):
        _answer(frame, i, q.answer)
    partial = round(100 * (n - 1) / n)
    values = _set_values(page)
    assert ("cmi.core.score.raw", str(partial)) in values
    assert values[-1] != ("cmi.core.lesson_status", "passed")
    assert ("cmi.core.lesson_status", "passed" if partial >= 80 else "failed") in values
    _answer(frame, 1, lesson.quiz[0].answer)
    values = _set_values(page)
    assert values[-2:] == [("cmi.core.score.raw", "100"), ("cmi.core.lesson_status", "passed")]
    assert ("cmi.core.score.max", "100") in values
    page.evaluate("document.getElementById('sco').src = 'about:blank'")
    page.wait_for_function("window.calls.some(function (c) { return c[0] === 'LMSFinish'; })")
    assert errors == []


def test_without_an_lms_the_page_works_alone(site, browser):
    url, lesson = site
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{url}/sco/index.html")
    _answer(page, 1, lesson.quiz[0].answer)
    assert page.locator("#q1 .feedback").inner_text().strip()
    assert page.evaluate("window.hocvuScorm.api") is None
    assert errors == []
