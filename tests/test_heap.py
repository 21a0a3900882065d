"""The C heap settings: a process gives back what it freed (glibc only)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from generator import heap

CHILD = """
from generator import heap
def rss():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * 4096
heap.tune()
blocks = [bytearray(100_000) for _ in range(600)]   # 60 MB in blocks under the mmap threshold
keep = bytearray(100_000)                           # allocated last (malloc): the heap's top stays in use
peak = rss()
del blocks
heap.trim()
print(peak - rss())
"""


def _given_back() -> int:
    """Bytes a tuned process gives back after freeing 60 MB under a pinned heap top, then trimming."""
    out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, check=True)
    return int(out.stdout)


@pytest.mark.skipif(heap._libc() is None, reason="not glibc: the heap settings do nothing")
def test_a_trimmed_process_gives_back_what_it_freed():
    assert heap.tune() is True
    # with the top of the heap pinned, glibc alone keeps the freed blocks; a trim returns the pages
    assert _given_back() > 40_000_000
