"""A version's whole life, in one place: stage → render → record notes → fill → commit → submit.

``make_version`` is the one path by which a version comes to be: ``hocvu draft`` (``pipeline.draft_one``),
edits, revisions and batch builds all call it, so every version in the store has its folder
``outputs/drafts/<lesson-id>/v<N>/`` with the same files (``lesson.json``, ``checks.json``,
``preview.md`` and the rendered formats), each recorded with its checksum, and its notes in the
provenance. A caller that renders elsewhere (a build's worker pool) hands it a render function.

The store decides the number, the folder follows (``place_and_record``): under a per-lesson lock the
next number is read from the store, the staged folder (with ``.files.json``, the checksums of its files)
is renamed to ``v<N>`` and the version recorded. A crash between rename and record leaves a folder the
store does not know; the next version of that lesson sets it aside, and ``hocvu repair`` adopts it
(when its checksums hold) or sets it aside. A removed folder never makes two versions share one.
Staging folders name their owning process: a dead owner's are removed, a live one's never touched.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from generator.drafting.service import Drafted
from generator.errors import NotFoundError
from generator.fsutil import (
    make_staging,
    remove_stale_staging,
    set_aside,
    sha256_file,
    sweep_stale_staging,
    write_text_atomic,
)
from generator.review.notes import note as note_text

if TYPE_CHECKING:
    from generator.config import Settings
    from generator.drafting.checks import CheckResult
    from generator.frameworks import Library
    from generator.lesson import Lesson

#: Checksums of a version folder's files, written just before it is renamed into place (hidden, so it is
#: not an artifact): ``hocvu repair`` adopts an unrecorded folder only when they all hold.
FILES_MANIFEST = ".files.json"
#: Files every version folder holds, whatever was rendered.
CONTENT_FILES = ("lesson.json", "checks.json", "preview.md")
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


class VersionStore(Protocol):
    """What a version's life asks of the review store (``generator.review.store.ReviewStore``): the
    store decides numbers and records versions; this module never reaches into it otherwise."""

    def lesson_state(self, lesson_id: str) -> Any:
        """The lesson's state (``current_version``); NotFoundError for a lesson it does not know."""
        ...

    def versions(self, lesson_id: str) -> list[Any]:
        """The lesson's recorded versions (each with ``number`` and ``folder``)."""
        ...

    def submit_version(self, lesson: Lesson, checks: list[CheckResult], artifacts: dict[str, Path], author: str,
                       parent_version: int | None = None, *, kind: str | None = None,
                       expected_version: int | None = None, submit: bool = True, folder: Path | None = None,
                       cache_key: str | None = None, note: str | None = None) -> Any:
        """Record a new version (with ``number`` and ``status``) of ``lesson``, its files and checks."""
        ...


#: ``render_lesson(lesson, group, out_dir, formats, settings, tts=None) -> RenderResult`` (generator.render).
RenderFn = Callable[..., Any]


def default_renderer() -> RenderFn:
    """The real renderer (imported only when a version is rendered)."""
    from generator.render import render_lesson  # type: ignore[attr-defined]

    return render_lesson  # type: ignore[no-any-return]


def collect_artifacts(folder: Path) -> dict[str, Path]:
    """Every file of a version folder, by file name (hidden temporary files left out)."""
    return {p.name: p for p in sorted(folder.iterdir()) if p.is_file() and not p.name.startswith(".")}


def lesson_dir(outputs: Path, lesson_id: str) -> Path:
    """Folder holding every version of a lesson (``outputs/drafts/<lesson-id>``)."""
    return outputs / "drafts" / lesson_id


def stage(outputs: Path, lesson_id: str) -> Path:
    """A staging folder owned by this process beside the lesson's versions; stale ones (owner gone) go."""
    base = lesson_dir(outputs, lesson_id)
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


def next_number(store: VersionStore, lesson_id: str) -> int:
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
    """What making a version produced: its record, the lesson as saved, its folder, notes and timings."""

    record: Any  # the store's record of it (generator.review.records.VersionRecord)
    drafted: Drafted
    path: Path
    render_notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)  # seconds: render, render.<format>, submit


