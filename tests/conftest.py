"""Shared fixtures. An autouse fixture points the workspace and HOME at a temporary folder and removes
OPENAI_* variables, so no test touches real state or a real service.

Helpers that tests import (offline drafts, fakes, the web app's seeded workspace) live in
``tests/support/``, not here: a conftest is pytest's to load, not a module to import from."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest.register_assert_rewrite("tests.support")  # their asserts report like a test's own

from tests.support.drafts import REPO, offline_lesson  # noqa: E402

__all__ = ["REPO", "offline_lesson"]  # still importable from here while branches move to tests.support


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh workspace and HOME for every test; returns the workspace."""
    ws = tmp_path / "ws"
    home = tmp_path / "home"
    ws.mkdir()
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("HOCVU_WORKSPACE", str(ws))
    for name in list(os.environ):
        if name.startswith(("OPENAI_", "HOCVU_")) and name != "HOCVU_WORKSPACE":
            monkeypatch.delenv(name, raising=False)
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):  # messages in English unless a test asks for Vietnamese
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(ws)
    return ws


@pytest.fixture
def workspace(isolated: Path) -> Path:
    """The test's workspace folder."""
    return isolated


@pytest.fixture(scope="session")
def library():  # type: ignore[no-untyped-def]
    """The shipped frameworks, groups and content (read-only)."""
    from generator.frameworks import Library

    return Library(None)


@pytest.fixture
def cli():  # type: ignore[no-untyped-def]
    """Run ``hocvu ARGS`` in-process: returns a click Result (exit_code, stdout, stderr)."""
    from typer.testing import CliRunner

    from generator.cli.main import app

    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):  # type: ignore[no-untyped-def]
        return runner.invoke(app, list(args), input=input, catch_exceptions=False)

    return invoke


@pytest.fixture(scope="session")
def lesson_templates(library):  # type: ignore[no-untyped-def]
    """Valid lesson bodies (vi, en) for the loopback server to answer with."""
    return {lang: offline_lesson(library, lang=lang).lesson.draft_part() for lang in ("vi", "en")}


@pytest.fixture(scope="session")
def lesson_maker(library):  # type: ignore[no-untyped-def]
    """(framework, competence, level, group name, lang) -> a lesson written for that group, as a good model
    would answer (the offline drafter's), cached."""
    from functools import lru_cache

    names = {name: g.id for g in library.groups.values() for name in (g.names.get("vi"), g.names.get("en"))}

    @lru_cache(maxsize=256)
    def make(framework: str, code: str, level: int, group: str, lang: str):  # type: ignore[no-untyped-def]
        gid = names.get(group)
        if gid is None:
            return None
        try:
            return offline_lesson(library, code, level, gid, lang, framework=framework).lesson.draft_part()
        except Exception:  # noqa: BLE001 - no offline content for it: the server falls back to its template
            return None

    return make


@pytest.fixture
def openai_server(lesson_templates, lesson_maker):  # type: ignore[no-untyped-def]
    """A loopback OpenAI-compatible server answering with valid lessons written for the group asked
    about; queue faults on it."""
    from tests.openai_server import LessonFactory, OpenAIServer

    with OpenAIServer(LessonFactory(lesson_templates, lesson_maker), hang_seconds=10) as srv:
        yield srv


@pytest.fixture
def openai_env(openai_server, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Point OPENAI_* at the loopback server, with short timeouts and fast retries."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-key")
    monkeypatch.setenv("OPENAI_BASE_URL", openai_server.base_url)
    monkeypatch.setenv("HOCVU_MODEL", "test-model")
    monkeypatch.setenv("HOCVU_TIMEOUT", "3")
    monkeypatch.setenv("HOCVU_MAX_RETRIES", "3")
    monkeypatch.setenv("HOCVU_PRICES", '{"test-model": {"input": 1.0, "output": 2.0}}')
    return openai_server
