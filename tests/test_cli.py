"""The command line: help on every command, the foundation commands, errors as one line."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import unicodedata
from pathlib import Path

import pytest
import typer.main

from generator.cli.main import app

REPO = Path(__file__).resolve().parent.parent


def _commands(cmd, path: tuple[str, ...] = ()):  # type: ignore[no-untyped-def]
    out = [(path, cmd)]
    if hasattr(cmd, "commands"):  # a group (typer ships its own click)
        for name, sub in cmd.commands.items():
            out += _commands(sub, (*path, name))
    return out


ALL = _commands(typer.main.get_command(app))


@pytest.mark.parametrize("path", [p for p, _ in ALL], ids=[" ".join(p) or "hocvu" for p, _ in ALL])
def test_every_command_has_help(cli, path):
    result = cli(*path, "--help")
    assert result.exit_code == 0
    cmd = dict(ALL)[path]
    assert (cmd.help or "").strip(), f"{' '.join(path)} has no help text"
    for param in cmd.params:
        if param.param_type_name == "option" and param.name != "help":
            assert (param.help or "").strip(), f"{' '.join(path)} option {param.name} has no help"


def test_version(cli):
    from generator import __version__

    result = cli("--version")
    assert result.exit_code == 0 and __version__ in result.output


def test_frameworks_list(cli):
    out = cli("frameworks", "list").output
    for row in ("vn-dcf-2025", "digcomp-2.2", "digcomp-3.0", "523"):
        assert row in out
    vn = next(line for line in out.splitlines() if "vn-dcf-2025" in line)
    assert "│ 6 " in vn and "│ 24 " in vn and "│ 8 " in vn


def test_frameworks_show_prints_vietnamese_descriptors(cli):
    result = cli("frameworks", "show", "vn-dcf-2025", "--competence", "4.2", "--level", "1")
    assert result.exit_code == 0
    assert "4.2-L1-a" in result.output and "Bảo vệ dữ liệu cá nhân và quyền riêng tư" in result.output
    assert unicodedata.is_normalized("NFC", result.output)
    assert "Bậc 2" not in result.output


def test_frameworks_show_unknown_competence_is_one_line(cli):
    result = cli("frameworks", "show", "vn-dcf-2025", "--competence", "9.9")
    assert result.exit_code == 2
    assert "unknown competence" in result.output and "4.2" in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1


def test_frameworks_import_cli(cli, workspace):
    src = REPO / "frameworks/sources/digcomp-3.0-data-supplement-2025-11-24.jsonld"
    result = cli("frameworks", "import", str(src), "--id", "digcomp-3.0")
    assert result.exit_code == 0, result.output
    assert "523 learning outcomes" in result.output
    assert (workspace / "frameworks/digcomp-3.0.yaml").exists()


def test_frameworks_check(cli):
    result = cli("frameworks", "check")
    assert result.exit_code == 0, result.output
    assert "all data valid" in result.output


def test_groups_list_and_show(cli):
    out = cli("groups", "list").output
    assert "elderly" in out and "Người cao tuổi" in out
    assert int(out.strip().splitlines()[-1].split()[0]) >= 12
    shown = cli("groups", "show", "farmers")
    assert shown.exit_code == 0 and "Situations" in shown.output


def test_malformed_workspace_yaml_exits_2_naming_file_and_line(cli, workspace):
    groups = workspace / "frameworks" / "groups"
    groups.mkdir(parents=True)
    (groups / "broken.yaml").write_text("id: broken\nnames: {vi: x\n", encoding="utf-8")
    result = cli("groups", "list")
    assert result.exit_code == 2
    assert "broken.yaml: line 2" in result.output or "broken.yaml: line 3" in result.output
    assert "Traceback" not in result.output


def test_doctor_passes_and_fails_with_a_fix(cli, monkeypatch):
    result = cli("doctor")
    assert result.exit_code == 0, result.output
    assert "espeak-ng" in result.output and "OpenAI settings" in result.output
    import generator.doctor

    monkeypatch.setitem(generator.doctor.PY_PACKAGES, "imaginary_package_xyz", ("imaginary-package", "a test"))
    result = cli("doctor")
    assert result.exit_code == 1 and "missing required parts: python: imaginary-package" in result.output
    assert "pip install imaginary-package" in result.output


def test_installed_wheel_works_outside_the_repo(tmp_path):
    """Build the wheel, install it in a fresh venv, and run `hocvu frameworks list` elsewhere."""
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                    str(dist), str(REPO)], check=True, capture_output=True)
    wheel = next(dist.glob("hocvu-*.whl"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    # Dependencies come from the project's venv (added as a plain path, so its editable hocvu is not);
    # hocvu itself only from the wheel.
    site = next((venv / "lib").glob("python3*/site-packages"))
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([str(venv / "bin/python"), "-m", "pip", "install", "-q", "--no-deps", str(wheel)], check=True,
                   capture_output=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "HOCVU_WORKSPACE"} | {"COLUMNS": "200"}
    where = subprocess.run([str(venv / "bin/python"), "-c", "import generator; print(generator.__file__)"],
                           cwd=elsewhere, env=env, capture_output=True, text=True, check=True).stdout
    assert str(venv) in where
    result = subprocess.run([str(venv / "bin/hocvu"), "frameworks", "list"], cwd=elsewhere, env=env,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "vn-dcf-2025" in result.stdout and "digcomp-3.0" in result.stdout
    groups = subprocess.run([str(venv / "bin/hocvu"), "groups", "list"], cwd=elsewhere, env=env,
                            capture_output=True, text=True)
    assert "elderly" in groups.stdout
