"""The release manifest (``manifest.json``) and verification of a release against it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.errors import PublishError
from generator.fsutil import sha256_bytes, sha256_file, write_bytes_atomic

MANIFEST = "manifest.json"
FORMAT = "hocvu-release/1"


def release_files(root: Path) -> list[str]:
    """Every file of a release except the manifest, as sorted POSIX paths relative to ``root``."""
    top = root / MANIFEST
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and p != top)


def checksums(root: Path) -> dict[str, dict[str, Any]]:
    """sha256 and size of every file of a release (the manifest itself excepted)."""
    return {
        rel: {"sha256": sha256_file(root / rel), "size": (root / rel).stat().st_size}
        for rel in release_files(root)
    }


def write_manifest(root: Path, data: dict[str, Any]) -> str:
    """Write ``manifest.json`` (with the checksums of every file now in ``root``); returns its sha256."""
    body = {"format": FORMAT, **data, "files": checksums(root)}
    blob = (json.dumps(body, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    write_bytes_atomic(root / MANIFEST, blob)
    return sha256_bytes(blob)


def read_manifest(root: Path) -> dict[str, Any]:
    """The manifest of the release at ``root``; PublishError when it is missing or unreadable."""
    path = root / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PublishError(f"{root} has no {MANIFEST}: it is not a hocvu release") from None
    except (OSError, ValueError) as exc:
        raise PublishError(f"{path} cannot be read ({exc}); the release is damaged") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("files"), dict):
        raise PublishError(f"{path} is not a {FORMAT} manifest")
    return data


@dataclass
class VerifyReport:
    """What ``verify_release`` found: files changed, missing or added since the manifest was written."""

    root: Path
    checked: int = 0
    changed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    manifest_changed: bool = False

    @property
    def ok(self) -> bool:
        """True when every file matches the manifest and the manifest matches the store's record."""
        return not (self.changed or self.missing or self.extra or self.manifest_changed)

    def problems(self) -> list[str]:
        """One readable line per problem."""
        out = (
            ["manifest.json differs from the one recorded when the release was made"]
            if self.manifest_changed
            else []
        )
        out += [f"changed: {p}" for p in self.changed]
        out += [f"missing: {p}" for p in self.missing]
        out += [f"unexpected file: {p}" for p in self.extra]
        return out


def verify_release(root: Path, expected_manifest_sha256: str | None = None) -> VerifyReport:
    """Re-check every checksum of the release at ``root`` (and the manifest's own, if the store knows it)."""
    if not root.is_dir():
        raise PublishError(f"no release at {root}")
    data = read_manifest(root)
    report = VerifyReport(root)
    if expected_manifest_sha256 is not None:
        report.manifest_changed = sha256_file(root / MANIFEST) != expected_manifest_sha256
    listed: dict[str, dict[str, Any]] = data["files"]
    present = set(release_files(root))
    for rel, meta in sorted(listed.items()):
        report.checked += 1
        if rel not in present:
            report.missing.append(rel)
        elif not isinstance(meta, dict) or sha256_file(root / rel) != meta.get("sha256"):  # a damaged entry
            report.changed.append(rel)
    report.extra = sorted(present - set(listed))
    return report
