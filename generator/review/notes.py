"""The sentences hocvu writes into a version's provenance notes and into the history (event comments).

Each is a code with named parameters. It is stored as its English text, which every reader of lesson.json,
checks.json and the API already understands (and which older rows hold), and it is read back into code and
parameters when shown, so the review app renders it in the reader's language. Text that matches no note
(a reviewer's comment, a row written before a note existed) is shown as it is.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from generator.i18n import N_, Message, format_message

#: Every note and event description hocvu writes, by code.
NOTES: dict[str, str] = {
    "drafted": N_("drafted with {backend}"),
    "edited": N_("edited by {author} from version {version}"),
    "edited_sections": N_("edited {sections}"),
    "revised": N_("revised {section} from version {version} following {n} open comment(s)"),
    "revise_unchanged": N_("the revision left '{section}' unchanged; edit the lesson (`hocvu edit {lesson_id}`) "
                           "to apply what the backend could not"),
    "adopted": N_("adopted by hocvu repair after an interrupted save"),
    "release": N_("release {name}"),
    "not_made": N_("{format}: not made: {error}"),
    "gtts_fallback": N_("narration: gTTS unreachable ({error}), used {fallback}"),
    # why a version is outdated (computed when shown, read back the same way)
    "framework_gone": N_("framework entry {framework} {competence} no longer exists"),
    "framework_changed": N_("framework entry {framework} {competence} changed"),
    "group_gone": N_("group profile {group} no longer exists"),
    "group_changed": N_("group profile {group} changed"),
    "content_changed": N_("content library entry {framework} {competence} changed"),
    "composer_changed": N_("the offline composer changed"),
    "prompts_changed": N_("the prompt templates changed"),
    "prompt_changed": N_("the prompt changed"),
    "source_removed": N_("cited source {name} was removed from the source library or replaced"),
}


def note(code: str, /, **params: Any) -> str:
    """The note ``code`` as stored: its English text."""
    return format_message(NOTES[code], {k: str(v) for k, v in params.items()})


@lru_cache(maxsize=1)
def _patterns() -> list[tuple[re.Pattern[str], str]]:
    out = []
    for msgid in NOTES.values():
        parts = []
        for literal, field, _spec, _conv in string.Formatter().parse(msgid):
            parts.append(re.escape(literal))
            if field:
                parts.append(f"(?P<{field}>.+?)")
        out.append((re.compile("".join(parts) + r"\Z", re.S), msgid))
    # the longest templates first, so "edited by … from version …" wins over "edited …"
    return sorted(out, key=lambda p: -len(p[1]))


#: A note's parameters that name sections ("summary, steps"), which the reader's interface names itself.
SECTION_PARAMS = frozenset({"section", "sections"})


def as_message(text: str, section_name: Callable[[str], str] | None = None) -> Message | None:
    """The note ``text`` read back into its message, or None when hocvu did not write it; section names
    in it are passed through ``section_name`` (the interface's own words for them)."""
    for pattern, msgid in _patterns():
        if m := pattern.match(text):
            params = m.groupdict()
            if section_name:
                params = {k: ", ".join(section_name(s) for s in v.split(", ")) if k in SECTION_PARAMS else v
                          for k, v in params.items()}
            return Message(msgid, **params)
    return None


def describe(text: str, lang: str | None = None, section_name: Callable[[str], str] | None = None) -> str:
    """A stored note or event comment in ``lang``: hocvu's own notes (several joined by "; " too) are
    translated, anything else is shown as written."""
    if not text:
        return text
    whole = as_message(text, section_name)
    if whole is not None:
        return whole.render(lang)
    parts = text.split("; ")
    if len(parts) > 1 and any(as_message(p) for p in parts):
        return "; ".join(m.render(lang) if (m := as_message(p, section_name)) else p for p in parts)
    return text
