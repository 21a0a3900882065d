"""Building an immutable release of approved lessons: select → verify → assemble → manifest → place.

The release is assembled in a hidden folder beside its destination (named for its owning process, so
only a dead owner's is ever removed) and renamed into place inside the store transaction that records
it. A crash between the rename and the commit leaves a release folder the store does not know:
``repair_releases`` (``hocvu repair``) adopts it when its manifest and lessons still hold, or sets it
aside, and its name can be published again.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator.errors import HocvuError, PublishError
from generator.fsutil import (
    is_no_space,
    make_staging,
    no_space,
    remove_stale_staging,
    set_aside,
    sha256_file,
    sweep_stale_staging,
    write_text_atomic,
)
from generator.publish.manifest import file_sha256

if TYPE_CHECKING:
    from generator.config import Settings
    from generator.frameworks import Library
    from generator.review.records import LessonState, ReleaseRecord, VersionRecord
    from generator.review.store import ReviewStore

RELEASE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
def published_files() -> tuple[str, ...]:
    """Files of a version that go into a release: every registered format's file and side files, and
    the lesson's data (review material such as checks and previews stays out)."""
    from generator.render.base import format_specs

    names: list[str] = []
    for spec in format_specs():
        names += [spec.file, *spec.side_files.values(), *spec.also_published]
    return (*names, "lesson.json")


def page_links() -> dict[str, str]:
    """The files the lesson page links to, by render format (and side-file key, e.g. captions)."""
    from generator.render.base import format_specs

    links: dict[str, str] = {}
    for spec in format_specs():
        if spec.linked:
            links[spec.name] = spec.file
            links.update(spec.side_files)
    return links


PageFn = Callable[..., str]


def published_dir(settings: Settings) -> Path:
    """``outputs/published``: one folder per release."""
    return settings.outputs_dir / "published"


def check_release_name(name: str) -> str:
    """A release name usable as a folder name: letters, digits, . _ - (up to 64)."""
    if not RELEASE_NAME.match(name or ""):
        raise PublishError(
            "invalid release name {name!r}: use letters, digits and . _ - (up to 64 characters), "
            "e.g. 2025-12-elderly",
            name=name,
        )
    return name


@dataclass
class Candidate:
    """An approved lesson's current version, ready to be published."""

    state: LessonState
    version: VersionRecord
    approved_hash: str


@dataclass
class Release:
    """A built and recorded release."""

    name: str
    path: Path
    record: ReleaseRecord
    lessons: list[dict[str, Any]] = field(default_factory=list)
    manifest_sha256: str = ""


def select_approved(
    store: ReviewStore,
    *,
    group: str | None = None,
    framework: str | None = None,
    competence: str | None = None,
) -> list[Candidate]:
    """The current version of every approved (or already published) lesson matching the filters — no other."""
    from generator.review.workflow import PUBLISHABLE, Action

    out = []
    for state in store.list_lessons(
        status=sorted(PUBLISHABLE), group=group, framework=framework, competence=competence
    ):
        version = store.get_version(state.id)
        approvals = [
            e for e in store.history(state.id) if e.action == Action.APPROVE and e.version == version.number
        ]
        if not approvals:  # cannot happen through the store; refuse rather than guess
            raise PublishError(
                "{id} version {number} is {status} but has no approval on record",
                id=state.id, number=version.number, status=state.status,
            )
        out.append(Candidate(state, version, approvals[-1].content_hash or ""))
    return out


def verify_candidate(c: Candidate) -> None:
    """The version still holds what was approved: its content hash and every file's checksum."""
    from generator.review.records import lesson_content_hash

    v = c.version
    if lesson_content_hash(v.lesson) != v.content_hash or v.content_hash != c.approved_hash:
        raise PublishError(
            "{lesson_id} version {number} no longer matches the content that was approved; "
            "it was altered outside hocvu — make a new version and have it approved",
            lesson_id=v.lesson_id, number=v.number,
        )
    published = published_files()
    for art in v.artifacts.values():
        if art.name not in published:
            continue
        if not art.path.is_file():
            raise PublishError(
                "{lesson_id} version {number}: {name} is missing ({path}); "
                "render the lesson again as a new version",
                lesson_id=v.lesson_id, number=v.number, name=art.name, path=art.path,
            )
        if sha256_file(art.path) != art.sha256:
            raise PublishError(
                "{lesson_id} version {number}: {name} changed since it was recorded "
                "({path}); render the lesson again as a new version",
                lesson_id=v.lesson_id, number=v.number, name=art.name, path=art.path,
            )


def _default_page() -> PageFn:
    from generator.render import render_page_html

    return render_page_html


