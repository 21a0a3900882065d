"""Helpers (espeak-ng, ffmpeg) end with the process that started them: kill -9 of the parent leaves none."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from generator.children import run_helper

REPO = Path(__file__).resolve().parent.parent


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1][0]
    except (OSError, IndexError):
        return False
    return state != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the parent-death signal is Linux's")
@pytest.mark.parametrize("program", ["sleep", "/usr/bin/sleep"])  # by name: preexec_fn; by path: setpriv
def test_a_helper_dies_with_its_parent_however_it_dies(program):
    code = ("import sys; from generator.children import run_helper; "
            f"run_helper([{program!r}, '120'], check=False)")
    parent = subprocess.Popen([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(REPO)})
    deadline = time.monotonic() + 20
    helper = None
    while helper is None and time.monotonic() < deadline:
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(") ", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[1]) == parent.pid:
                helper = int(stat.parent.name)
        time.sleep(0.05)
    assert helper is not None and alive(helper)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 5
    while alive(helper) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(helper)


def test_a_helper_runs_and_returns_as_subprocess_run_does():
    done = run_helper(["sh", "-c", "printf hi; exit 3"], capture_output=True, check=False)
    assert done.returncode == 3 and done.stdout == b"hi"
