"""The review loop in a real browser: Debian's Chromium through Playwright, against the app served by
uvicorn on a free loopback port. Screenshots of the key pages go to ``test-artifacts/web/``.

    reviewer rv1: sign in → open the draft → the listen control is there → request changes with a comment
    editor ed:    sign in → revise the section with the comments (keyboard) → a new version in review
    reviewer rv2: sign in → approve it (keyboard) → it is in the history and on the coverage page
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.drafts import REPO
from tests.support.web import MAIN, PASSWORD, XSS, make_app

pytest_plugins = ("tests.support.web",)

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
SHOTS = Path(os.environ.get("HOCVU_TEST_ARTIFACTS") or REPO / "test-artifacts") / "web"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"Debian's chromium is missing ({CHROMIUM})"),
]


@pytest.fixture
def server(web_ws: Path, library) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The app served by uvicorn in a background thread; yields its base URL."""
    import uvicorn

    app = make_app(web_ws, library=library)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert srv.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)
    sock.close()
    app.state.web.store.close()


@pytest.fixture
def browser(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Headless Chromium with the test's own HOME."""
    from playwright.sync_api import sync_playwright

    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True,
                              env={**os.environ, "HOME": str(home)})
        yield b
        b.close()


@pytest.fixture
def shots() -> Path:
    """Where screenshots go (emptied first)."""
    shutil.rmtree(SHOTS, ignore_errors=True)
    SHOTS.mkdir(parents=True)
    return SHOTS


class Session:
    """One person's browser tab, with what went wrong on it (console errors, script errors, dialogs)."""

    def __init__(self, browser, base: str, width: int = 1280, height: int = 900) -> None:  # type: ignore[no-untyped-def]
        self.context = browser.new_context(viewport={"width": width, "height": height}, locale="vi-VN")
        self.page = self.context.new_page()
        self.base = base
        self.problems: list[str] = []
        self.page.on("console", lambda m: m.type == "error" and self.problems.append(f"console: {m.text}"))
        self.page.on("pageerror", lambda e: self.problems.append(f"script error: {e}"))
        self.page.on("dialog", lambda d: (self.problems.append(f"dialog: {d.message}"), d.dismiss()))

    def sign_in(self, name: str) -> None:
        """Sign in with the keyboard: type, then Enter in the password field."""
        page = self.page
        page.goto(self.base + "/")
        assert "/login" in page.url
        page.get_by_label("Tên đăng nhập").fill(name)
        page.get_by_label("Mật khẩu").fill(PASSWORD)
        page.get_by_label("Mật khẩu").press("Enter")
        page.wait_for_url(self.base + "/")
        assert page.locator(".flash").first.inner_text().startswith(f"Đã đăng nhập: {name}")

    def close(self) -> None:
        self.context.close()


def open_lesson(s: Session, lesson_id: str) -> None:
    s.page.goto(f"{s.base}/lessons/{lesson_id}")
    s.page.wait_for_load_state("networkidle")


