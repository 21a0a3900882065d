"""Start-up time of `hocvu --help` (goal: median ≤ 0.3 s)."""

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


if __name__ == "__main__":
    main()
