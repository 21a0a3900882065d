"""The few adapters between a form and the core: a one-section edit becomes the YAML text
``edit_lesson`` takes; downloads resolve a name against the version's recorded artifacts; releases are
built, verified and zipped by ``generator.publish``. Nothing here decides a workflow question."""

from __future__ import annotations

import hashlib
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator.errors import DataError, HocvuError, NotFoundError
from generator.i18n import current_language, translate
from generator.lesson import SECTIONS, Lesson
from generator.web.i18n import translator
from generator.yamlio import compose_text

if TYPE_CHECKING:
    from generator.review.edit import Edited
    from generator.review.records import Artifact, ReleaseRecord, VersionRecord
    from generator.web.context import WebContext

#: Sections edited as plain text; the others (lists and records) are edited as YAML.
TEXT_SECTIONS = ("title", "summary", "example", "narration")



def format_files() -> dict[str, str]:
    """Download names by render format (the files the registered formats write, side files such as
    captions after their format), then the lesson's data, in the order shown."""
    from generator.render.base import format_specs

    files: dict[str, str] = {}
    for spec in format_specs():
        files[spec.name] = spec.file
        files.update(spec.side_files)
    files["lesson"] = "lesson.json"
    return files


def section_form_text(lesson: Lesson, section: str) -> str:
    """What the edit form shows for ``section``: its text, or its YAML for structured sections."""
    from generator.review.diff import section_text

    if section not in SECTIONS:
        raise NotFoundError.unknown("section", section, SECTIONS)
    if section in TEXT_SECTIONS:
        return str(getattr(lesson, section))
    return section_text(lesson, section)


def parse_section(section: str, text: str) -> Any:
    """The value a submitted form gives ``section``; DataError (with the line) for malformed or hostile
    YAML (aliases, duplicate keys, deep nesting, too much text are refused by the one safe loader)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if section in TEXT_SECTIONS:
        return text.strip()
    return compose_text(text, _section_label(section))[1]


def _section_label(section: str) -> str:
    """“section «Steps»” in the reader's language, to name the section in an error."""
    return translate("section “{section}”", section=translator(current_language())(f"section_{section}"))


def edit_section(ctx: WebContext, lesson_id: str, section: str, text: str, *, author: str,
                 expected_version: int) -> Edited:
    """Replace one section of the current version and hand the whole lesson to ``edit_lesson``
    (validated against the group's limits, checked, rendered, recorded as a new version in review)."""
    from generator.review.edit import edit_lesson, to_yaml

    if section not in SECTIONS:
        raise NotFoundError.unknown("section", section, SECTIONS)
    current = ctx.store.get_version(lesson_id)
    data = current.lesson.draft_part()
    data[section] = parse_section(section, text)
    label = _section_label(section)
    return edit_lesson(ctx.library, ctx.settings, ctx.store, lesson_id, to_yaml(data), author=author,
                       expected_version=expected_version, formats=ctx.formats, tts=ctx.tts, render=ctx.render,
                       label=label)


# -- downloads ------------------------------------------------------------------------------------
def find_artifact(version: VersionRecord, name: str) -> Artifact:
    """The artifact a download asks for, by format ('audio') or recorded file name ('narration.mp3').

    Only names in the version's own list are served; anything path-like is refused before the lookup.
    """
    if not name or "/" in name or "\\" in name or ".." in name or "\x00" in name:
        raise DataError("{name!r} is not a file of this version: ask for a format or a file name, "
                        "not a path", name=name)
    file = format_files().get(name, name)
    art = version.artifacts.get(file)
    if art is None:
        listed = ", ".join(sorted(version.artifacts)) or "(none)"
        raise NotFoundError("{lesson_id} version {number} has no file {name!r}; "
                            "it has: {listed}",
                            lesson_id=version.lesson_id, number=version.number, name=name, listed=listed)
    return art


_VERIFIED: dict[tuple[str, int, int], str] = {}


def checked_path(art: Artifact) -> Path:
    """The artifact's file, after checking it still has the checksum recorded with the version."""
    try:
        st = art.path.stat()
    except OSError:
        raise NotFoundError("the file {name} is missing from {parent}; "
                            "render the lesson again", name=art.name, parent=art.path.parent) from None
    key = (str(art.path), st.st_mtime_ns, st.st_size)
    if _VERIFIED.get(key) != art.sha256:
        h = hashlib.sha256()
        with art.path.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        if h.hexdigest() != art.sha256:
            raise HocvuError("the file {name} changed since it was recorded; it is not served "
                             "(render the lesson again as a new version)", name=art.name)
        if len(_VERIFIED) > 1000:
            _VERIFIED.clear()
        _VERIFIED[key] = art.sha256
    return art.path


def version_downloads(version: VersionRecord) -> list[tuple[str, str, Mapping[str, str]]]:
    """(format or file name, file name, the format's own labels by language) of each downloadable file,
    known formats first (the app's word for a built-in format wins over the format's own label)."""
    from generator import registry

    def labels(key: str) -> Mapping[str, str]:
        return registry.formats[key].labels if key in registry.formats else {}

    known = [(fmt, file, labels(fmt)) for fmt, file in format_files().items() if file in version.artifacts]
    taken = {file for _, file, _ in known}
    return known + [(name, name, {}) for name in sorted(version.artifacts) if name not in taken]


# -- releases -------------------------------------------------------------------------------------
def publish(ctx: WebContext, name: str, *, by: str, group: str | None, framework: str | None,
            competence: str | None) -> Any:
    """Build and record release ``name`` from the approved lessons matching the filters."""
    from generator.publish.release import build_release

    return build_release(ctx.store, ctx.library, ctx.settings, name, by=by, group=group or None,
                         framework=framework or None, competence=competence or None)


def verify(ctx: WebContext, name: str) -> Any:
    """Re-check every checksum of release ``name`` against its manifest and the store's record."""
    from generator.publish.manifest import verify_release
    from generator.publish.release import release_path

    root, expected = release_path(ctx.settings, ctx.store, name)
    return verify_release(root, expected)


def release_zip(ctx: WebContext, record: ReleaseRecord) -> Path:
    """A zip of the release folder, in a temporary file (the caller deletes it)."""
    from generator.errors import PublishError

    root = record.path
    if not root.is_dir():
        raise PublishError("the folder of release {name} is missing ({root})", name=record.name, root=root)
    fd, tmp = tempfile.mkstemp(prefix=f"hocvu-{record.name}-", suffix=".zip")
    import os

    os.close(fd)
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(root.rglob("*")):
            if p.is_file() and not p.is_symlink():
                zf.write(p, f"{record.name}/{p.relative_to(root).as_posix()}")
    return Path(tmp)
