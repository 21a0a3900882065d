"""Kill loop: N random ``kill -9`` across draft, edit, build and publish, each followed by ``hocvu doctor``.

    PYTHONPATH=$PWD .venv/bin/python bench/kill_loop.py --kills 100 [--seed 19] [--workspace DIR]

Each round starts one command in a fresh process and kills it with SIGKILL after a random delay within
the time that command takes (measured once at the start); a command that finishes first is not counted
as a kill. After every kill:

- leftover processes: any process whose environment names the workspace, 3 s after the kill;
- ``hocvu doctor`` (exit 1 when it finds something to mend: findings a crash may leave, e.g. a placed
  but unrecorded folder), then ``hocvu doctor --repair`` and ``hocvu doctor`` again;
- inconsistencies: doctor still finding something after the repair, a store that fails
  ``PRAGMA integrity_check``, a recorded version whose folder is not ``v<N>`` or whose files are missing
  or changed (checked here against the store, not by doctor), a release that fails ``publish verify``;
- unremovable staging: ``.incoming-*`` folders or ``*.tmp`` files still there after the repair.

The figures go to RELIABILITY.md with the command that produced them.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HOCVU = str(Path(sys.executable).parent / "hocvu")
LESSONS = ["4.1", "4.2", "4.3"]
SPEC = ("name: kl\nframework: vn-dcf-2025\ngroups: [elderly]\ncompetences: ['1.1', '1.2']\nlevels: [1]\n"
        "languages: [vi]\nformats: [page, audio]\nbackend: offline\n")


def lid(code: str) -> str:
    return f"vn-dcf-2025.{code}.L1.elderly.vi"


class Loop:
    def __init__(self, ws: Path, seed: int) -> None:
        self.ws = ws
        self.rng = random.Random(seed)
        self.env = {**os.environ, "HOCVU_WORKSPACE": str(ws), "PYTHONPATH": str(REPO), "COLUMNS": "200"}
        self.env.pop("HOCVU_CRASH_AT", None)
        self.stats: Counter[str] = Counter()
        self.problems: list[str] = []
        self.durations: dict[str, float] = {}
        self.release = 0

    def run(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        return subprocess.run([HOCVU, *args], env=self.env, capture_output=True, text=True, timeout=timeout)

    def must(self, *args: str) -> None:
        done = self.run(*args)
        if done.returncode:
            raise SystemExit(f"setup failed: hocvu {' '.join(args)}: {done.stdout}{done.stderr}")

    # -- the four commands ---------------------------------------------------------------------
    def command(self, op: str) -> list[str]:
        if op == "draft":
            code = self.rng.choice(LESSONS)
            return ["draft", "-f", "vn-dcf-2025", "-c", code, "-l", "1", "-g", "elderly", "--formats", "page,handout",
                    "--as", "ed"]
        if op == "edit":
            return ["edit", lid("4.2"), "--from", str(self.edit_file()), "--as", "ed", "--formats", "page"]
        if op == "build":
            return ["build", str(self.ws / "spec.yaml"), "--force", "--workers", "2"]
        self.approve_one()
        self.release += 1
        return ["publish", "--release", f"r{self.release}", "--as", "boss"]

    def edit_file(self) -> Path:
        sys.path.insert(0, str(REPO))
        from generator.config import load_settings
        from generator.lesson import Lesson
        from generator.review.edit import to_yaml
        from generator.review.store import ReviewStore

        with ReviewStore.open(load_settings(self.ws)) as store:
            lesson = Lesson.model_validate_json(store.get_version(lid("4.2")).lesson_json)
        data = lesson.draft_part()
        data["title"] = f"{data['title'].split(' #')[0]} #{self.rng.randrange(10**6)}"
        path = self.ws / "edit.yaml"
        path.write_text(to_yaml(data), encoding="utf-8")
        return path

    def approve_one(self) -> None:
        for code in self.rng.sample(LESSONS, len(LESSONS)):
            if self.run("review", "approve", lid(code), "--as", "rev").returncode == 0:
                return

    # -- checks ------------------------------------------------------------------------------
    def processes(self) -> set[int]:
        mark = f"HOCVU_WORKSPACE={self.ws}".encode()
        found = set()
        for env in Path("/proc").glob("[0-9]*/environ"):
            try:
                if mark in env.read_bytes().split(b"\0"):
                    if (env.parent / "stat").read_text().rsplit(") ", 1)[1][0] != "Z":
                        found.add(int(env.parent.name))
            except (OSError, IndexError):
                continue
        return found

    def leftovers(self) -> int:
        deadline = time.monotonic() + 3
        while self.processes() and time.monotonic() < deadline:
            time.sleep(0.1)
        left = self.processes()
        for pid in left:  # end them so the next round starts clean (they are this loop's children)
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return len(left)

    def staging(self) -> list[Path]:
        return [p for p in (self.ws / "outputs").rglob("*") if p.name.startswith(".incoming-") or
                p.name.endswith(".tmp")] if (self.ws / "outputs").exists() else []

    def independent_check(self) -> list[str]:
        sys.path.insert(0, str(REPO))
        from generator.config import load_settings
        from generator.fsutil import sha256_file
        from generator.review.store import ReviewStore

        bad = []
        con = sqlite3.connect(self.ws / ".hocvu/hocvu.db")
        if con.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            bad.append("integrity_check failed")
        con.close()
        with ReviewStore.open(load_settings(self.ws)) as store:
            for state in store.list_lessons():
                for v in store.versions(state.id):
                    if v.folder is None or v.folder.name != f"v{v.number}":
                        bad.append(f"{state.id} v{v.number} lives in {v.folder}")
                    for a in v.artifacts.values():
                        if not a.path.is_file() or sha256_file(a.path) != a.sha256:
                            bad.append(f"{state.id} v{v.number}: {a.name} missing or changed")
            releases = [r.name for r in store.list_releases()]
        for name in releases[-1:]:  # the newest (older ones were verified when they were new)
            if self.run("publish", "verify", name).returncode:
                bad.append(f"release {name} fails verify")
        return bad

    # -- the loop ----------------------------------------------------------------------------
    def setup(self) -> None:
        for name, role in (("ed", "editor"), ("rev", "reviewer"), ("boss", "admin")):
            self.must("users", "add", name, "--role", role, "--no-password")
        (self.ws / "spec.yaml").write_text(SPEC, encoding="utf-8")
        for op in ("draft", "edit", "build", "publish"):
            if op == "draft":
                for code in LESSONS:  # every lesson exists before the loop
                    self.must("draft", "-f", "vn-dcf-2025", "-c", code, "-l", "1", "-g", "elderly", "--formats",
                              "page,handout", "--as", "ed")
            args = self.command(op)
            start = time.monotonic()
            self.must(*args)
            self.durations[op] = time.monotonic() - start

    def round(self) -> bool:
        op = self.rng.choice(["draft", "edit", "build", "publish"])
        args = self.command(op)
        proc = subprocess.Popen([HOCVU, *args], env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        delay = self.rng.uniform(0.05, 0.9) * self.durations[op]
        try:
            proc.wait(timeout=delay)
            self.stats[f"{op}: finished before the kill"] += 1
            return False
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        self.stats[f"{op}: killed"] += 1
        self.stats["leftover processes"] += self.leftovers()
        doctor = self.run("doctor")
        if doctor.returncode:
            self.stats["kills after which doctor found something to mend"] += 1
            for line in doctor.stdout.splitlines():
                if "→" not in line and ": " in line and ("not recorded" in line or "staging" in line or
                                                         "missing" in line):
                    self.stats["finding: " + line.split(": ", 1)[1].split(";")[0][:60]] += 1
            self.run("doctor", "--repair", "--as", "boss")
            again = self.run("doctor")
            if again.returncode:
                self.stats["inconsistencies left after doctor --repair"] += 1
                self.problems.append(again.stdout[-400:])
        left = self.staging()
        if left:
            self.stats["unremovable staging"] += len(left)
            self.problems += [str(p) for p in left]
        bad = self.independent_check()
        self.stats["inconsistencies (independent check)"] += len(bad)
        self.problems += bad
        return True


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kills", type=int, default=100)
    ap.add_argument("--seed", type=int, default=19)
    ap.add_argument("--workspace", type=Path, default=None)
    ap.add_argument("--progress", type=Path, default=None, help="Rewrite the figures so far here after each round.")
    args = ap.parse_args()
    ws = args.workspace or Path(tempfile.mkdtemp(prefix="hocvu-kill-loop-"))
    ws.mkdir(parents=True, exist_ok=True)
    loop = Loop(ws.resolve(), args.seed)
    start = time.monotonic()
    loop.setup()
    kills = rounds = 0

    def figures() -> str:
        return json.dumps({"kills": kills, "rounds": rounds, "seconds": round(time.monotonic() - start),
                           "durations": {k: round(v, 1) for k, v in loop.durations.items()},
                           "figures": dict(sorted(loop.stats.items())),
                           "problems": loop.problems[:20], "workspace": str(ws)}, indent=1, ensure_ascii=False)

    while kills < args.kills:
        rounds += 1
        kills += loop.round()
        if args.progress:  # the figures so far, so a loop stopped early still has them
            args.progress.write_text(figures() + "\n", encoding="utf-8")
    print(figures())


if __name__ == "__main__":
    main()
