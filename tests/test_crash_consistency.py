"""The store decides, the folders follow: staging owned by its process, version and release numbers from
the store, crashes between rename and record repaired by `hocvu repair`, and a build cache that knows
the formats. Crashes are real: ``HOCVU_CRASH_AT=<point>`` makes the command SIGKILL itself there."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from generator.config import load_settings
from generator.errors import PublishError
from generator.fsutil import make_staging, remove_stale_staging, staging_owner_alive
from generator.repair import check_workspace
from generator.review.store import ReviewStore
from generator.versions import folder_whole, make_version
from tests.support.drafts import offline_lesson

HOCVU = str(Path(sys.executable).parent / "hocvu")
REPO = Path(__file__).resolve().parent.parent
LID = "vn-dcf-2025.4.2.L1.elderly.vi"
DRAFT = ["draft", "-f", "vn-dcf-2025", "-c", "4.2", "-l", "1", "-g", "elderly", "--formats", "none"]


def hocvu(workspace: Path, *args: str, crash: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOCVU_WORKSPACE": str(workspace), "PYTHONPATH": str(REPO), "COLUMNS": "200"}
    env.pop("HOCVU_CRASH_AT", None)
    if crash:
        env["HOCVU_CRASH_AT"] = crash
    return subprocess.run([HOCVU, *args], env=env, capture_output=True, text=True, timeout=120)


def folders_of(store: ReviewStore, lesson_id: str) -> list[tuple[int, str]]:
    return [(v.number, v.folder.name if v.folder else "") for v in store.versions(lesson_id)]


@pytest.fixture(scope="module")
def drafted(library):  # type: ignore[no-untyped-def]
    return offline_lesson(library)


def _draft(library, drafted, store, formats=None):  # type: ignore[no-untyped-def]
    return make_version(drafted, library, load_settings(), store, author="ed", kind="draft",
                               formats=formats if formats is not None else [])


# -- (1) staging belongs to its owner -----------------------------------------------------------------
def test_a_live_jobs_staging_survives_a_new_draft_and_a_dead_ones_is_removed(workspace, library, drafted):
    base = workspace / "outputs/drafts" / LID
    code = ("import sys,time; from pathlib import Path; from generator.fsutil import make_staging; "
            "print(make_staging(Path(sys.argv[1])), flush=True); time.sleep(60)")
    child = subprocess.Popen([sys.executable, "-c", code, str(base)], stdout=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        live = Path(child.stdout.readline().strip())  # type: ignore[union-attr]
        (live / "lesson.json").write_text("{}", encoding="utf-8")  # a job's work in progress
        assert staging_owner_alive(live) is True
        with ReviewStore.open(load_settings()) as store:
            _draft(library, drafted, store)  # before: every start removed all .incoming-* of the lesson
        assert (live / "lesson.json").exists()
    finally:
        child.kill()
        child.wait()
    assert staging_owner_alive(live) is False
    assert remove_stale_staging(base) == [live] and not live.exists()


def test_a_staging_folder_of_a_reused_pid_is_stale(tmp_path):
    mine = make_staging(tmp_path)
    host, pid, start = mine.name[len(".incoming-"):].split("-")[0].split("_")
    fake = tmp_path / f".incoming-{host}_{pid}_{int(start) + 1}-x"  # same pid, another start: another process
    fake.mkdir()
    assert staging_owner_alive(fake) is False and staging_owner_alive(mine) is True
    assert remove_stale_staging(tmp_path) == [fake] and mine.exists()


# -- (2) version numbers come from the store ----------------------------------------------------------
def test_a_removed_folder_never_makes_two_versions_share_one(workspace, library, drafted):
    with ReviewStore.open(load_settings()) as store:
        _draft(library, drafted, store)
        _draft(library, drafted, store)
        shutil.rmtree(workspace / "outputs/drafts" / LID / "v2")
        _draft(library, drafted, store)
        assert folders_of(store, LID) == [(1, "v1"), (2, "v2"), (3, "v3")]
        found = check_workspace(load_settings(), store, "ed")
        assert [f.problem.split(";")[0] for f in found] == ["version 2 is recorded but its folder is missing"]


def test_concurrent_drafts_get_matching_numbers_and_folders(workspace, library, drafted):
    with ReviewStore.open(load_settings()) as store:
        threads = [threading.Thread(target=_draft, args=(library, drafted, store)) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert folders_of(store, LID) == [(n, f"v{n}") for n in range(1, 5)]


def test_a_crash_between_rename_and_record_is_adopted_by_repair(workspace):
    crashed = hocvu(workspace, *DRAFT, crash="version-placed")
    assert crashed.returncode == -signal.SIGKILL
    folder = workspace / "outputs/drafts" / LID / "v1"
    assert folder.is_dir() and folder_whole(folder)  # placed, whole, but never recorded
    check = hocvu(workspace, "repair", "--check")
    assert check.returncode == 1 and "version folder not recorded in the store" in check.stdout
    fixed = hocvu(workspace, "repair", "--as", "ed")
    assert fixed.returncode == 0 and "adopted as version 1" in fixed.stdout, fixed.stdout + fixed.stderr
    assert hocvu(workspace, *DRAFT).returncode == 0
    with ReviewStore.open(load_settings()) as store:
        assert folders_of(store, LID) == [(1, "v1"), (2, "v2")]
        assert store.versions(LID)[0].artifacts["lesson.json"].path == folder / "lesson.json"
    assert "agree" in hocvu(workspace, "repair", "--check").stdout


def test_an_unrecorded_folder_is_set_aside_by_the_next_version_not_reused(workspace):
    assert hocvu(workspace, *DRAFT).returncode == 0
    assert hocvu(workspace, *DRAFT, crash="version-placed").returncode == -signal.SIGKILL
    base = workspace / "outputs/drafts" / LID
    assert (base / "v2").is_dir()
    assert hocvu(workspace, *DRAFT).returncode == 0  # before: store v2 would live in folder v3 for good
    with ReviewStore.open(load_settings()) as store:
        assert folders_of(store, LID) == [(1, "v1"), (2, "v2")]
    kept = list((base / ".unrecorded").iterdir())
    assert [p.name.split("-")[0] for p in kept] == ["v2"] and (kept[0] / "lesson.json").exists()
    assert "agree" in hocvu(workspace, "repair", "--check").stdout


def test_repair_sets_aside_a_folder_whose_files_changed(workspace):
    assert hocvu(workspace, *DRAFT, crash="version-placed").returncode == -signal.SIGKILL
    folder = workspace / "outputs/drafts" / LID / "v1"
    (folder / "preview.md").write_text("sửa tay", encoding="utf-8")
    out = hocvu(workspace, "repair", "--as", "ed").stdout
    assert "set aside" in out and "checksums" in out and not folder.exists()
    with ReviewStore.open(load_settings()) as store:
        assert store.list_lessons() == []


def test_staging_of_a_killed_process_is_removed_by_the_next_draft_and_by_repair(workspace):
    from generator.fsutil import _host

    base = workspace / "outputs/drafts" / LID
    base.mkdir(parents=True)
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = [base / f".incoming-{_host()}_{child.stdout.strip()}_{n}-x" for n in (1, 2)]
    legacy = base / ".incoming-abc123"  # an older hocvu's, untouched for two hours
    for d in [*dead, legacy]:
        d.mkdir()
    os.utime(legacy, (legacy.stat().st_atime - 7200, legacy.stat().st_mtime - 7200))
    assert hocvu(workspace, *DRAFT).returncode == 0
    assert not any(d.exists() for d in [*dead, legacy])
    dead[0].mkdir()
    out = hocvu(workspace, "repair", "--as", "ed")
    assert "no longer running → removed" in out.stdout and not dead[0].exists()


# -- (3) publishing ----------------------------------------------------------------------------------
@pytest.fixture
def approved(workspace, library, drafted):  # type: ignore[no-untyped-def]
    settings = load_settings()
    with ReviewStore.open(settings) as store:
        for name, role in (("ed", "editor"), ("rev", "reviewer"), ("boss", "admin")):
            store.add_user(name, role)
        _draft(library, drafted, store, ["page"])
        store.approve(LID, "rev")
    return settings


def test_a_crash_while_publishing_is_adopted_and_the_lesson_becomes_published(workspace, approved):
    out = hocvu(workspace, "publish", "--release", "r1", "--as", "boss", crash="release-placed")
    assert out.returncode == -signal.SIGKILL
    assert (workspace / "outputs/published/r1/manifest.json").exists()
    again = hocvu(workspace, "publish", "--release", "r1", "--as", "boss")
    assert again.returncode != 0 and "hocvu repair" in again.stdout + again.stderr
    fixed = hocvu(workspace, "repair", "--as", "boss")
    assert "adopted" in fixed.stdout, fixed.stdout + fixed.stderr
    with ReviewStore.open(approved) as store:
        assert [r.name for r in store.list_releases()] == ["r1"]
        assert store.lesson_state(LID).status == "published"
    assert "all match" in hocvu(workspace, "publish", "verify", "r1").stdout


def test_an_unrecorded_release_that_no_longer_holds_is_set_aside_and_its_name_reused(
        workspace, library, drafted, approved):
    assert hocvu(workspace, "publish", "--release", "r1", "--as", "boss",
                 crash="release-placed").returncode == -signal.SIGKILL
    with ReviewStore.open(approved) as store:
        _draft(library, drafted, store, ["page"])  # a new version: the release no longer holds the current one
        store.approve(LID, "rev")
        with pytest.raises(PublishError, match="hocvu repair"):
            from generator.publish.release import build_release

            build_release(store, library, approved, "r1", by="boss")
        found = check_workspace(approved, store, "boss", fix=True)
        assert [f.action.split(" ")[0:2] for f in found] == [["set", "aside"]]
        assert "can be published again" in found[0].action
        build_release(store, library, approved, "r1", by="boss")
        assert [r.items[0].version for r in store.list_releases()] == [2]
    assert list((workspace / "outputs/published/.unrecorded").iterdir())


# -- no process outlives its command ------------------------------------------------------------------
def _children(pid: int) -> set[int]:
    out = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        if int(text[text.rfind(")") + 2:].split()[1]) == pid:
            out.add(int(stat.parent.name))
    return out


def test_render_workers_exit_when_the_build_is_killed(workspace):
    import time

    spec = workspace / "spec.yaml"
    spec.write_text("name: t1\nframework: vn-dcf-2025\ngroups: [elderly]\ncompetences: ['*']\nlevels: [1]\n"
                    "languages: [vi]\nformats: [page, handout]\nbackend: offline\n", encoding="utf-8")
    env = {**os.environ, "HOCVU_WORKSPACE": str(workspace), "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([HOCVU, "build", str(spec), "--workers", "2"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    workers: set[int] = set()
    while time.monotonic() < deadline and len(workers) < 2:
        workers = {c for c in _children(proc.pid) if "spawn_main" in Path(f"/proc/{c}/cmdline").read_text()}
        time.sleep(0.1)
    assert len(workers) == 2
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(Path(f"/proc/{w}").exists() for w in workers):
        time.sleep(0.1)
    alive = {w for w in workers if Path(f"/proc/{w}").exists()
             and Path(f"/proc/{w}/stat").read_text().split(") ")[1][0] != "Z"}
    assert not alive


def test_two_builds_with_overlapping_plans_both_complete_with_whole_versions(workspace):
    spec = workspace / "spec.yaml"
    spec.write_text("name: t1\nframework: vn-dcf-2025\ngroups: [elderly]\ncompetences: ['4.*']\nlevels: [1]\n"
                    "languages: [vi]\nformats: [page]\nbackend: offline\n", encoding="utf-8")
    env = {**os.environ, "HOCVU_WORKSPACE": str(workspace), "PYTHONPATH": str(REPO)}
    runs = [subprocess.Popen([HOCVU, "build", str(spec), "--force", "--workers", "0"], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=300)[0] for p in runs]
    assert [p.returncode for p in runs] == [0, 0], outs
    with ReviewStore.open(load_settings()) as store:
        lessons = store.list_lessons()
        assert len(lessons) >= 4
        for state in lessons:
            versions = store.versions(state.id)
            assert [v.folder.name for v in versions if v.folder] == [f"v{v.number}" for v in versions]
            for v in versions:
                assert all(a.path.is_file() for a in v.artifacts.values()) and "index.html" in v.artifacts
    assert "agree" in hocvu(workspace, "repair", "--check").stdout


def processes_of(workspace: Path) -> set[int]:
    """Every live process whose environment names this workspace (the build, its workers, their helpers)."""
    mark = f"HOCVU_WORKSPACE={workspace}".encode()
    out = set()
    for env in Path("/proc").glob("[0-9]*/environ"):
        try:
            if mark in env.read_bytes().split(b"\0") and \
                    Path(env.parent / "stat").read_text().rsplit(") ", 1)[1][0] != "Z":
                out.add(int(env.parent.name))
        except (OSError, IndexError):
            continue
    return out


@pytest.mark.parametrize("workers", ["2", "0"])
def test_kill_9_of_a_build_leaves_no_process_behind(workspace, workers):
    import time

    spec = workspace / "spec.yaml"
    spec.write_text("name: t1\nframework: vn-dcf-2025\ngroups: [elderly]\ncompetences: ['*']\nlevels: [1]\n"
                    "languages: [vi]\nformats: [audio]\nbackend: offline\n", encoding="utf-8")
    env = {**os.environ, "HOCVU_WORKSPACE": str(workspace), "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([HOCVU, "build", str(spec), "--workers", workers], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300  # a wait for a state, not a timing: workers start slowly on a busy machine
    speaking: set[int] = set()
    while time.monotonic() < deadline and not speaking:
        speaking = {p for p in processes_of(workspace)
                    if Path(f"/proc/{p}/comm").exists() and "espeak" in Path(f"/proc/{p}/comm").read_text()}
        time.sleep(0.05)
    assert speaking, "espeak-ng never started"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 3  # workers look for their parent every 0.5 s; helpers die at once
    while time.monotonic() < deadline and processes_of(workspace):
        time.sleep(0.1)
    assert processes_of(workspace) == set()
