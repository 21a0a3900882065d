"""The retrieval query for a lesson: what it teaches, at which level, to whom — in each language.

The framework writes competence names, descriptors and group situations in Vietnamese and English, so a
lesson's query needs no translator: ``build_queries`` gives it in both languages, and the search fuses
the two (a Vietnamese lesson then finds an English report's passages, and back).
"""

from __future__ import annotations

from generator.schema import Competence, Descriptor, TargetGroup

LANGS = ("vi", "en")


def build_query(competence: Competence, descriptors: list[Descriptor], group: TargetGroup, lang: str) -> str:
    """A short query in ``lang``: the competence name, the level descriptors and the group's two most
    important situations (a text missing in ``lang`` falls back to the other language)."""
    parts = [competence.name.get(lang)]
    parts += [d.text.get(lang) for d in descriptors[:3]]
    parts += [s.text.get(lang) for s in group.situations[:2]]
    return " ".join(p.strip().rstrip(".") + "." for p in parts if p.strip())


def build_queries(
    competence: Competence, descriptors: list[Descriptor], group: TargetGroup, lang: str
) -> list[str]:
    """The lesson's query in ``lang`` first, then in the other language when the framework has it."""
    first = build_query(competence, descriptors, group, lang)
    others = [build_query(competence, descriptors, group, other) for other in LANGS if other != lang]
    return [first, *(q for q in others if q != first)]
