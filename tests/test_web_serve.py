"""``hocvu serve --processes N``: each process builds its app from the environment, reads the store's change
marker afresh (a decision made through one process shows in the pages of another), and the processes go
when the server stops."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from generator.web.app import SERVE_OPTIONS, app_from_environment

REPO = Path(__file__).resolve().parent.parent


def test_each_process_builds_its_app_from_the_environment(workspace, monkeypatch):
    from generator.review.store.lists import MARKER_TTL

    monkeypatch.setenv(SERVE_OPTIONS, json.dumps({"secure_cookies": True, "processes": 2}))
    app = app_from_environment()
    try:
        assert app.state.web.store.marker_ttl == 0.0 and app.state.web.settings.workspace == workspace
        session = next(m for m in app.user_middleware if m.cls.__name__ == "SessionMiddleware")
        assert session.kwargs["https_only"] is True
    finally:
        app.state.web.store.close()
    monkeypatch.setenv(SERVE_OPTIONS, json.dumps({"processes": 1}))
    one = app_from_environment()
    assert one.state.web.store.marker_ttl == MARKER_TTL
    one.state.web.store.close()


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-ww", "--ppid", str(pid), "-o", "pid=,args="], capture_output=True, text=True).stdout
    return [int(line.split()[0]) for line in out.splitlines() if "spawn_main" in line]


def test_two_server_processes_answer_and_stop_with_the_server(workspace):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, PYTHONPATH=str(REPO), HOCVU_WORKSPACE=str(workspace))
    server = subprocess.Popen([sys.executable, "-m", "generator.cli.main", "serve", "--port", str(port),
                               "--processes", "2", "--no-worker"], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    children: list[int] = []
    try:
        deadline = time.monotonic() + 120
        while len(_children(server.pid)) < 2 or not _answers(port):
            assert server.poll() is None and time.monotonic() < deadline, "the server did not start"
            time.sleep(0.3)
        children = _children(server.pid)
        assert len(children) == 2
        assert httpx.get(f"http://127.0.0.1:{port}/login").status_code == 200
    finally:
        server.terminate()
        server.wait(60)
    time.sleep(0.5)
    assert not [pid for pid in children if Path(f"/proc/{pid}").exists()]


def _answers(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
