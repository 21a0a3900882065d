"""Helper processes (espeak-ng, ffmpeg) that end when the process that started them dies.

On Linux a child asks the kernel for ``SIGKILL`` when its parent goes (``prctl(PR_SET_PDEATHSIG)``), so a
``kill -9`` of a build or of one of its render workers takes the helpers with it instead of leaving them
to run on with nobody to read their output. The request is made between fork and exec, through libc
loaded once beforehand (nothing but that call runs in the child); it survives the exec of the helper.
Elsewhere helpers run as before and end with their timeout.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence
from typing import Any

PR_SET_PDEATHSIG = 1


def _libc_prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl  # type: ignore[no-any-return]
    except (OSError, AttributeError):
        return None


_PRCTL = _libc_prctl()


def _die_with(parent: int) -> Callable[[], None]:
    def preexec() -> None:
        if _PRCTL is not None:
            _PRCTL(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before the request took effect
            os._exit(1)

    return preexec


def run_helper(args: Sequence[str], **kwargs: Any) -> subprocess.CompletedProcess[Any]:
    """``subprocess.run`` for a helper program that must not outlive this process (Linux)."""
    if _PRCTL is not None:
        kwargs.setdefault("preexec_fn", _die_with(os.getpid()))
    return subprocess.run(args, **kwargs)  # noqa: PLW1510 - callers pass check=
