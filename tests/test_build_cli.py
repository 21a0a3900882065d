"""``hocvu build`` as a user runs it: progress without a terminal, the report a killed build leaves
behind, and one-line errors (exit 2) for bad values before any work."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from generator.cli.build_cmd import LineProgress
from generator.config import load_settings
from generator.review.store import ReviewStore

REPO = Path(__file__).resolve().parent.parent
HOCVU = str(Path(sys.executable).parent / "hocvu")

SPEC = """\
name: t1
framework: vn-dcf-2025
groups: [elderly]
competences: [{competences}]
levels: [1]
formats: [{formats}]
backend: offline
"""


def _spec(workspace: Path, competences: str = '"4.2"', formats: str = "page") -> Path:
    path = workspace / "spec.yaml"
    path.write_text(SPEC.format(competences=competences, formats=formats), encoding="utf-8")
    return path


def _env(workspace: Path) -> dict[str, str]:
    return {**os.environ, "HOCVU_WORKSPACE": str(workspace), "PYTHONPATH": str(REPO), "COLUMNS": "120"}


def test_line_progress_writes_a_line_every_few_seconds_and_one_at_the_end(capsys):
    with LineProgress(2, every=0.05) as progress:
        progress.stage("draft", "a", "done")
        progress.stage("render", "a", "fail")
        seen, deadline = "", time.monotonic() + 10
        while time.monotonic() < deadline and "progress:" not in seen:  # the periodic line, while it runs
            time.sleep(0.02)
            seen += capsys.readouterr().err
        progress.stage("draft", "b", "done")
    assert seen.startswith("progress: draft 1/2, render 0/2, submit 0/2, 1 failed, ")
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("progress: draft 2/2, render 0/2, submit 0/2, 1 failed, ")


def test_a_build_without_a_terminal_writes_progress_to_stderr_and_a_live_report(workspace):
    result = subprocess.run([HOCVU, "build", str(_spec(workspace)), "--workers", "0", "--progress-every", "0.2"],
                            env=_env(workspace), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = [x for x in result.stderr.splitlines() if x.startswith("progress:")]
    assert lines and lines[-1].startswith("progress: draft 1/1, render 1/1, submit 1/1, 0 failed")
    [live] = (workspace / "outputs/builds").glob("t1-*.jsonl")
    records = [json.loads(x) for x in live.read_text(encoding="utf-8").splitlines()]
    assert records[0]["planned"] == ["vn-dcf-2025.4.2.L1.elderly.vi"]
    assert records[1]["lesson"]["status"] == "generated" and records[-1]["end"]["totals"]["generated"] == 1


@pytest.mark.slow
def test_a_build_killed_with_sigkill_still_leaves_a_report_of_what_it_finished(workspace):
    proc = subprocess.Popen([HOCVU, "build", str(_spec(workspace, '"*"')), "--workers", "0"],
                            env=_env(workspace), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    builds = workspace / "outputs/builds"
    deadline = time.monotonic() + 120
    lines: list[str] = []
    while time.monotonic() < deadline and len(lines) < 3:  # the header and two finished lessons
        time.sleep(0.05)
        lines = [x for p in builds.glob("t1-*.jsonl") for x in p.read_text(encoding="utf-8").splitlines()]
    proc.kill()
    proc.wait(timeout=30)
    assert not list(builds.glob("t1-*.json"))  # the final report was never written ...
    [live] = builds.glob("t1-*.jsonl")  # ... but the live one was
    records = [json.loads(x) for x in live.read_text(encoding="utf-8").splitlines()]
    planned = records[0]["planned"]
    done = [r["lesson"] for r in records[1:]]
    assert len(planned) == 24 and len(done) >= 2 and "end" not in records[-1]
    with ReviewStore.open(load_settings(workspace)) as store:
        for x in done:  # every lesson it reports finished is recorded, with its folder
            assert x["id"] in planned and x["status"] == "generated"
            assert str(store.get_version(x["id"]).folder) == x["version_dir"]


def test_a_workspace_that_does_not_exist_is_refused_unless_init(cli, tmp_path):
    missing = tmp_path / "wrokspace"
    result = cli("--workspace", str(missing), "groups", "list")
    assert result.exit_code == 2 and not missing.exists()
    [line] = result.output.strip().splitlines()
    assert "does not exist" in line and "--init" in line
    result = cli("--workspace", str(missing), "--init", "groups", "list")
    assert result.exit_code == 0, result.output
    assert missing.is_dir() and "elderly" in result.output


def test_empty_formats_are_a_one_line_error_before_any_work(cli, workspace):
    result = cli("build", str(_spec(workspace, formats="")))
    assert result.exit_code == 2
    [line] = result.output.strip().splitlines()
    assert line.startswith("error:") and "formats" in line
    assert not (workspace / "outputs").exists() and not (workspace / ".hocvu/hocvu.db").exists()