def assemble_lesson(c: Candidate, library: Library, root: Path, page: PageFn | None,
                    hashed: dict[tuple[int, ...], str] | None = None) -> dict[str, Any]:
    """Copy one lesson's files into ``lessons/<id>/`` and build its SCORM package folder in ``scorm/<id>/``;
    its manifest entry."""
    from generator.publish.scorm import add_bridge, build_scorm_dir

    v, lesson = c.version, c.version.lesson
    folder = root / "lessons" / lesson.id
    folder.mkdir(parents=True)
    for name in published_files():
        if name in v.artifacts:
            shutil.copyfile(v.artifacts[name].path, folder / name)
    if not (folder / "lesson.json").exists():
        write_text_atomic(folder / "lesson.json", lesson.model_dump_json(indent=2))
    if not (folder / "index.html").exists():
        # A version drafted without renders: its page is made from the approved content now.
        links = {fmt: name for fmt, name in page_links().items() if (folder / name).exists()}
        write_text_atomic(
            folder / "index.html", (page or _default_page())(lesson, library.group(lesson.group), links)
        )
    bridge = add_bridge(folder, next(root.glob("lessons/*/scorm.js"), None))  # one copy, linked by the rest
    scorm = root / "scorm" / lesson.id
    scorm.parent.mkdir(exist_ok=True)
    linked = {name: folder / name for name in (*page_links().values(), "index.html") if (folder / name).exists()}
    build_scorm_dir(  # every file but imsmanifest.xml is a hard link to the site's own: on disk once
        scorm,
        identifier=f"hocvu-{lesson.id}-v{v.number}",
        title=lesson.title,
        files={**linked, "scorm.js": bridge},
        version=str(v.number),
    )
    paths = [*sorted(folder.iterdir()), *sorted(scorm.iterdir())]
    files = {p.relative_to(root).as_posix(): file_sha256(p, hashed) for p in paths}
    return {
        "id": lesson.id,
        "version": v.number,
        "content_hash": v.content_hash,
        "title": lesson.title,
        "framework": lesson.framework,
        "competence": lesson.competence,
        "level": lesson.level,
        "group": lesson.group,
        "language": lesson.language,
        "author": v.author,
        "approved_by": c.state.approved_by,
        "approved_at": c.state.approved_at.isoformat() if c.state.approved_at else None,
        "page": f"lessons/{lesson.id}/index.html",
        "scorm": f"scorm/{lesson.id}/imsmanifest.xml",
        "files": files,
    }


def build_release(
    store: ReviewStore,
    library: Library,
    settings: Settings,
    name: str,
    *,
    by: str,
    group: str | None = None,
    framework: str | None = None,
    competence: str | None = None,
    page: PageFn | None = None,
) -> Release:
    """select → verify → assemble (files, SCORM, site) → manifest → place and record. Immutable."""
    from generator import __version__
    from generator.publish.manifest import write_manifest
    from generator.publish.site import SiteLesson, render_index
    from generator.review.records import ReleaseItem

    check_release_name(name)
    base = published_dir(settings)
    target = base / name
    recorded = any(r.name == name for r in store.list_releases())
    if recorded:
        raise PublishError("release {name!r} already exists; releases are immutable, choose a new name", name=name)
    if target.exists():
        raise PublishError(
            "release folder {target} exists but the store has no record of it (an interrupted publish); "
            "run `hocvu repair` to adopt or set it aside, then publish again",
            target=target,
        )
    filters = {k: v for k, v in (("group", group), ("framework", framework), ("competence", competence)) if v}
    chosen = select_approved(store, group=group, framework=framework, competence=competence)
    if not chosen:
        where = ", ".join(f"{k} {v}" for k, v in filters.items()) or "the store"
        raise PublishError("no approved lessons in {where}; approve some with `hocvu review approve` first",
                           where=where)
    for c in chosen:
        verify_candidate(c)
    remove_stale_staging(base)
    tmp = make_staging(base, name)
    placed = False
    try:
        hashed: dict[tuple[int, ...], str] = {}  # a file and its hard links are read once
        entries = [assemble_lesson(c, library, tmp, page, hashed) for c in chosen]
        created = datetime.now(UTC)
        site = [
            SiteLesson(
                e["id"],
                e["title"],
                e["framework"],
                e["competence"],
                e["level"],
                e["group"],
                e["language"],
                e["version"],
                e["page"],
                e["scorm"],
                [Path(f).name for f in e["files"] if f.startswith("lessons/")],
            )
            for e in entries
        ]
        write_text_atomic(
            tmp / "index.html",
            render_index(
                site, library, release=name, created=f"{created:%Y-%m-%d}", hocvu_version=__version__
            ),
        )
        manifest_sha = write_manifest(
            tmp,
            {
                "release": name,
                "created_at": created.isoformat(),
                "created_by": by,
                "hocvu_version": __version__,
                "filters": filters,
                "lessons": entries,
            },
            hashed=hashed,
        )
        os.chmod(tmp, 0o755)
        from generator.versions import crash_point

        crash_point("release-staged")

        def place() -> None:
            nonlocal placed
            try:
                os.rename(tmp, target)
                placed = True
                crash_point("release-placed")
            except OSError as exc:
                raise PublishError("cannot place release {name} at {target}: {strerror}",
                                   name=name, target=target, strerror=exc.strerror) from exc

        record = store.create_release(
            name,
            [ReleaseItem(e["id"], e["version"], e["content_hash"]) for e in entries],
            by=by,
            path=target,
            manifest_sha256=manifest_sha,
            hocvu_version=__version__,
            filters=filters,
            place=place,
        )
        crash_point("release-recorded")
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if placed:  # renamed into place but not recorded: take it back
            shutil.rmtree(target, ignore_errors=True)
        if isinstance(exc, OSError) and not isinstance(exc, HocvuError) and is_no_space(exc):
            raise no_space(target, f"release {name}") from exc  # copies, pages and SCORM zips alike
        raise
    return Release(name, target, record, entries, manifest_sha)


