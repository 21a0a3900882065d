"""`hocvu draft` on the offline default: output, versions, and one-line errors for bad names."""

from __future__ import annotations

import json

import pytest

ARGS = ["draft", "--framework", "vn-dcf-2025", "--competence", "4.2", "--level", "1", "--group", "elderly",
        "--lang", "vi"]


def test_draft_offline_prints_passing_checks_and_writes_versions(cli, workspace):
    result = cli(*ARGS)
    assert result.exit_code == 0, result.output
    from generator.drafting.checks import CHECKS

    assert "backend offline" in result.output and result.output.count("✓") == len(CHECKS) == 16
    base = workspace / "outputs/drafts/vn-dcf-2025.4.2.L1.elderly.vi"
    lesson = json.loads((base / "v1/lesson.json").read_text(encoding="utf-8"))
    assert lesson["id"] == "vn-dcf-2025.4.2.L1.elderly.vi" and lesson["language"] == "vi"
    assert "# " in (base / "v1/preview.md").read_text(encoding="utf-8")
    checks = json.loads((base / "v1/checks.json").read_text(encoding="utf-8"))
    assert {c["name"] for c in checks} >= {"language", "length", "quiz", "citations"}
    first = (base / "v1/lesson.json").read_bytes()
    assert cli(*ARGS).exit_code == 0
    assert (base / "v2/lesson.json").exists() and (base / "v1/lesson.json").read_bytes() == first
    assert not list(base.glob(".incoming-*"))


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--framework", "vn-2099", "unknown framework 'vn-2099'; choose one of: digcomp-2.2, digcomp-3.0, vn-dcf-2025"),
        ("--competence", "9.1", "unknown competence for vn-dcf-2025 '9.1'; choose one of: 1.1"),
        ("--level", "9", "unknown level for vn-dcf-2025 9; choose one of: 1, 2, 3, 4, 5, 6, 7, 8"),
        ("--group", "martians", "unknown group 'martians'; choose one of: blind-low-vision"),
        ("--lang", "fr", "unknown language 'fr'; choose one of: vi, en"),
    ],
)
def test_unknown_names_are_one_line_errors(cli, workspace, option, value, message):
    args = list(ARGS)
    args[args.index(option) + 1] = value
    result = cli(*args)
    assert result.exit_code == 2
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (workspace / "outputs").exists()


def test_missing_key_for_openai(cli, workspace):
    result = cli(*ARGS, "--backend", "openai")
    assert result.exit_code == 1
    assert "export OPENAI_API_KEY" in result.output and "--backend offline" in result.output
    assert not (workspace / "outputs").exists()


def test_english_lesson(cli, workspace):
    result = cli(*ARGS[:-1], "en")
    assert result.exit_code == 0, result.output
    assert (workspace / "outputs/drafts/vn-dcf-2025.4.2.L1.elderly.en/v1/lesson.json").exists()


def test_a_failed_render_leaves_no_version_folder(cli, workspace, monkeypatch):
    import generator.render as render

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        from generator.errors import RenderError

        raise RenderError("the renderer broke")

    monkeypatch.setattr(render, "render_lesson", broken)
    result = cli(*ARGS, "--formats", "page")
    assert result.exit_code == 1 and "the renderer broke" in result.output
    base = workspace / "outputs/drafts/vn-dcf-2025.4.2.L1.elderly.vi"
    assert not list(base.glob("v*")) and not list(base.glob(".incoming-*"))
