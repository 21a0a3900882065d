"""Fast commands import only what they use: `hocvu --help`, `review list`, `review approve`, `history`
and `draft --formats none` run in a fresh interpreter, and none of the heavy libraries (model clients,
vector store, document writers, imaging, audio, the web stack) is in ``sys.modules`` when they end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
#: Libraries a command that does not draft through a model, search sources, render or serve never needs.
HEAVY = ("langchain", "langchain_core", "langchain_openai", "openai", "chromadb", "pptx", "docx", "PIL",
         "numpy", "lameenc", "gtts", "mutagen", "fastapi", "starlette", "uvicorn", "jinja2", "httpx", "argon2",
         "alembic", "pypdf", "onnxruntime", "tokenizers", "playwright")

RUN = """
import atexit, json, sys
path = sys.argv[1]
def dump():
    with open(path, "w") as fh:
        json.dump(sorted(sys.modules), fh)
atexit.register(dump)
sys.argv = ["hocvu", *sys.argv[2:]]
from generator.cli.main import run
run()
"""


def hocvu(workspace: Path, *args: str, stdin: str = "") -> set[str]:
    """Run ``hocvu ARGS`` in a fresh interpreter; the modules it had imported when it ended."""
    out = workspace / "modules.json"
    env = {**os.environ, "HOCVU_WORKSPACE": str(workspace), "HOME": str(workspace), "PYTHONPATH": str(REPO),
           "HOCVU_USER": "ed"}
    env.pop("OPENAI_API_KEY", None)
    proc = subprocess.run([sys.executable, "-c", RUN, str(out), *args], env=env, capture_output=True, text=True,
                          timeout=120, input=stdin)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return set(json.loads(out.read_text(encoding="utf-8")))


def heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in HEAVY)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace with two offline lessons in review and a reviewer."""
    ws = tmp_path_factory.mktemp("ws")
    hocvu(ws, "draft", "-f", "vn-dcf-2025", "-c", "4.2", "-l", "1", "-g", "elderly", "-b", "offline",
          "--formats", "none")
    hocvu(ws, "draft", "-f", "vn-dcf-2025", "-c", "4.1", "-l", "1", "-g", "elderly", "-b", "offline",
          "--formats", "none")
    hocvu(ws, "users", "add", "rev", "--role", "reviewer", "--no-password")
    return ws


LESSON = "vn-dcf-2025.4.2.L1.elderly.vi"
LESSON2 = "vn-dcf-2025.4.1.L1.elderly.vi"


@pytest.mark.parametrize("args", [
    ["--help"],
    ["review", "list"],
    ["history", LESSON],
    ["draft", "-f", "vn-dcf-2025", "-c", "2.3", "-l", "1", "-g", "farmers", "-b", "offline", "--formats", "none"],
], ids=lambda a: " ".join(a[:2]))
def test_fast_commands_import_no_heavy_library(workspace: Path, args: list[str]) -> None:
    assert heavy(hocvu(workspace, *args)) == []


def test_approving_imports_no_heavy_library(workspace: Path) -> None:
    modules = hocvu(workspace, "review", "approve", LESSON, "--as", "rev")
    assert heavy(modules) == []


def test_help_imports_neither_the_store_nor_the_drafting_code(workspace: Path) -> None:
    modules = hocvu(workspace, "--help")
    assert not {m for m in modules if m.split(".")[0] in ("sqlalchemy", "pydantic", "yaml")}
    assert not {m for m in modules if m.startswith(("generator.review.", "generator.drafting.", "generator.render."))}


@pytest.mark.parametrize("args", [["review", "list"], ["history", LESSON]], ids=lambda a: a[0])
def test_reading_the_sqlite_store_imports_no_sqlalchemy(workspace: Path, args: list[str]) -> None:
    # store/fastread.py answers with the stdlib sqlite3; the ORM, alembic, the lesson models and the drafter
    # stay out, and so does pydantic: settings come through config_light, option values through cli/params.
    # The first list after a new version rechecks its outdated flag through the store (a write); not the next.
    hocvu(workspace, "review", "list")
    modules = hocvu(workspace, *args)
    assert not {m for m in modules if m.split(".")[0] in ("sqlalchemy", "alembic", "yaml", "pydantic",
                                                          "pydantic_settings", "pydantic_core")}
    assert not {m for m in modules if m.startswith(("generator.review.models", "generator.review.store.core",
                                                    "generator.lesson", "generator.schema", "generator.drafting.",
                                                    "generator.content"))} - {"generator.drafting.prompts"}


def test_approving_imports_neither_sqlalchemy_nor_pydantic(workspace: Path) -> None:
    # store/fastwrite.py approves with the stdlib sqlite3 (tests/test_store_fastwrite.py: the same rows)
    modules = hocvu(workspace, "review", "approve", LESSON2, "--as", "rev")
    assert not {m for m in modules if m.split(".")[0] in ("sqlalchemy", "alembic", "yaml", "pydantic")}
    assert not {m for m in modules if m.startswith(("generator.drafting.", "generator.review.models",
                                                    "generator.review.migrations", "generator.lesson"))}


def test_the_guard_sees_a_heavy_import(workspace: Path) -> None:
    # the check can fail: rendering a handout does import python-docx
    modules = hocvu(workspace, "draft", "-f", "vn-dcf-2025", "-c", "1.1", "-l", "1", "-g", "farmers", "-b",
                    "offline", "--formats", "handout")
    assert "docx" in heavy(modules)
