"""The stages every new version goes through after its content exists: write → render → record.

Drafts (``pipeline.draft_one``), edits, revisions and batch builds all take this path, so each version in
the store has its folder ``outputs/drafts/<lesson-id>/v<N>/``, its files with checksums, and its check
results.

The store decides the number, the folder follows (``place_and_record``): under a per-lesson lock the
next number is read from the store, the staged folder (with ``.files.json``, the checksums of its files)
is renamed to ``v<N>`` and the version recorded. A crash between rename and record leaves a folder the
store does not know; the next version of that lesson sets it aside, and ``hocvu repair`` adopts it
(when its checksums hold) or sets it aside. A removed folder never makes two versions share one.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from generator.drafting.service import Drafted, draft_dir, fill_version
from generator.errors import NotFoundError
from generator.fsutil import (
    make_staging,
    remove_stale_staging,
    set_aside,
    sha256_file,
    stale_staging,
    write_text_atomic,
)

if TYPE_CHECKING:
    from generator.config import Settings
    from generator.frameworks import Library
    from generator.review.records import VersionRecord
    from generator.review.store import ReviewStore

#: Checksums of a version folder's files, written just before it is renamed into place (hidden, so it is
#: not an artifact): ``hocvu repair`` adopts an unrecorded folder only when they all hold.
FILES_MANIFEST = ".files.json"
#: A test-only hook: ``HOCVU_CRASH_AT=<point>`` kills the process (SIGKILL) at that point. Points:
#: version-staged, version-placed, version-recorded (here), release-staged, release-placed,
#: release-recorded (publish/release.py).
CRASH_ENV = "HOCVU_CRASH_AT"


def crash_point(name: str) -> None:
    """Die at once (as ``kill -9`` would) when the crash-injection hook names this point."""
    if os.environ.get(CRASH_ENV) == name:
        import signal

        os.kill(os.getpid(), signal.SIGKILL)


R = TypeVar("R")

#: ``render_lesson(lesson, group, out_dir, formats, settings, tts=None) -> RenderResult`` (generator.render).
RenderFn = Callable[..., Any]


def default_renderer() -> RenderFn:
    """The real renderer (imported only when a version is rendered)."""
    from generator.render import render_lesson  # type: ignore[attr-defined]

    return render_lesson  # type: ignore[no-any-return]


def collect_artifacts(folder: Path) -> dict[str, Path]:
    """Every file of a version folder, by file name (hidden temporary files left out)."""
    return {p.name: p for p in sorted(folder.iterdir()) if p.is_file() and not p.name.startswith(".")}


def stage(outputs: Path, lesson_id: str) -> Path:
    """A staging folder owned by this process beside the lesson's versions; stale ones (owner gone) go."""
    base = draft_dir(outputs, lesson_id)
    remove_stale_staging(base)
    return make_staging(base)


