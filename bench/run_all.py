"""Run every benchmark and update BENCHMARKS.md (what `make bench` runs)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = ["bench_startup.py", "bench_drafting.py", "bench_retrieval.py", "bench_render.py", "bench_media.py",
           "bench_batch.py"]

if __name__ == "__main__":
    for script in SCRIPTS:
        print(f"== {script}", flush=True)
        subprocess.run([sys.executable, str(HERE / script)], cwd=HERE, check=True)
