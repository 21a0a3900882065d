"""The review, users, edit, revise, history and publish commands, and the whole loop from the CLI:
draft → request changes with a comment → revise → approve (by a second user) → publish → verify."""

from __future__ import annotations

import json
import stat
import sys

import pytest

L = "vn-dcf-2025.4.2.L1.elderly.vi"
DRAFT = ["draft", "-f", "vn-dcf-2025", "-c", "4.2", "-l", "1", "-g", "elderly"]


def ok(result):  # type: ignore[no-untyped-def]
    assert result.exit_code == 0, result.output
    return result.output


def one_line_error(result, code: int = 1) -> str:  # type: ignore[no-untyped-def]
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output and result.output.startswith("error:")
    return result.output


@pytest.fixture
def people(cli):  # type: ignore[no-untyped-def]
    ok(cli("users", "add", "ed", "--role", "editor", "--no-password"))
    ok(cli("users", "add", "rev1", "--role", "reviewer", "--password-stdin", input="mật-khẩu-rev1\n"))
    ok(cli("users", "add", "rev2", "--role", "reviewer", input="pw-rev2-long\npw-rev2-long\n"))
    return cli


def test_the_whole_loop(people, workspace):
    cli = people
    assert "in review: version 1 (by ed)" in ok(cli(*DRAFT, "--as", "ed"))
    assert "in review" in ok(cli("review", "list"))
    out = one_line_error(cli("review", "request-changes", L, "--as", "rev1"))
    assert "a comment is required to request changes" in out
    out = ok(
        cli(
            "review",
            "request-changes",
            L,
            "--as",
            "rev1",
            "--comment",
            "Bước 2 khó hiểu",
            "--section",
            "steps",
        )
    )
    assert "changes requested, version 1" in out and f"hocvu revise {L} --section steps" in out
    out = ok(cli("review", "show", L))
    assert "open comments:" in out and "rev1 (v1 on steps" in out and "Bước 2 khó hiểu" in out
    out = ok(cli("revise", L, "--section", "steps", "--as", "ed", "--formats", "page,handout"))
    assert "version 2 (in review) by ed, revised steps with offline following 1 open comment(s)" in out
    assert "Không tự áp dụng được" in out
    assert "version 1 → 2" in ok(cli("review", "diff", L))
    assert "ed is an editor and may not approve" in one_line_error(cli("review", "approve", L, "--as", "ed"))
    out = one_line_error(cli("review", "approve", L, "--as", "rev1", "--version", "1"))
    assert "you reviewed" in out and "version 2 by ed is current" in out
    assert "approved, version 2 (approved by rev2)" in ok(
        cli("review", "approve", L, "--as", "rev2", "-v", "2", "--resolve-open")
    )
    out = ok(cli("history", L))
    for word in ("create (draft)", "request changes (steps)", "create (revise)", "approve", "rev2"):
        assert word in out
    assert "may not publish" in one_line_error(cli("publish", "--release", "r1", "--as", "ed"))
    out = ok(cli("publish", "--release", "r1"))
    assert "release r1: 1 lesson(s)" in out and f"{L} v2 (approved by rev2)" in out
    root = workspace / "outputs/published/r1"
    assert (root / "index.html").exists() and (root / "lessons" / L / "handout.docx").exists()
    assert "all match the manifest" in ok(cli("publish", "verify", "r1"))
    assert "published" in ok(cli("review", "list", "--status", "published"))
    assert "r1" in ok(cli("publish", "list"))
    page = root / "lessons" / L / "index.html"
    page.write_bytes(page.read_bytes().replace(b"</h1>", b"!</h1>"))
    result = cli("publish", "verify", "r1")
    assert result.exit_code == 1 and f"changed: lessons/{L}/index.html" in result.output
    assert "already exists" in one_line_error(cli("publish", "--release", "r1"))


def test_users_commands(people, workspace):
    cli = people
    out = ok(cli("users", "list"))
    assert "rev1" in out and "reviewer" in out and "editor" in out
    from generator.config import load_settings
    from generator.review.store import ReviewStore

    with ReviewStore.open(load_settings()) as s:
        assert s.verify_password("rev1", "mật-khẩu-rev1") and s.verify_password("rev2", "pw-rev2-long")
        assert not s.get_user("ed").has_password
    assert "password set for ed" in ok(
        cli("users", "set-password", "ed", "--password-stdin", input="new-secret-1\n")
    )
    assert "ed is now admin" in ok(cli("users", "set-role", "ed", "admin"))
    assert "already exists" in one_line_error(cli("users", "add", "ed", "--role", "editor", "--no-password"))
    assert "unknown role 'chief'" in one_line_error(cli("users", "add", "x", "--role", "chief"), 2)
    assert "unknown user 'ghost'" in one_line_error(cli("users", "set-password", "ghost"), 2)
    result = cli("users", "add", "lan", "--role", "editor", input="a\nb\n")
    assert result.exit_code != 0