@contextmanager
def lesson_lock(base: Path) -> Iterator[None]:
    """Hold the lesson's lock (``outputs/.locks/<lesson-id>.lock``, flock): one placement at a time per
    lesson, across processes. The kernel drops it when the holder dies, however it dies."""
    locks = base.parent.parent / ".locks"
    locks.mkdir(parents=True, exist_ok=True)
    fd = os.open(locks / f"{base.name}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def write_files_manifest(folder: Path) -> None:
    """Record the sha256 of every file of a staged version in its ``.files.json``."""
    files = {name: sha256_file(p) for name, p in collect_artifacts(folder).items()}
    write_text_atomic(folder / FILES_MANIFEST, json.dumps(files, indent=1, sort_keys=True))


def folder_whole(folder: Path) -> bool:
    """The folder holds exactly the files its ``.files.json`` lists, each with its checksum."""
    try:
        files = json.loads((folder / FILES_MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(files, dict) or "lesson.json" not in files:
        return False
    found = collect_artifacts(folder)
    return set(found) == set(files) and all(sha256_file(found[n]) == h for n, h in files.items())


def next_number(store: ReviewStore, lesson_id: str) -> int:
    """The number the store will give the lesson's next version."""
    try:
        return store.lesson_state(lesson_id).current_version + 1
    except NotFoundError:
        return 1


def place_and_record(tmp: Path, number: Callable[[], int], record: Callable[[Path], R]) -> tuple[Path, R]:
    """Rename the staged folder to ``v<N>``, N being the store's next number, and record it — one step.

    Under the lesson's lock nothing else places a version between reading N and recording it. A folder
    already at ``v<N>`` is one the store does not know (a crash between rename and record): it is set
    aside, not overwritten. If recording fails, the folder is removed and nothing is left behind."""
    base = tmp.parent
    write_files_manifest(tmp)
    os.chmod(tmp, 0o755)
    crash_point("version-staged")
    with lesson_lock(base):
        target = base / f"v{number()}"
        if target.exists():
            set_aside(target)
        os.rename(tmp, target)
        try:
            crash_point("version-placed")
            rec = record(target)
        except BaseException:
            shutil.rmtree(target, ignore_errors=True)
            raise
        crash_point("version-recorded")
    return target, rec


@dataclass
class NewVersion:
    """What writing, rendering and recording a version produced."""

    record: VersionRecord
    drafted: Drafted
    path: Path
    render_notes: list[str] = field(default_factory=list)


def render_into(
    drafted: Drafted,
    library: Library,
    settings: Settings,
    folder: Path,
    formats: Sequence[str] | None,
    tts: Any = None,
    render: RenderFn | None = None,
) -> list[str]:
    """Render the lesson into its version folder; notes (e.g. a TTS fallback) go into its provenance."""
    lesson = drafted.lesson
    group = library.group(lesson.group)
    chosen = list(formats) if formats is not None else list(group.default_formats)
    if not chosen:
        return []
    result = (render or default_renderer())(lesson, group, folder, chosen, settings, tts=tts)
    notes = list(getattr(result, "notes", []) or [])
    if notes:
        prov = lesson.provenance.model_copy(update={"notes": [*lesson.provenance.notes, *notes]})
        drafted.lesson = lesson.model_copy(update={"provenance": prov})
        write_text_atomic(folder / "lesson.json", drafted.lesson.model_dump_json(indent=2))
    return notes


def write_render_record(
    drafted: Drafted,
    library: Library,
    settings: Settings,
    store: ReviewStore,
    *,
    author: str,
    kind: str,
    parent_version: int | None = None,
    expected_version: int | None = None,
    formats: Sequence[str] | None = None,
    tts: Any = None,
    render: RenderFn | None = None,
    note: str | None = None,
    cache_key: str | None = None,
) -> NewVersion:
    """write → render → record as one step. The version is written and rendered in a hidden staging folder
    that becomes ``v<N>`` only when whole; if rendering or recording fails, nothing is left behind."""
    tmp = stage(settings.outputs_dir, drafted.lesson.id)
    try:
        fill_version(tmp, drafted)
        notes = render_into(drafted, library, settings, tmp, formats, tts, render)
        path, record = place_and_record(
            tmp,
            lambda: next_number(store, drafted.lesson.id),
            lambda path: store.submit_version(
                drafted.lesson,
                drafted.checks,
                collect_artifacts(path),
                author,
                parent_version,
                kind=kind,
                expected_version=expected_version,
                folder=path,
                note=note,
                cache_key=cache_key,
            ),
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # gone already when it was placed
    return NewVersion(record, drafted, path, notes)


@dataclass
class VersionRepair:
    """A disagreement between the store and ``outputs/drafts`` (and, when repairing, what was done)."""

    path: Path
    problem: str
    action: str = ""


def _adopt_version(store: ReviewStore, folder: Path, by: str) -> VersionRecord:
    """Record a whole, unrecorded version folder as the lesson's next version."""
    from generator.drafting.checks import CheckResult
    from generator.lesson import Lesson

    lesson = Lesson.model_validate_json((folder / "lesson.json").read_text(encoding="utf-8"))
    if lesson.id != folder.parent.name:
        raise ValueError(f"it holds lesson {lesson.id}")
    checks_file = folder / "checks.json"
    checks = ([CheckResult(**c) for c in json.loads(checks_file.read_text(encoding="utf-8"))]
              if checks_file.exists() else [])
    return store.submit_version(lesson, checks, collect_artifacts(folder), by, kind="draft", folder=folder,
                                cache_key=lesson.provenance.cache_key or None,
                                note="adopted by hocvu repair after an interrupted save")


def repair_versions(outputs: Path, store: ReviewStore, by: str, *, fix: bool) -> list[VersionRepair]:
    """Check every lesson folder against the store: folders it does not know (adopted when they are the
    next number and whole, else set aside into ``.unrecorded/``), versions whose folder is gone (reported;
    nothing can bring the files back) and staging folders of dead processes (removed)."""
    from generator.errors import HocvuError

    out: list[VersionRepair] = []
    root = outputs / "drafts"
    if not root.is_dir():
        return out
    for base in sorted(p for p in root.iterdir() if p.is_dir()):
        with lesson_lock(base):
            try:
                records = store.versions(base.name)
            except NotFoundError:
                records = []
            known = {r.folder.resolve() for r in records if r.folder is not None}
            for r in records:
                if r.folder is not None and not r.folder.is_dir():
                    out.append(VersionRepair(r.folder, f"version {r.number} is recorded but its folder is "
                                             f"missing; make a new version (hocvu draft or edit)"))
            folders = sorted((p for p in base.glob("v*") if p.is_dir() and p.name[1:].isdigit()),
                             key=lambda p: int(p.name[1:]))
            for folder in folders:
                if folder.resolve() in known:
                    continue
                found = VersionRepair(folder, "version folder not recorded in the store")
                out.append(found)
                if not fix:
                    continue
                current = len(records) and max(r.number for r in records)
                why = "it is not the next version number" if int(folder.name[1:]) != current + 1 else ""
                if not why and not folder_whole(folder):
                    why = "its files do not match their checksums"
                if not why:
                    try:
                        rec = _adopt_version(store, folder, by)
                        records.append(rec)
                        found.action = f"adopted as version {rec.number}"
                        continue
                    except (HocvuError, ValueError, OSError) as exc:
                        why = str(exc)
                found.action = f"set aside to {set_aside(folder)} ({why})"
            for tmp in stale_staging(base):
                stale = VersionRepair(tmp, "staging folder of a process that is no longer running")
                out.append(stale)
                if fix:
                    shutil.rmtree(tmp, ignore_errors=True)
                    stale.action = "removed"
    return out
