"""A full disk is a one-line error at every write (draft, build, publish), leaves nothing half-written, still
reports per-lesson results, and the workspace is consistent once space returns. The workspace lives on a
small tmpfs (``mount -t tmpfs``; skipped where mounting is not permitted)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

SIZE = "4m"


@pytest.fixture
def small_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A workspace on a 4 MB tmpfs of its own."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={SIZE}", "tmpfs", str(mnt)],
                          capture_output=True, text=True, check=False)
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip() or done.returncode}); needs root")
    ws = mnt / "ws"
    ws.mkdir()
    monkeypatch.setenv("HOCVU_WORKSPACE", str(ws))
    monkeypatch.chdir(ws)
    try:
        yield ws
    finally:
        monkeypatch.chdir(tmp_path)
        subprocess.run(["umount", str(mnt)], check=False)


def fill(ws: Path, free: int) -> None:
    """Leave about ``free`` bytes free on the workspace's disk."""
    filler = ws.parent / "filler"
    filler.unlink(missing_ok=True)
    avail = shutil.disk_usage(ws).free
    with filler.open("wb") as fh:
        fh.truncate(0)
        block = b"\0" * 4096
        for _ in range(max(0, avail - free) // 4096):
            fh.write(block)


def space_back(ws: Path) -> None:
    (ws.parent / "filler").unlink(missing_ok=True)


def leftovers(ws: Path) -> list[str]:
    """Staging folders and temporary files anywhere in the workspace."""
    return [str(p) for p in ws.rglob("*") if p.name.startswith(".incoming-") or p.name.endswith(".tmp")]


def one_line_disk_full(result) -> None:  # type: ignore[no-untyped-def]
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.strip().splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "disk is full" in lines[0] and "Traceback" not in result.output, result.output


DRAFT = ["draft", "-f", "vn-dcf-2025", "-c", "4.2", "-l", "1", "-g", "elderly", "--as", "boss"]


@pytest.mark.parametrize("free,formats", [(20_000, "none"), (100_000, "page,handout"),
                                          (300_000, "page,handout,slides")])
def test_draft_on_a_full_disk(small_disk, cli, free, formats):
    assert cli("users", "add", "boss", "--role", "admin", "--no-password").exit_code == 0
    fill(small_disk, free)
    one_line_disk_full(cli(*DRAFT, "--formats", formats))
    assert leftovers(small_disk) == []
    assert not list((small_disk / "outputs/drafts").rglob("v1")), "no version folder without its record"
    space_back(small_disk)
    assert cli(*DRAFT, "--formats", formats).exit_code == 0
    assert "agree" in cli("repair", "--check").output


def test_build_on_a_full_disk_reports_each_lesson(small_disk, cli):
    spec = small_disk.parent / "spec.yaml"
    spec.write_text("name: t1\nframework: vn-dcf-2025\ngroups: [elderly]\ncompetences: ['4.1', '4.2']\n"
                    "levels: [1]\nlanguages: [vi]\nformats: [page]\nbackend: offline\n", encoding="utf-8")
    assert cli("review", "list").exit_code == 0  # the store exists before the disk fills
    fill(small_disk, 120_000)
    out = cli("build", str(spec), "--workers", "0")
    assert out.exit_code != 0 and "Traceback" not in out.output
    for lid in ("vn-dcf-2025.4.1.L1.elderly.vi", "vn-dcf-2025.4.2.L1.elderly.vi"):
        assert f"{lid} failed" in out.output and "disk is full" in out.output, out.output
    assert leftovers(small_disk) == []
    space_back(small_disk)
    assert cli("build", str(spec), "--workers", "0").exit_code == 0
    assert "agree" in cli("repair", "--check").output


def test_publish_on_a_full_disk(small_disk, cli):
    for name, role in (("boss", "admin"), ("rev", "reviewer")):
        assert cli("users", "add", name, "--role", role, "--no-password").exit_code == 0
    for c in ("4.1", "4.2"):
        assert cli(*DRAFT[:4], c, *DRAFT[5:], "--formats", "page,handout").exit_code == 0
        assert cli("review", "approve", f"vn-dcf-2025.{c}.L1.elderly.vi", "--as", "rev").exit_code == 0
    for free in (150_000, 400_000):
        fill(small_disk, free)
        one_line_disk_full(cli("publish", "--release", "r1", "--as", "boss"))
        assert leftovers(small_disk) == [] and not (small_disk / "outputs/published/r1").exists()
        assert "approved" in cli("review", "list").output
    space_back(small_disk)
    assert cli("publish", "--release", "r1", "--as", "boss").exit_code == 0
    assert "all match" in cli("publish", "verify", "r1").output
    assert "agree" in cli("repair", "--check").output
