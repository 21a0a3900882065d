"""What this machine offers the process: the processors it may run on."""

from __future__ import annotations

import os


def cpu_count() -> int:
    """Processors this process may run on: its CPU affinity (a container or ``taskset`` limit), not the
    machine's total; at least 1."""
    if hasattr(os, "process_cpu_count"):  # Python 3.13+
        return os.process_cpu_count() or 1
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1  # pragma: no cover - not on Linux
