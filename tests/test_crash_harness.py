"""Crash injection at every step of save-and-record (draft, edit, build) and of publish: the command is
SIGKILLed there (``HOCVU_CRASH_AT=<point>``, read by ``versions.crash_point`` only), then
``hocvu doctor --repair`` and a rerun. Afterwards the store and the folders agree, every version is whole
in the folder of its number, no staging folder is left, and nothing is repeated or lost."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from generator.config import load_settings
from generator.review.store import ReviewStore
from tests.test_crash_consistency import DRAFT, LID, hocvu

VERSION_POINTS = ["version-staged", "version-placed", "version-recorded"]
RELEASE_POINTS = ["release-staged", "release-placed", "release-recorded"]
SPEC = ("name: t1\nframework: vn-dcf-2025\ngroups: [elderly]\ncompetences: ['4.1', '4.2']\nlevels: [1]\n"
        "languages: [vi]\nformats: [page]\nbackend: offline\n")


def assert_consistent(workspace: Path) -> None:
    """doctor finds nothing; every recorded version is whole in v<N>; no staging or temporary file."""
    doctor = hocvu(workspace, "doctor")
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    with ReviewStore.open(load_settings()) as store:
        for state in store.list_lessons():
            for v in store.versions(state.id):
                assert v.folder is not None and v.folder.name == f"v{v.number}"
                assert all(a.path.is_file() for a in v.artifacts.values())
    left = [p for p in (workspace / "outputs").rglob("*")
            if p.name.startswith(".incoming-") or p.name.endswith(".tmp")]
    assert left == []


def edit_file(workspace: Path) -> Path:
    from generator.lesson import Lesson
    from generator.review.edit import to_yaml

    lesson = Lesson.model_validate_json((workspace / "outputs/drafts" / LID / "v1/lesson.json").read_text("utf-8"))
    data = lesson.draft_part()
    data["title"] = data["title"] + " (bản sửa)"
    path = workspace / "edit.yaml"
    path.write_text(to_yaml(data), encoding="utf-8")
    return path


@pytest.mark.parametrize("point", VERSION_POINTS)
@pytest.mark.parametrize("command", ["draft", "edit", "build"])
def test_a_crash_at_each_step_of_save_and_record(workspace, command, point):
    assert hocvu(workspace, "users", "add", "ed", "--role", "editor", "--no-password").returncode == 0
    if command == "draft":
        args = [*DRAFT, "--as", "ed"]
    elif command == "edit":
        assert hocvu(workspace, *DRAFT, "--as", "ed").returncode == 0
        args = ["edit", LID, "--from", str(edit_file(workspace)), "--as", "ed", "--formats", "none"]
    else:
        (workspace / "spec.yaml").write_text(SPEC, encoding="utf-8")
        args = ["build", str(workspace / "spec.yaml"), "--workers", "0"]
    before = 1 if command == "edit" else 0

    crashed = hocvu(workspace, *args, crash=point)
    assert crashed.returncode == -signal.SIGKILL, crashed.stdout + crashed.stderr
    fixed = hocvu(workspace, "doctor", "--repair", "--as", "ed")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert_consistent(workspace)
    with ReviewStore.open(load_settings()) as store:
        counts = [len(store.versions(x.id)) for x in store.list_lessons()]
    after_crash = sum(counts)
    # the crashed save is either kept whole (recorded, or adopted by doctor) or not there at all; a build
    # records its two lessons on parallel threads, so the other lesson may have been recorded whole before
    # the kill: no lesson ever has more than the one new version
    assert all(n <= before + 1 for n in counts), counts
    others = len(counts) - 1 if command == "build" else 0
    assert before <= after_crash <= before + 1 + others
    if point != "version-staged":
        assert after_crash >= before + 1, "a placed version is kept"

    rerun = hocvu(workspace, *args)
    if command == "edit" and after_crash == before + 1:  # the edit was kept: the same edit is not repeated
        assert rerun.returncode == 1 and "nothing changed" in rerun.stderr, rerun.stdout + rerun.stderr
    else:
        assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert_consistent(workspace)
    with ReviewStore.open(load_settings()) as store:
        for state in store.list_lessons():
            numbers = [v.number for v in store.versions(state.id)]
            assert numbers == list(range(1, len(numbers) + 1))
            if command == "build":
                # a rerun finishes what is missing and never makes a second version of a finished lesson
                assert numbers == [1]
        if command == "build":
            assert len(store.list_lessons()) == 2


@pytest.fixture
def approved(workspace):  # type: ignore[no-untyped-def]
    for name, role in (("ed", "editor"), ("rev", "reviewer"), ("boss", "admin")):
        assert hocvu(workspace, "users", "add", name, "--role", role, "--no-password").returncode == 0
    for code in ("4.1", "4.2"):
        args = [*DRAFT[:4], code, *DRAFT[5:-2], "--formats", "page", "--as", "ed"]
        assert hocvu(workspace, *args).returncode == 0
        assert hocvu(workspace, "review", "approve", f"vn-dcf-2025.{code}.L1.elderly.vi", "--as", "rev").returncode == 0
    return workspace


@pytest.mark.parametrize("point", RELEASE_POINTS)
def test_a_crash_at_each_step_of_publish(approved, point):
    ws = approved
    crashed = hocvu(ws, "publish", "--release", "r1", "--as", "boss", crash=point)
    assert crashed.returncode == -signal.SIGKILL
    fixed = hocvu(ws, "doctor", "--repair", "--as", "boss")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert_consistent(ws)
    with ReviewStore.open(load_settings()) as store:
        recorded = [r.name for r in store.list_releases()]
    if point == "release-staged":
        assert recorded == [] and not (ws / "outputs/published/r1").exists()
        assert hocvu(ws, "publish", "--release", "r1", "--as", "boss").returncode == 0
    else:  # placed: adopted by doctor (or recorded already); publishing it again is refused, not repeated
        assert recorded == ["r1"]
        again = hocvu(ws, "publish", "--release", "r1", "--as", "boss")
        assert again.returncode != 0
    assert "all match" in hocvu(ws, "publish", "verify", "r1").stdout
    with ReviewStore.open(load_settings()) as store:
        assert [r.name for r in store.list_releases()] == ["r1"]
        assert {s.status for s in store.list_lessons()} == {"published"}
    manifest = json.loads((ws / "outputs/published/r1/manifest.json").read_text(encoding="utf-8"))
    assert len(manifest["lessons"]) == 2
    assert_consistent(ws)
