"""The retrieval query for a lesson: what it teaches, at which level, to whom."""

from __future__ import annotations

from generator.schema import Competence, Descriptor, TargetGroup


def build_query(competence: Competence, descriptors: list[Descriptor], group: TargetGroup, lang: str) -> str:
    """A short query from the competence name (both languages, so an English passage can match a
    Vietnamese lesson and back), the level descriptors and the group's two most important situations."""
    other = "en" if lang == "vi" else "vi"
    parts = [competence.name.get(lang)]
    if competence.name.get(other) != parts[0]:
        parts.append(competence.name.get(other))
    parts += [d.text.get(lang) for d in descriptors[:3]]
    parts += [s.text.get(lang) for s in group.situations[:2]]
    return " ".join(p.strip().rstrip(".") + "." for p in parts if p.strip())