def release_path(settings: Settings, store: ReviewStore | None, name: str) -> tuple[Path, str | None]:
    """Where release ``name`` is and its recorded manifest checksum (None when the store has no record).

    ``name`` may also be the path of a release folder (e.g. a copy on another machine)."""
    from generator.errors import NotFoundError

    as_path = Path(name)
    if as_path.is_dir() and (as_path / "manifest.json").exists():
        record = None
    else:
        check_release_name(name)
        as_path = published_dir(settings) / name
        record = None
    if store is not None:
        try:
            rec = store.get_release(as_path.name)
        except NotFoundError:
            rec = None
        if rec is not None and rec.path.resolve() == as_path.resolve():
            record = rec.manifest_sha256
    if not as_path.is_dir():
        raise PublishError("no release {name!r} in {published_dir}",
                           name=name, published_dir=published_dir(settings))
    return as_path, record


@dataclass
class ReleaseRepair:
    """What ``repair_releases`` found (and, when repairing, did) for one folder of ``outputs/published``."""

    path: Path
    problem: str
    action: str = ""


def unrecorded_releases(settings: Settings, store: ReviewStore) -> list[Path]:
    """Release folders the store has no record of (left by a publish that died after placing them)."""
    base = published_dir(settings)
    if not base.is_dir():
        return []
    known = {r.path.resolve() for r in store.list_releases()}
    return [p for p in sorted(base.iterdir())
            if p.is_dir() and not p.name.startswith(".") and p.resolve() not in known]


def adopt_release(store: ReviewStore, root: Path, by: str) -> ReleaseRecord:
    """Record an unrecorded release folder when its files match its manifest and each lesson is still the
    approved version it holds (PublishError or ConflictError otherwise; nothing is recorded then)."""
    from generator.publish.manifest import read_manifest, verify_release
    from generator.review.records import ReleaseItem

    report = verify_release(root)
    if not report.ok:
        raise PublishError("release {name} does not match its manifest: {problems}",
                           name=root.name, problems='; '.join(report.problems()[:3]))
    data = read_manifest(root)
    if data.get("release") != root.name:
        raise PublishError("release folder {name} holds the manifest of {get!r}",
                           name=root.name, get=data.get('release'))
    lessons = data.get("lessons")
    if not isinstance(lessons, list) or not all(isinstance(e, dict) for e in lessons):
        raise PublishError("release {name}: its manifest has no valid list of lessons", name=root.name)
    items = [ReleaseItem(str(e["id"]), int(e["version"]), str(e["content_hash"])) for e in lessons]
    filters = data.get("filters") if isinstance(data.get("filters"), dict) else {}
    author = str(data.get("created_by") or by)
    return store.create_release(root.name, items, by=author, path=root,
                                manifest_sha256=sha256_file(root / "manifest.json"),
                                hocvu_version=str(data.get("hocvu_version", "")), filters=filters)


def repair_releases(settings: Settings, store: ReviewStore, by: str, *, fix: bool,
                    keep: bool = False) -> list[ReleaseRepair]:
    """Unrecorded release folders (adopted, else set aside into ``published/.unrecorded/``, or with
    ``keep`` left where they are) and staging folders of dead publishes (removed). With ``fix`` False,
    only report."""
    base = published_dir(settings)
    out: list[ReleaseRepair] = []
    for root in unrecorded_releases(settings, store):
        found = ReleaseRepair(root, "release folder not recorded in the store")
        out.append(found)
        if not fix:
            continue
        try:
            adopt_release(store, root, by)
            found.action = "adopted (manifest and approved versions match)"
        except (HocvuError, KeyError, ValueError, TypeError) as exc:
            if keep:
                found.action = f"kept in place ({exc}); restore a backup of the store to record it"
                continue
            moved = set_aside(root)
            found.action = f"set aside to {moved} ({exc}); the name can be published again"
    out += [ReleaseRepair(tmp, "staging folder of a publish that is no longer running", "removed" if fix else "")
            for tmp in sweep_stale_staging(base, fix=fix)]
    return out
