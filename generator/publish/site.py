"""The release's static site: an index by group and competence linking each lesson's page and files.

Mobile-first, no script, relative links only, so it works from a plain file server or a USB stick.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jinja2 import Template

    from generator.frameworks import Library

TEMPLATES = Path(__file__).resolve().parent / "templates"

LABELS: dict[str, dict[str, str]] = {
    "vi": {
        "title": "Bài học kỹ năng số",
        "release": "Bản phát hành",
        "groups": "Nhóm người học",
        "lead": "{n} bài học đã được duyệt, xếp theo nhóm người học và năng lực.",
        "level": "Bậc",
        "version": "phiên bản",
        "open": "Mở bài học",
        "scorm": "Gói SCORM (LMS)",
        "footer": "Mọi bài học ở đây đã được người duyệt phê duyệt",
        "handout.docx": "Tài liệu học viên (.docx)",
        "guide.docx": "Hướng dẫn giảng viên (.docx)",
        "slides.pptx": "Bài trình chiếu (.pptx)",
        "narration.mp3": "Bài nghe (.mp3)",
    },
    "en": {
        "title": "Digital skills lessons",
        "release": "Release",
        "groups": "Learner groups",
        "lead": "{n} approved lessons, by learner group and competence.",
        "level": "Level",
        "version": "version",
        "open": "Open the lesson",
        "scorm": "SCORM package (LMS)",
        "footer": "Every lesson here was approved by a reviewer",
        "handout.docx": "Learner handout (.docx)",
        "guide.docx": "Facilitator guide (.docx)",
        "slides.pptx": "Slides (.pptx)",
        "narration.mp3": "Audio (.mp3)",
    },
}
LANGUAGE_NAMES = {"vi": {"vi": "Tiếng Việt", "en": "Tiếng Anh"}, "en": {"vi": "Vietnamese", "en": "English"}}
LANG_TAGS = {"vi": "vi-VN", "en": "en-US"}


def download_order() -> list[tuple[str, str]]:
    """(file name, format) of the files the index lists beside each lesson, in the format registry's
    order (formats with ``listed``); the labels above win over a format's own."""
    from generator.render.base import format_specs

    return [(spec.file, spec.name) for spec in format_specs() if spec.listed]


@dataclass
class SiteLesson:
    """One lesson as the index shows it."""

    id: str
    title: str
    framework: str
    competence: str
    level: int
    group: str
    language: str
    version: int
    page: str
    scorm: str
    files: list[str] = field(default_factory=list)


@lru_cache(maxsize=1)
def _template() -> Template:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )
    return env.get_template("index.html.j2")


def _anchor(text: str) -> str:
    return "g-" + re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")


def _code_key(code: str) -> tuple[int | str, ...]:
    return tuple(int(p) if p.isdigit() else p for p in code.split("."))


def site_language(lessons: list[SiteLesson]) -> str:
    """The language most lessons are in (Vietnamese on a tie)."""
    counts = Counter(item.language for item in lessons)
    return "en" if counts["en"] > counts["vi"] else "vi"


def render_index(
    lessons: list[SiteLesson], library: Library, *, release: str, created: str, hocvu_version: str
) -> str:
    """The index page: groups (in library order), then competences (by code), then lessons."""
    lang = site_language(lessons)
    w = LABELS[lang]
    groups: dict[str, dict[str, list[SiteLesson]]] = {}
    for item in lessons:
        groups.setdefault(item.group, {}).setdefault(f"{item.framework}\0{item.competence}", []).append(item)
    order = {gid: i for i, gid in enumerate(library.groups)}
    out: list[dict[str, Any]] = []
    for gid in sorted(groups, key=lambda g: (order.get(g, len(order)), g)):
        name = library.groups[gid].names.get(lang) if gid in library.groups else gid
        comps = []
        for key in sorted(groups[gid], key=lambda k: (k.split("\0")[0], _code_key(k.split("\0")[1]))):
            fid, code = key.split("\0")
            try:
                cname = library.framework(fid).competence(code).name.get(lang)
            except Exception:  # the framework changed since: show the code alone
                cname = fid
            items = sorted(groups[gid][key], key=lambda x: (x.level, x.language))
            comps.append({"code": code, "name": cname, "lessons": [_view(x, w, lang) for x in items]})
        out.append({"anchor": _anchor(gid), "name": name, "competences": comps})
    return _template().render(
        lang_tag=LANG_TAGS[lang],
        w=w,
        release=release,
        created=created,
        count=len(lessons),
        groups=out,
        hocvu_version=hocvu_version,
    )


def _view(item: SiteLesson, w: dict[str, str], lang: str) -> dict[str, Any]:
    from generator.render.base import format_spec

    base = item.page.rsplit("/", 1)[0]
    files = [(w.get(name) or format_spec(fmt).label(lang), f"{base}/{name}")
             for name, fmt in download_order() if name in item.files]
    return {
        "title": item.title,
        "page": item.page,
        "scorm": item.scorm,
        "level": item.level,
        "language": item.language,
        "language_name": LANGUAGE_NAMES[lang].get(item.language, item.language),
        "version": item.version,
        "files": files,
    }
