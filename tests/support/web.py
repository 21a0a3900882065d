"""Shared pieces of the web tests: a seeded workspace (real offline drafts recorded through the core),
an app over it, and sign-in helpers. The workspace is seeded once per session and copied per test.

Seeded lessons (framework vn-dcf-2025, author ``ed``):

    MAIN   4.2 L1 elderly vi   in review, page + a short narration.mp3
    OTHER  1.1 L1 farmers vi   in review, page
    XSS    2.1 L2 elderly vi   in review, with <script> in its title, example and a source passage
    DONE   4.2 L2 elderly vi   approved by rv1
    BACK   1.1 L1 elderly vi   changes requested by rv1 (open comment)
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.support.drafts import offline_lesson

PASSWORD = "mat-khau-123"
USERS = {"ed": "editor", "ed2": "editor", "rv1": "reviewer", "rv2": "reviewer", "boss": "admin"}
FW = "vn-dcf-2025"
MAIN = f"{FW}.4.2.L1.elderly.vi"
OTHER = f"{FW}.1.1.L1.farmers.vi"
XSS = f"{FW}.2.1.L2.elderly.vi"
DONE = f"{FW}.4.2.L2.elderly.vi"
BACK = f"{FW}.1.1.L1.elderly.vi"
SCRIPT = "<script>alert('hocvu')</script>"


def tiny_mp3() -> bytes:
    """A third of a second of silence as a real MP3 (lameenc), enough for an <audio> control."""
    import lameenc

    enc = lameenc.Encoder()
    enc.set_bit_rate(32)
    enc.set_in_sample_rate(16000)
    enc.set_channels(1)
    enc.set_quality(7)
    return bytes(enc.encode(b"\x00\x00" * 5000) + enc.flush())


def page_and_audio(lesson, group, out_dir, formats, settings, tts=None):  # type: ignore[no-untyped-def]
    """A renderer for tests: the real page renderer, plus a tiny narration.mp3 when 'audio' is asked for."""
    from generator.render import render_lesson

    result = render_lesson(lesson, group, out_dir, [f for f in formats if f != "audio"] or ["page"], settings)
    if "audio" in formats:
        (out_dir / "narration.mp3").write_bytes(tiny_mp3())
    return result


def _record(library, settings, store, competence, level, group, *, audio=False, change=None):  # type: ignore[no-untyped-def]
    from generator.versions import make_version

    drafted = offline_lesson(library, competence=competence, level=level, group=group)
    if change:
        drafted.lesson = change(drafted.lesson)
    new = make_version(drafted, library, settings, store, author="ed", kind="draft",
                              formats=["page", "audio"] if audio else ["page"], render=page_and_audio,
                              note="drafted with offline")
    return new.record


def _with_script(lesson):  # type: ignore[no-untyped-def]
    from generator.lesson import SourceCitation

    source = SourceCitation(id="S1", title=f"Sổ tay {SCRIPT}", file="so-tay.pdf", page=3,
                            text=f'Đoạn trích <img src=x onerror="alert(1)"> {SCRIPT}', section="Mật khẩu")
    points = [k.model_copy(update={"sources": ["S1"] if i == 0 else k.sources})
              for i, k in enumerate(lesson.key_points)]  # key point 1 cites the passage
    return lesson.model_copy(update={"title": f"Bài học {SCRIPT}", "example": f"Ví dụ {SCRIPT} an toàn.",
                                     "sources": [source], "key_points": points})


def seed(ws: Path, library: Any = None) -> None:
    """Users and lessons in the workspace ``ws`` (see the module docstring)."""
    from generator.config import load_settings
    from generator.frameworks import Library
    from generator.review.store import ReviewStore

    settings = load_settings(ws)
    library = library or Library(ws)
    with ReviewStore.open(settings) as store:
        for name, role in USERS.items():
            store.add_user(name, role, PASSWORD)
        _record(library, settings, store, "4.2", 1, "elderly", audio=True)
        _record(library, settings, store, "1.1", 1, "farmers")
        _record(library, settings, store, "2.1", 2, "elderly", change=_with_script)
        _record(library, settings, store, "4.2", 2, "elderly")
        store.approve(DONE, "rv1")
        _record(library, settings, store, "1.1", 1, "elderly")
        store.request_changes(BACK, "rv1", "Phần tóm tắt quá dài, hãy viết gọn lại.", section="summary")


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory: pytest.TempPathFactory, library: Any) -> Path:
    """A seeded workspace, made once per test session (copied for each test)."""
    ws = tmp_path_factory.mktemp("web-template") / "ws"
    ws.mkdir()
    mp = pytest.MonkeyPatch()
    mp.setenv("HOCVU_WORKSPACE", str(ws))
    try:
        seed(ws, library)
    finally:
        mp.undo()
    return ws


@pytest.fixture
def web_ws(seeded_template: Path, workspace: Path) -> Path:
    """This test's own copy of the seeded workspace (the isolated test workspace, filled)."""
    shutil.copytree(seeded_template, workspace, dirs_exist_ok=True)
    return workspace


def make_app(ws: Path, **kw: Any):  # type: ignore[no-untyped-def]
    """The web app over workspace ``ws``: offline backend, page + audio renders through the test renderer."""
    from generator.config import load_settings
    from generator.web.app import create_app

    kw.setdefault("formats", ["page", "audio"])
    kw.setdefault("render", page_and_audio)
    return create_app(load_settings(ws), **kw)


@pytest.fixture
def app(web_ws: Path, library: Any):  # type: ignore[no-untyped-def]
    """The app over this test's seeded workspace (sharing the session's read-only framework library)."""
    application = make_app(web_ws, library=library)
    yield application
    application.state.web.store.close()


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    """A TestClient (no redirects followed, so statuses can be asserted)."""
    from fastapi.testclient import TestClient

    with TestClient(app, follow_redirects=False) as c:
        yield c


_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(client, url: str = "/login") -> str:  # type: ignore[no-untyped-def]
    """The CSRF token a page of ``url`` carries for this client's session."""
    r = client.get(url)
    assert r.status_code == 200, (url, r.status_code, r.text[:500])
    m = _CSRF.search(r.text)
    assert m, f"no CSRF token on {url}"
    return m.group(1)


def sign_in(client, name: str, password: str = PASSWORD) -> str:  # type: ignore[no-untyped-def]
    """Sign ``name`` in (in a fresh session); returns the session's CSRF token."""
    client.cookies.clear()
    r = client.post("/login", data={"name": name, "password": password, "csrf_token": csrf_of(client)})
    assert r.status_code == 303, (r.status_code, r.text[:500])
    return csrf_of(client, "/")


def row_version(app, lesson_id: str) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """(row_version, current_version) of a lesson, for decision forms."""
    state = app.state.web.store.lesson_state(lesson_id)
    return state.row_version, state.current_version