def test_four_eyes_and_authors_from_the_cli(people, workspace, monkeypatch):
    cli = people
    ok(cli("users", "add", "boss", "--role", "admin", "--no-password"))
    monkeypatch.setenv("HOCVU_USER", "boss")
    assert "(by boss)" in ok(cli(*DRAFT))
    assert "four-eyes" in one_line_error(cli("review", "approve", L))  # --as defaults to HOCVU_USER
    out = one_line_error(cli(*DRAFT, "--as", "rev1"))
    assert "rev1 is a reviewer and may not make versions" in out
    assert sorted(p.name for p in (workspace / "outputs/drafts" / L).iterdir()) == ["v1"]
    assert "rejected" in ok(cli("review", "reject", L, "--as", "rev1", "-m", "Không phù hợp"))
    assert "draft it anew" in one_line_error(cli("revise", L, "--as", "ed"))


def test_edit_from_a_file_and_in_the_editor(people, workspace, tmp_path, monkeypatch):
    cli = people
    ok(cli(*DRAFT, "--as", "ed"))
    from generator.review.edit import to_yaml

    lesson = json.loads((workspace / "outputs/drafts" / L / "v1/lesson.json").read_text(encoding="utf-8"))
    sections = {
        k: lesson[k]
        for k in (
            "title",
            "summary",
            "objectives",
            "key_points",
            "steps",
            "example",
            "tips",
            "practice",
            "quiz",
            "glossary",
            "facilitator",
            "narration",
        )
    }
    edited = tmp_path / "edited.yaml"
    edited.write_text(to_yaml({**sections, "summary": "Bạn học cách giữ kín mã OTP."}), encoding="utf-8")
    out = ok(cli("edit", L, "--from", str(edited), "--as", "ed", "--formats", "none"))
    assert "version 2 (in review) by ed; changed: summary" in out
    # $EDITOR: a script that changes the example
    script = tmp_path / "editor.py"
    script.write_text(
        "import sys, yaml\n"
        "p = sys.argv[1]\n"
        "d = yaml.safe_load(open(p, encoding='utf-8'))\n"
        "d['example'] = 'Bà Lan không đọc mã OTP cho người lạ qua điện thoại.'\n"
        "open(p, 'w', encoding='utf-8').write(yaml.safe_dump(d, allow_unicode=True))\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("EDITOR", f"{sys.executable} {script}")
    out = ok(cli("edit", L, "--as", "ed", "--formats", "none"))
    assert "version 3 (in review) by ed; changed: example" in out
    # an invalid edit in the editor is kept for the person to fix
    script.write_text(
        "import sys\nopen(sys.argv[1], 'a', encoding='utf-8').write('\\nsummary: [broken\\n')\n",
        encoding="utf-8",
    )
    result = cli("edit", L, "--as", "ed", "--formats", "none")
    assert result.exit_code == 2 and "malformed YAML" in result.output
    kept = workspace / ".hocvu/edits" / f"{L}.yaml"
    assert kept.exists() and f"--from {kept}" in result.output
    assert stat.S_ISREG(kept.stat().st_mode)


def test_list_outdated_and_errors(people, workspace):
    cli = people
    ok(cli(*DRAFT, "--as", "ed"))
    assert "no lessons match" in ok(cli("review", "list", "--outdated"))
    from tests.support.drafts import REPO

    src = (REPO / "frameworks/groups/elderly.yaml").read_text(encoding="utf-8")
    (workspace / "frameworks/groups").mkdir(parents=True)
    (workspace / "frameworks/groups/elderly.yaml").write_text(
        src.replace("session_minutes: 45", "session_minutes: 40"), encoding="utf-8"
    )
    out = ok(cli("review", "list", "--outdated"))
    assert L in out and "outdated" in out
    assert "outdated: group profile elderly changed" in ok(cli("review", "show", L))
    assert "no lesson 'nope'" in one_line_error(cli("review", "show", "nope"), 2)
    assert "unknown status 'done'" in one_line_error(cli("review", "list", "--status", "done"), 2)
    assert "has only version 1" in one_line_error(cli("review", "diff", L), 2)
    assert "a comment is required to reject" in one_line_error(cli("review", "reject", L, "--as", "rev1"))
    assert "comment #" in ok(cli("review", "comment", L, "Thêm hình minh hoạ", "--as", "rev2"))


def test_list_and_history_read_the_same_through_sqlite_and_the_store(people, monkeypatch):
    # review list and history read the SQLite store with sqlite3 (store/fastread.py) when they can; the
    # store answers otherwise (here: forced, by making the fast reader stand aside) — the same output
    from generator.review.store import fastread

    cli = people
    ok(cli(*DRAFT, "--as", "ed"))
    ok(cli(*DRAFT[:-1], "farmers", "--as", "ed"))
    ok(cli("review", "approve", L, "--as", "rev1"))
    ok(cli("review", "list"))  # the first list after new versions rechecks their outdated flags (the store)
    asked = [("review", "list"), ("review", "list", "--status", "approved"), ("review", "list", "-n", "1"),
             ("review", "list", "-q", "ELDERLY"), ("history", L)]
    from generator.cli import review_cmd

    def no_store():  # type: ignore[no-untyped-def]
        raise AssertionError("the SQLAlchemy store was opened")

    with monkeypatch.context() as m:
        m.setattr(review_cmd, "open_store", no_store)
        fast = [ok(cli(*a)) for a in asked]  # every one read with sqlite3
    monkeypatch.setattr(fastread.FastReader, "open", classmethod(lambda cls, settings: None))
    assert [ok(cli(*a)) for a in asked] == fast
    assert "approved" in fast[1] and "lessons 1-1 of 2" in fast[2] and "approve" in fast[4]
