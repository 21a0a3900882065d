"""Atomic file writes: a crash never leaves a half-written file behind."""

from __future__ import annotations

import errno
import hashlib
import os
import re
import shutil
import socket
import tempfile
import time
from pathlib import Path

from generator.errors import DiskFullError
from generator.i18n import Message

_UMASK = os.umask(0)
os.umask(_UMASK)


#: OSError numbers that mean "no space": a full disk or an exhausted quota.
NO_SPACE = (errno.ENOSPC, errno.EDQUOT)


def is_no_space(exc: BaseException) -> bool:
    """True for an OSError (or a SQLite error) that says the disk or quota is full."""
    if isinstance(exc, OSError) and exc.errno in NO_SPACE:
        return True
    text = str(getattr(exc, "orig", None) or exc).lower()
    return "disk is full" in text or "no space left" in text


def no_space(where: Path | None, what: str = "") -> DiskFullError:
    """A one-line DiskFullError for a write into ``where`` (a file or folder) that ran out of space."""
    free: object = ""
    if where is not None:  # name the destination, not a hidden staging folder inside it
        shown = Path(*[p for p in Path(where).parts if not p.startswith(STAGING_PREFIX)])
        what = what or str(shown)
        folder = shown.parent
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        try:
            free = Message(" ({kib:,} KiB free in {folder})", kib=shutil.disk_usage(folder).free // 1024,
                           folder=folder)
        except OSError:
            pass
    return DiskFullError("the disk is full{free} while writing {what}; free some space and run the "
                         "command again (nothing was half-written)", free=free,
                         what=Message(what) if what else where)


def write_bytes_atomic(path: Path, data: bytes, mode: int | None = None) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and an atomic rename; a full
    disk is a DiskFullError and leaves nothing behind."""
    try:
        _write_bytes_atomic(path, data, mode)
    except OSError as exc:
        if is_no_space(exc):
            raise no_space(path) from exc
        raise


def _write_bytes_atomic(path: Path, data: bytes, mode: int | None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode if mode is not None else 0o666 & ~_UMASK)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomic(path: Path, text: str, mode: int | None = None) -> None:
    """Write UTF-8 ``text`` atomically."""
    write_bytes_atomic(path, text.encode("utf-8"), mode)


def sha256_bytes(data: bytes) -> str:
    """Hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()


# -- staging folders that belong to their owner ---------------------------------------------------
#: Hidden folders where a version or release is assembled before it is renamed into place. Their name
#: carries the owner (host, pid and the process's start time, which tells a reused pid apart), so a later
#: command removes only the folders of owners that are gone, never a live job's work in progress.
STAGING_PREFIX = ".incoming-"
_OWNER = re.compile(r"^\.incoming-(?P<host>[A-Za-z0-9-]{1,32})_(?P<pid>\d+)_(?P<start>\d+)-")
#: Staging folders of an older hocvu (no owner in the name) are stale once this old (seconds).
LEGACY_STALE_AFTER = 3600.0


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname())[:32] or "host"


def process_start(pid: int) -> int | None:
    """The start time of process ``pid`` in clock ticks since boot (Linux ``/proc``); None when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2:].split()
    try:
        return int(fields[19])  # field 22 of stat(5); fields 1-2 are cut off with the command name
    except (IndexError, ValueError):
        return None


def owner_tag() -> str:
    """``<host>_<pid>_<start>`` of this process, as written into staging folder names."""
    pid = os.getpid()
    return f"{_host()}_{pid}_{process_start(pid) or 0}"


def make_staging(base: Path, label: str = "") -> Path:
    """A new hidden staging folder in ``base`` that names this process as its owner."""
    base.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{owner_tag()}-{label}{'-' if label else ''}", dir=base))


def staging_owner_alive(folder: Path) -> bool | None:
    """True when the process that owns a staging folder still runs (or runs on another host, which cannot
    be checked); False when it is gone; None for a folder without an owner in its name."""
    m = _OWNER.match(folder.name)
    if m is None:
        return None
    if m["host"] != _host():
        return True
    start = process_start(int(m["pid"]))
    if start is None:
        return False
    return int(m["start"]) in (0, start)


def is_stale_staging(folder: Path, now: float | None = None) -> bool:
    """A staging folder whose owner is gone (or, without an owner in the name, untouched for an hour)."""
    alive = staging_owner_alive(folder)
    if alive is not None:
        return not alive
    try:
        age = (now if now is not None else time.time()) - folder.stat().st_mtime
    except OSError:
        return False
    return age > LEGACY_STALE_AFTER


def stale_staging(base: Path) -> list[Path]:
    """The staging folders in ``base`` whose owner is gone (live owners' folders are never listed)."""
    if not base.is_dir():
        return []
    return [f for f in sorted(base.glob(f"{STAGING_PREFIX}*")) if f.is_dir() and is_stale_staging(f)]


def remove_stale_staging(base: Path) -> list[Path]:
    """Remove the staging folders in ``base`` whose owner is gone; live owners' folders are never touched."""
    removed = stale_staging(base)
    for folder in removed:
        shutil.rmtree(folder, ignore_errors=True)
    return removed


def sweep_stale_staging(base: Path, *, fix: bool) -> list[Path]:
    """The staging folders in ``base`` whose owner is gone — removed when ``fix``, only listed otherwise
    (what every ``repair`` ends with)."""
    return remove_stale_staging(base) if fix else stale_staging(base)


def set_aside(folder: Path, reason: str = "unrecorded") -> Path:
    """Move ``folder`` into ``<its parent>/.<reason>/<name>-<UTC time>`` (kept, never deleted)."""
    shelf = folder.parent / f".{reason}"
    shelf.mkdir(exist_ok=True)
    target = shelf / f"{folder.name}-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}"
    n = 1
    while target.exists():
        n += 1
        target = shelf / f"{folder.name}-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{n}"
    os.rename(folder, target)
    return target
