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
    return [str(Path(sys.executable).parent / "hocvu")], env


def commands_vs_help(runs: int = 9) -> str:
    """Wall time of the everyday commands as a ratio to `hocvu --help`, run in turn (help, command, help,
    command …) so that the machine's drift hits both alike; the ratio is the median of the pairs'."""
    import statistics
    import tempfile
    import time

    ws = Path(tempfile.mkdtemp(prefix="bench-startup-"))
    hocvu, env = hocvu_cmd(ws)

    def run(*args: str) -> float:
        t = time.perf_counter()
        subprocess.run([*hocvu, *args], env=env, capture_output=True, check=True)
        return time.perf_counter() - t

    comps = ["1.1", "1.2", "1.3", "2.1", "2.2", "2.3", "2.4", "2.5", "3.1", "3.2", "3.3", "4.1", "4.2"]
    for code in comps[: runs + 1]:
        run("draft", "-f", "vn-dcf-2025", "-c", code, "-l", "1", "-g", "elderly", "-b", "offline",
            "--formats", "none")
    run("users", "add", "rev", "--role", "reviewer", "--no-password")
    ids = iter(f"vn-dcf-2025.{c}.L1.elderly.vi" for c in comps)
    cases = {
        "`hocvu review list`": lambda: run("review", "list"),
        "`hocvu review approve ID`": lambda: run("review", "approve", next(ids), "--as", "rev"),
        "`hocvu history ID`": lambda: run("history", "vn-dcf-2025.1.1.L1.elderly.vi"),
        "`hocvu draft … --formats none` (offline)": lambda: run(
            "draft", "-f", "vn-dcf-2025", "-c", "4.2", "-l", "1", "-g", "farmers", "-b", "offline",
            "--formats", "none"),
    }
    rows = []
    for name, fn in cases.items():
        fn()
        run("--help")
        pairs, times, helps = [], [], []
        for _ in range(runs):
            h = run("--help")
            c = fn()
            pairs.append(c / h)
            times.append(c)
            helps.append(h)
        ratio = statistics.median(pairs)
        rows.append(f"| {name} | {statistics.median(times) * 1000:.0f} ms | "
                    f"{statistics.median(helps) * 1000:.0f} ms | {ratio:.2f}× | "
                    f"≤ 2× ({'met' if ratio <= 2 else 'not met'}) |")

    code = "import sys; from generator.cli.main import run; sys.argv=['hocvu','review','list']; run()"
    probe = subprocess.run([sys.executable, "-X", "importtime", "-c", code],
                           env=env,
                           capture_output=True, text=True)
    cum: dict[str, int] = {}
    for line in probe.stderr.splitlines()[1:]:
        parts = line.split("|")
        if len(parts) == 3 and not parts[2].startswith("  "):
            cum[parts[2].strip()] = int(parts[1])
    top = sorted(cum.items(), key=lambda kv: -kv[1])[:6]
    imports = ", ".join(f"{name} {us / 1000:.0f} ms" for name, us in top)
    return (
        f"Commands as a user runs them (the `hocvu` script, a workspace with {runs + 1} offline lessons), each run "
        f"in turn with `hocvu --help` {runs} times after a warm-up pair; the ratio is the median of the pairs' "
        f"ratios.\n\n"
        "| command | median | `--help` in the same pairs | ratio | goal |\n|---|---|---|---|---|\n"
        + "\n".join(rows)
        + f"\n\nWhere `review list` spends its imports (`python -X importtime`, top-level cumulative): {imports}.\n"
    )


if __name__ == "__main__" and "--commands" in sys.argv:
    body = commands_vs_help()
    print(body)
    if "--no-write" not in sys.argv:
        write_section("Start-up: commands ÷ hocvu --help", body)