def fill(folder: Path, drafted: Drafted) -> None:
    """Write the content files (``lesson.json``, ``checks.json``, ``preview.md``) into a staged folder."""
    from generator.render.preview import to_markdown

    write_text_atomic(folder / "lesson.json", drafted.lesson.model_dump_json(indent=2))
    write_text_atomic(folder / "checks.json", json.dumps([c.to_dict() for c in drafted.checks],
                                                         ensure_ascii=False, indent=2))
    write_text_atomic(folder / "preview.md", to_markdown(drafted.lesson, drafted.checks))


def add_notes(drafted: Drafted, notes: Sequence[str]) -> None:
    """Record ``notes`` (e.g. a TTS fallback) in the lesson's provenance: the one way notes reach it."""
    from generator.render import record_notes

    drafted.lesson = record_notes(drafted.lesson, notes)


def render_into(drafted: Drafted, library: Library, settings: Settings, folder: Path,
                formats: Sequence[str] | None, tts: Any = None, render: RenderFn | None = None) -> Any:
    """Render the lesson into a staged folder (``formats``: None for the group's defaults); returns what
    the render function returned (``files``, ``notes``, ``timings``), or None when nothing was asked."""
    lesson = drafted.lesson
    group = library.group(lesson.group)
    chosen = list(formats) if formats is not None else list(group.default_formats)
    if not chosen:
        return None
    return (render or default_renderer())(lesson, group, folder, chosen, settings, tts=tts)


def make_version(
    drafted: Drafted,
    library: Library,
    settings: Settings,
    store: VersionStore,
    *,
    author: str,
    kind: str = "draft",
    parent_version: int | None = None,
    expected_version: int | None = None,
    formats: Sequence[str] | None = None,
    tts: Any = None,
    render: RenderFn | None = None,
    note: str | None = None,
    cache_key: str | None = None,
    on_stage: Callable[[str], None] | None = None,
) -> NewVersion:
    """stage → render → record notes → fill → commit → submit: the one way a version is made.

    The version is rendered and written in a hidden staging folder owned by this process, which becomes
    ``v<N>`` (N from the store) only when whole and is recorded in the same step, in review under
    ``author``; if anything fails, nothing is left behind. ``render`` replaces the real renderer (a
    build passes one that sends the work to its executor); ``on_stage`` hears 'render' and 'submit' as
    they begin; ``note`` goes with the store's event, ``cache_key`` marks a build's version."""
    lesson_id = drafted.lesson.id
    tell = on_stage or (lambda _stage: None)
    timings: dict[str, float] = {}
    tmp = stage(settings.outputs_dir, lesson_id)
    try:
        tell("render")
        t = time.perf_counter()
        result = render_into(drafted, library, settings, tmp, formats, tts, render)
        notes = list(getattr(result, "notes", None) or [])
        add_notes(drafted, notes)
        fill(tmp, drafted)
        timings["render"] = time.perf_counter() - t
        timings.update({f"render.{k}": v for k, v in (getattr(result, "timings", None) or {}).items()})

        tell("submit")
        t = time.perf_counter()
        path, record = place_and_record(
            tmp,
            lambda: next_number(store, lesson_id),
            lambda path: store.submit_version(
                drafted.lesson, drafted.checks, collect_artifacts(path), author, parent_version, kind=kind,
                expected_version=expected_version, folder=path, note=note, cache_key=cache_key,
            ),
        )
        timings["submit"] = time.perf_counter() - t
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # gone already when it was placed
    return NewVersion(record, drafted, path, notes, timings)


@dataclass
class VersionRepair:
    """A disagreement between the store and ``outputs/drafts`` (and, when repairing, what was done)."""

    path: Path
    problem: str
    action: str = ""


def _adopt_version(store: VersionStore, folder: Path, by: str) -> Any:
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
                                note=note_text("adopted"))


def repair_versions(outputs: Path, store: VersionStore, by: str, *, fix: bool) -> list[VersionRepair]:
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
            out += [VersionRepair(tmp, "staging folder of a process that is no longer running",
                                  "removed" if fix else "")
                    for tmp in sweep_stale_staging(base, fix=fix)]
    return out
