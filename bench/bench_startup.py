"""Start-up time of `hocvu --help` (goal: median ≤ 0.3 s); with ``--commands``, the everyday commands
(`review list`, `review approve`, `history`, `draft --formats none`) as a ratio to `hocvu --help` (goal ≤ 2×).

    .venv/bin/python bench/bench_startup.py [--commands [--no-write]]
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from common import median_seconds, write_section

GOAL = 0.3


def main() -> None:
    hocvu = str(Path(sys.executable).parent / "hocvu")
    med, times = median_seconds(lambda: subprocess.run([hocvu, "--help"], capture_output=True, check=True),
                                repeat=15, warmup=2)
    body = (
        f"Command: `hocvu --help`, 15 runs after 2 warm-up runs.\n\n"
        f"| metric | value | goal |\n|---|---|---|\n"
        f"| median | {med * 1000:.0f} ms | ≤ {GOAL * 1000:.0f} ms ({'met' if med <= GOAL else 'MISSED'}) |\n"
        f"| min / max | {min(times) * 1000:.0f} / {max(times) * 1000:.0f} ms | |\n"
    )
    write_section("Start-up: hocvu --help", body)
    print(body)


if __name__ == "__main__" and "--commands" not in sys.argv:
    main()


def hocvu_cmd(ws: Path) -> tuple[list[str], dict[str, str]]:
    """The `hocvu` command of this checkout and an environment pointing at workspace ``ws``."""
    import os

    env = {**os.environ, "HOCVU_WORKSPACE": str(ws), "HOME": str(ws), "HOCVU_USER": "ed",
           "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}  # this checkout, not the venv's install
    env.pop("OPENAI_API_KEY", None)
    # An installed hocvu runs from compiled bytecode (pip compiles it); without this, a shell that sets
    # PYTHONDONTWRITEBYTECODE would have every run compile the checkout's modules again (~0.2 s for draft).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return [str(Path(sys.executable).parent / "hocvu")], env


def _load() -> str:
    import os

    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


def _imports(env: dict[str, str], args: list[str], top: int = 7) -> str:
    """The largest top-level imports of ``hocvu ARGS`` (``python -X importtime``, cumulative)."""
    code = f"import sys; from generator.cli.main import run; sys.argv=['hocvu', *{args!r}]; run()"
    probe = subprocess.run([sys.executable, "-X", "importtime", "-c", code], env=env, capture_output=True, text=True)
    cum: dict[str, int] = {}
    for line in probe.stderr.splitlines()[1:]:
        parts = line.split("|")
        if len(parts) == 3 and not parts[2].startswith("  "):
            cum[parts[2].strip()] = int(parts[1])
    biggest = sorted(cum.items(), key=lambda kv: -kv[1])[:top]
    return ", ".join(f"{name} {us / 1000:.0f} ms" for name, us in biggest)


def commands_vs_help(runs: int = 9) -> str:
    """Wall and CPU time of the everyday commands as ratios to `hocvu --help`, run in turn (help, command,
    help, command …) so that the machine's drift hits both alike; each ratio is the median of the pairs'."""
    import resource
    import statistics
    import tempfile
    import time

    ws = Path(tempfile.mkdtemp(prefix="bench-startup-"))
    hocvu, env = hocvu_cmd(ws)

    def run(*args: str) -> tuple[float, float]:
        """(wall, CPU = user + system) seconds of one run."""
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        subprocess.run([*hocvu, *args], env=env, capture_output=True, check=True)
        wall = time.perf_counter() - t
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)

    load_start = _load()
    comps = ["1.1", "1.2", "1.3", "2.1", "2.2", "2.3", "2.4", "2.5", "3.1", "3.2", "3.3", "4.1", "4.2"]
    for code in comps[: runs + 1]:
        run("draft", "-f", "vn-dcf-2025", "-c", code, "-l", "1", "-g", "elderly", "-b", "offline",
            "--formats", "none")
    run("users", "add", "rev", "--role", "reviewer", "--no-password")
    ids = iter(f"vn-dcf-2025.{c}.L1.elderly.vi" for c in comps)
    draft = ["draft", "-f", "vn-dcf-2025", "-c", "4.2", "-l", "1", "-g", "farmers", "-b", "offline", "--formats",
             "none"]
    cases: dict[str, tuple[list[str] | None, object]] = {
        "`hocvu review list`": (["review", "list"], lambda: run("review", "list")),
        "`hocvu review approve ID`": (None, lambda: run("review", "approve", next(ids), "--as", "rev")),
        "`hocvu history ID`": (["history", "vn-dcf-2025.1.1.L1.elderly.vi"],
                               lambda: run("history", "vn-dcf-2025.1.1.L1.elderly.vi")),
        "`hocvu draft … --formats none` (offline)": (draft, lambda: run(*draft)),
    }
    rows, where = [], []
    for name, (args, fn) in cases.items():
        fn()  # type: ignore[operator]  # the first list after the drafts rechecks outdated flags (a write)
        run("--help")
        walls, cpus, wall_ratio, cpu_ratio, help_walls, help_cpus = [], [], [], [], [], []
        for _ in range(runs):
            hw, hc = run("--help")
            cw, cc = fn()  # type: ignore[operator]
            walls.append(cw)
            cpus.append(cc)
            help_walls.append(hw)
            help_cpus.append(hc)
            wall_ratio.append(cw / hw)
            cpu_ratio.append(cc / hc)
        wr, cr = statistics.median(wall_ratio), statistics.median(cpu_ratio)
        rows.append(f"| {name} | {statistics.median(walls) * 1000:.0f} ms | "
                    f"{statistics.median(help_walls) * 1000:.0f} ms | **{wr:.2f}×** | "
                    f"{statistics.median(cpus) * 1000:.0f} ms | {statistics.median(help_cpus) * 1000:.0f} ms | "
                    f"{cr:.2f}× | ≤ 2× ({'met' if wr <= 2 else 'not met'}) |")
        if args is None:  # an approval is made once: the probe approves a lesson of its own
            probe = ["draft", "-f", "vn-dcf-2025", "-c", "4.1", "-l", "1", "-g", "farmers", "-b", "offline",
                     "--formats", "none"]
            run(*probe)
            args = ["review", "approve", "vn-dcf-2025.4.1.L1.farmers.vi", "--as", "rev"]
        where.append(f"- {name}: {_imports(env, args)}")
    where.append(f"- `hocvu --help`: {_imports(env, ['--help'])}")
    return (
        f"Command: `.venv/bin/python bench/bench_startup.py --commands` (about 2 minutes on a quiet machine). "
        f"Commands as a user runs them (the `hocvu` script, compiled bytecode, a workspace with {runs + 1} "
        f"offline lessons), each run in turn with `hocvu --help` {runs} times after a warm-up pair; each ratio "
        f"is the median of the pairs' ratios. CPU is user + system time of the process (less sensitive to "
        f"a shared machine than wall time). Load average (1 / 5 / 15 min) at the start {load_start}, at the "
        f"end {_load()}.\n\n"
        "| command | wall | `--help` wall | wall ratio | CPU | `--help` CPU | CPU ratio | goal (wall) |\n"
        "|---|---|---|---|---|---|---|---|\n"
        + "\n".join(rows)
        + "\n\nWhere each command spends its imports (`python -X importtime`, top-level modules, cumulative; one "
        "run each, on the same machine):\n\n" + "\n".join(where) + "\n"
    )


if __name__ == "__main__" and "--commands" in sys.argv:
    body = commands_vs_help()
    print(body)
    if "--no-write" not in sys.argv:
        write_section("Start-up: commands ÷ hocvu --help", body)