def test_review_loop_in_a_real_browser(server: str, browser, shots: Path, web_ws: Path) -> None:  # type: ignore[no-untyped-def]
    from generator.config import load_settings
    from generator.review.store import ReviewStore

    with ReviewStore.open(load_settings(web_ws)) as store:
        title = store.get_version(MAIN).lesson.title  # the seeded lesson's
    start = time.monotonic()
    # -- reviewer 1: listen, then request changes --------------------------------------------------
    rv1 = Session(browser, server)
    page = rv1.page
    page.goto(server + "/login")
    assert page.locator("html").get_attribute("lang") == "vi"
    page.screenshot(path=str(shots / "01-login.png"))
    rv1.sign_in("rv1")
    waiting = page.locator("section", has=page.locator("#h-waiting"))
    assert waiting.get_by_role("link", name=title).count() == 1
    page.screenshot(path=str(shots / "02-dashboard.png"), full_page=True)
    waiting.get_by_role("link", name=title).click()
    page.wait_for_load_state("networkidle")
    audio = page.locator("#listen audio")
    assert audio.count() == 1 and audio.get_attribute("controls") is not None
    page.wait_for_function("document.querySelector('#listen audio').readyState >= 1", timeout=10_000)
    assert page.evaluate("document.querySelector('#listen audio').duration") > 0.1
    preview = page.frame_locator("iframe.preview")
    assert preview.locator("h1").inner_text() == title
    page.screenshot(path=str(shots / "03-lesson-reviewer.png"), full_page=True)
    page.get_by_label("Nhận xét").fill("Ví dụ nên kể về một bà cụ nhận tin nhắn lạ, cho gần gũi hơn.")
    page.get_by_label("Về phần").first.select_option("example")
    page.get_by_role("button", name="Yêu cầu sửa").click()
    page.wait_for_url(f"{server}/lessons/{MAIN}")
    assert "Đã gửi yêu cầu sửa phiên bản 1." in page.locator(".flash").inner_text()
    assert page.locator(".lesson-head .badge").first.inner_text() == "Cần sửa"
    assert "Ví dụ nên kể về một bà cụ" in page.locator("#comments").inner_text()
    page.get_by_role("button", name="Đăng xuất", exact=True).click()
    page.wait_for_url(f"{server}/login")
    rv1.close()

    # -- editor: revise the section with the comments, from the keyboard ----------------------------
    ed = Session(browser, server, width=390, height=844)  # on a phone
    ed.sign_in("ed")
    page = ed.page
    to_revise = page.locator("section", has=page.locator("#h-revise"))
    assert title in to_revise.inner_text()
    open_lesson(ed, MAIN)
    page.get_by_label("Soạn lại phần theo góp ý").select_option("example")
    page.screenshot(path=str(shots / "04-lesson-editor-phone.png"), full_page=True)
    page.locator("#revise-button").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"{server}/lessons/{MAIN}", timeout=30_000)
    flash = page.locator(".flash").first.inner_text()
    assert "Đã tạo phiên bản 2" in flash and "1 góp ý" in flash
    assert page.locator(".lesson-head .badge").first.inner_text() == "Chờ duyệt"
    ed.close()

    # -- reviewer 2: approve version 2 with the keyboard ------------------------------------------
    rv2 = Session(browser, server)
    rv2.sign_in("rv2")
    page = rv2.page
    open_lesson(rv2, MAIN)
    assert "Phiên bản 2/2" in page.locator(".lesson-head").inner_text()
    assert "Đã sửa kể từ yêu cầu sửa (v1 → v2)" in page.locator(".lesson-head").inner_text()
    page.get_by_label("Còn 1 góp ý đang mở", exact=False).check()  # rv1's comment is dealt with
    page.get_by_role("button", name="Duyệt").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"{server}/lessons/{MAIN}")
    assert "Đã duyệt phiên bản 2." in page.locator(".flash").inner_text()
    history = page.locator("#history")
    assert "Đã duyệt" in history.locator("tr.shown").inner_text()
    events = history.locator(".events").inner_text()
    assert "rv2 duyệt v2" in events and "ed tạo v2" in events and "rv1 yêu cầu sửa v1" in events
    # The section diff v1 → v2 (the offline backend recomposes from its library and may change nothing).
    assert history.locator("pre.diff").count() >= 1 or "v1 và v2 giống nhau" in history.inner_text()
    page.screenshot(path=str(shots / "05-lesson-approved.png"), full_page=True)

    page.get_by_role("link", name="Độ phủ").click()
    page.get_by_label("Nhóm người học").select_option("elderly")
    page.get_by_role("button", name="Xem").click()
    slot = page.locator(f'a.slot[href="/lessons/{MAIN}"]')
    assert "cv-approved" in (slot.get_attribute("class") or "")
    page.screenshot(path=str(shots / "06-coverage.png"), full_page=True)

    # -- hostile lesson text stays text; the English switch works ---------------------------------
    open_lesson(rv2, XSS)
    assert "<script>alert('hocvu')</script>" in page.locator("h1").inner_text()
    assert "<script>" in page.frame_locator("iframe.preview").locator("h1").inner_text()
    page.get_by_role("link", name="English").click()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("button", name="Approve").count() == 1
    page.screenshot(path=str(shots / "07-lesson-english.png"))
    rv2.close()

    problems = rv1.problems + ed.problems + rv2.problems
    assert not problems, problems
    assert time.monotonic() - start < 60
    assert {p.name for p in shots.iterdir()} >= {"01-login.png", "03-lesson-reviewer.png", "06-coverage.png"}


def test_main_actions_work_with_the_keyboard_alone(server: str, browser) -> None:  # type: ignore[no-untyped-def]
    s = Session(browser, server)
    s.sign_in("rv1")
    page = s.page
    page.keyboard.press("Tab")  # the skip link comes first
    assert page.evaluate("document.activeElement.className") == "skip"
    open_lesson(s, MAIN)
    page.get_by_label("Nhận xét").focus()
    page.keyboard.type("Cần thêm một bước kiểm tra cài đặt quyền riêng tư.")
    for _ in range(3):  # comment → section → approve → request changes
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent").strip().endswith("Yêu cầu sửa")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{server}/lessons/{MAIN}")
    assert "Đã gửi yêu cầu sửa" in page.locator(".flash").inner_text()
    assert not s.problems, s.problems
    s.close()


def test_the_coverage_page_fits_a_phone(server: str, browser) -> None:  # type: ignore[no-untyped-def]
    s = Session(browser, server, width=390, height=844)
    s.sign_in("rv1")
    s.page.goto(server + "/coverage")
    s.page.wait_for_load_state("networkidle")
    width = s.page.evaluate("document.documentElement.scrollWidth")
    wide = s.page.evaluate("""() => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 2
                     && (!e.closest('.matrix-wrap') || e.classList.contains('matrix-wrap')))
        .slice(0, 6).map(e => e.tagName + '.' + e.className + ':' + Math.round(e.getBoundingClientRect().width))""")
    s.close()
    assert width <= 390 + 1, (width, wide)  # the matrix scrolls inside its own box, the page does not
