"""``hocvu serve``: run the review web app (FastAPI + uvicorn) over the workspace's review store."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from generator.cli.common import State, err_console

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on (keep 127.0.0.1 unless behind a "
                                                     "proxy that serves HTTPS).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")] = 8000,
    secure_cookies: Annotated[bool, typer.Option("--secure-cookies", help="Mark the session cookie Secure "
                                                 "(when users reach the app over HTTPS).")] = False,
    forwarded_allow_ips: Annotated[str, typer.Option(
        "--forwarded-allow-ips", help="Addresses of the reverse proxies whose X-Forwarded-For and "
        "X-Forwarded-Proto to trust (comma-separated); default: the setting HOCVU_FORWARDED_ALLOW_IPS, "
        "else none, so no client can choose the address its sign-in attempts are counted under.")] = "",
    with_worker: Annotated[bool, typer.Option("--worker/--no-worker", help="Also run a worker process for the "
                                              "jobs started from the web app (--no-worker when separate "
                                              "`hocvu worker` processes run them).")] = True,
    processes: Annotated[int, typer.Option("--processes", min=1, max=64, help="Web server processes (on a "
                                           "machine with several cores, up to its number of cores; one job "
                                           "worker whatever the number).")] = 1,
) -> None:
    """Serve the review web app: reviewers read, listen, comment and approve; editors start generation jobs
    (run by a worker process started alongside); the JSON API is under /api."""
    import uvicorn

    from generator.web.app import create_app

    settings = State.settings()
    app = create_app(settings, library=State.library(), secure_cookies=secure_cookies)
    if host not in LOOPBACK and not secure_cookies:
        err_console().print(f"note: listening on {host} without --secure-cookies; put the app behind HTTPS "
                            "before people sign in over a network")
    err_console().print(f"hocvu review app on http://{'[' + host + ']' if ':' in host else host}:{port}/ "
                        f"(workspace {settings.workspace}); stop with Ctrl+C")
    trusted = forwarded_allow_ips or settings.forwarded_allow_ips
    worker = start_worker(settings.workspace) if with_worker else None
    options = dict(host=host, port=port, log_level="info", proxy_headers=bool(trusted),
                   forwarded_allow_ips=trusted or None, server_header=False)
    try:
        if processes == 1:
            uvicorn.run(app, **options)  # type: ignore[arg-type]
        else:  # each process builds its own app (see generator.web.app.app_from_environment)
            import json

            from generator.web.app import SERVE_OPTIONS

            app.state.web.store.close()  # the store is opened (and migrated) once, here, before the processes
            os.environ["HOCVU_WORKSPACE"] = str(settings.workspace)
            os.environ[SERVE_OPTIONS] = json.dumps({"secure_cookies": secure_cookies, "processes": processes})
            uvicorn.run("generator.web.app:app_from_environment", factory=True, workers=processes,
                        **options)  # type: ignore[arg-type]
    finally:
        if worker is not None:
            stop_worker(worker)


def start_worker(workspace: Path) -> subprocess.Popen[bytes]:
    """``hocvu worker`` as a child process: jobs run there, never in the web process. It ends with
    this process, however this one ends (it watches its parent)."""
    cmd = [sys.executable, "-m", "generator.cli.main", "--workspace", str(workspace), "worker",
           "--parent-pid", str(os.getpid())]
    return subprocess.Popen(cmd)


def stop_worker(proc: subprocess.Popen[bytes], grace: float = 30.0) -> None:
    """Ask the worker to stop (a running job goes back to the queue) and wait for it; kill it if it hangs."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def register(app: typer.Typer) -> None:
    """Add ``serve`` to the root command."""
    app.command("serve")(serve)
