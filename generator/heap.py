"""The C heap of a long-running process: glibc settings so memory a lesson freed goes back to the system.

Python's own objects are not what grows in a long build: glibc keeps freed blocks in its arenas (one per
thread that allocated, up to eight per core) and raises its mmap threshold each time a large block is
freed, so every lesson's speech, document and JSON buffers stay in the process after it. Two fixed
settings and a trim after each lesson keep a render worker flat (BENCHMARKS.md, "Build memory").
On another C library (musl, macOS) all of this does nothing.
"""

from __future__ import annotations

from typing import Any

#: Blocks at least this large are mmapped and given back when freed (glibc's own threshold climbs to 32 MiB).
MMAP_THRESHOLD = 256 * 1024
#: Arenas the process may use: threads share them instead of each keeping its freed memory apart.
ARENA_MAX = 2
_M_MMAP_THRESHOLD = -3  # from glibc's malloc.h
_M_ARENA_MAX = -8

_LIBC: Any = False


def _libc() -> Any:
    """glibc, or None on another C library, whose allocator needs no tuning here."""
    global _LIBC
    if _LIBC is False:
        import ctypes
        import ctypes.util

        try:
            lib = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            _LIBC = lib if hasattr(lib, "mallopt") and hasattr(lib, "malloc_trim") else None
        except OSError:
            _LIBC = None
    return _LIBC


def tune() -> bool:
    """Fix the mmap threshold and the number of arenas (before the threads that allocate start, where
    possible); False when the C library is not glibc."""
    lib = _libc()
    if lib is None:
        return False
    lib.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    lib.mallopt(_M_ARENA_MAX, ARENA_MAX)
    return True


def trim() -> None:
    """Give the free memory at the top of every arena back to the system."""
    lib = _libc()
    if lib is not None:
        lib.malloc_trim(0)
