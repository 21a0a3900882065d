"""Make the workspace's folders and its store agree again after crashes: ``hocvu repair``.

The store is the truth for numbers (versions, releases); folders follow it. What a crash can leave:
a version or release folder renamed into place but never recorded (adopted when whole and still valid,
otherwise set aside under a hidden ``.unrecorded/`` folder, never deleted), a recorded version whose
folder is gone (reported), and staging folders of processes that died (removed).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from generator.config import Settings
    from generator.review.store import ReviewStore


@dataclass
class Finding:
    """One disagreement and, when repairing, what was done about it."""

    path: Path
    problem: str
    action: str = ""


def check_workspace(settings: Settings, store: ReviewStore, by: str, *, fix: bool = False) -> list[Finding]:
    """Every disagreement between ``outputs/`` and the store; with ``fix``, adopt, set aside or remove."""
    from generator.publish.release import repair_releases
    from generator.versions import repair_versions

    found = [Finding(r.path, r.problem, r.action) for r in repair_versions(settings.outputs_dir, store, by, fix=fix)]
    found += [Finding(r.path, r.problem, r.action) for r in repair_releases(settings, store, by, fix=fix)]
    return found
