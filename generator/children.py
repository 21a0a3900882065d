"""Helper processes (espeak-ng, ffmpeg) that end when the process that started them dies.

On Linux a child asks the kernel for ``SIGKILL`` when its parent goes (``prctl(PR_SET_PDEATHSIG)``), so a
``kill -9`` of a build or of one of its render workers takes the helpers with it instead of leaving them
to run on with nobody to read their output. The request is made between fork and exec, through libc
loaded once beforehand (nothing but that call runs in the child); it survives the exec of the helper.
Elsewhere helpers run as before and end with their timeout.
"""

from __future__ import annotations

import ctypes
import functools
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
    """``subprocess.run`` for a helper program that must not outlive this process (Linux).

    A helper given by its full path runs through util-linux's ``setpriv --pdeathsig KILL`` when it is there:
    a ``preexec_fn`` makes Python fork the whole process and run Python in the child (6.5 ms of this
    process's CPU and up to ~45 ms of wall per helper, measured with a worker's 150 MB), while without one it
    spawns with vfork (0.3 ms). setpriv asks for the same signal before it execs the helper; the few
    microseconds before it does are not covered (a helper then finishes its short job and exits)."""
    if _PRCTL is not None and "preexec_fn" not in kwargs:
        setpriv = _setpriv()
        if setpriv and os.path.isabs(args[0]) and os.access(args[0], os.X_OK):
            args = [setpriv, "--pdeathsig", "KILL", "--", *args]
        else:
            kwargs["preexec_fn"] = _die_with(os.getpid())
    return subprocess.run(args, **kwargs)  # noqa: PLW1510 - callers pass check=


@functools.cache
def _setpriv() -> str | None:
    import shutil

    return shutil.which("setpriv")
