"""The retrieval query for a lesson: what it teaches, at which level, to whom — in each language.

The framework writes competence names, descriptors and group situations in Vietnamese and English, so a
lesson's query needs no translator: ``build_queries`` gives it in both languages, and the search fuses
the two (a Vietnamese lesson then finds an English report's passages, and back).
"""

from __future__ import annotations

from generator.schema import Competence, Descriptor, L10n, TargetGroup

LANGS = ("vi", "en")


def build_query(
    competence: Competence, descriptors: list[Descriptor], group: TargetGroup, lang: str, strict: bool = False
) -> str:
    """A short query in ``lang``: the competence name, the level descriptors and the group's two most
    important situations. A text missing in ``lang`` falls back to the other language, or with ``strict``
    is left out (so a query meant to be in one language stays in it)."""

    def text(t: L10n) -> str:
        return (t.en if lang == "en" else t.vi) if strict else t.get(lang)

    parts = [text(competence.name)]
    parts += [text(d.text) for d in descriptors[:3]]
    parts += [text(s.text) for s in group.situations[:2]]
    return " ".join(p.strip().rstrip(".") + "." for p in parts if p.strip())


def build_queries(
    competence: Competence, descriptors: list[Descriptor], group: TargetGroup, lang: str
) -> list[str]:
    """The lesson's query in ``lang`` first, then in the other language when the framework has it."""
    first = build_query(competence, descriptors, group, lang)
    others = [build_query(competence, descriptors, group, other, strict=True) for other in LANGS if other != lang]
    return [first, *(q for q in others if q and q != first)]
