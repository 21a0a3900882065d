"""A quality report anyone can rerun: draft a fixed sample offline, run every check, and measure how
much text lessons for different groups (and different levels) share.

Overlap is the word-trigram Jaccard index of the learner-facing text — title to glossary, the narration
left out — after the group's address form ("ông bà", "em", …) is put back to one placeholder, so that a
change of address alone never counts as adaptation.

    report = run_sample(library, settings)         # the issue's sample: 24 competences x 5 levels x 8 groups x 2
    Path("QUALITY.md").write_text(report.markdown())
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import TYPE_CHECKING

from generator.drafting.checks import CheckResult
from generator.lesson import Lesson

if TYPE_CHECKING:
    from generator.config import Settings
    from generator.frameworks import Library

#: Contrasting groups of the sample: one or more from each family a trainer would teach differently.
SAMPLE_GROUPS = ("elderly", "farmers", "ethnic-minorities", "deaf-hard-of-hearing", "civil-servants",
                 "teachers", "school-students", "household-businesses")
SAMPLE_LEVELS = (1, 2, 3, 5, 7)
LEVEL_PAIRS = ((1, 2), (1, 3), (3, 5), (5, 7))
#: Goals from the issue: between groups (median, max), and between levels.
GOAL_GROUPS = (0.40, 0.60)
GOAL_LEVELS = {(1, 2): 0.70, (1, 3): 0.35, (3, 5): 0.35, (5, 7): 0.35}
#: Lessons shown whole in the report: the ones a trainer reads first.
SHOWCASE = (("4.2", 1, "elderly", "vi"), ("2.3", 2, "farmers", "vi"), ("4.2", 1, "deaf-hard-of-hearing", "vi"),
            ("6.2", 5, "civil-servants", "vi"), ("1.1", 1, "school-students", "en"))

_WORD = re.compile(r"\w+", re.UNICODE)


def learner_text(lesson: Lesson) -> str:
    """Title to glossary, as a learner reads it (no narration, no facilitator notes)."""
    parts = [lesson.title, lesson.summary, *(o.text for o in lesson.objectives), *(k.text for k in lesson.key_points)]
    parts += [f"{s.action} {s.expect}" for s in lesson.steps]
    parts += [lesson.example, *(t.text for t in lesson.tips), lesson.practice.task, lesson.practice.expected]
    parts += [f"{q.question} {' '.join(q.options)} {q.explanation}" for q in lesson.quiz]
    parts += [f"{g.term} {g.definition}" for g in lesson.glossary]
    return " ".join(parts)


def trigrams(text: str, address: str = "") -> set[tuple[str, ...]]:
    """Word trigrams of ``text`` (lower case), with the address form replaced by one placeholder."""
    low = text.lower()
    if address:
        low = re.sub(rf"(?<!\w){re.escape(address.lower())}(?!\w)", " {you} ", low)
    words = _WORD.findall(low)
    return {tuple(words[i:i + 3]) for i in range(len(words) - 2)}


def jaccard(a: set[tuple[str, ...]], b: set[tuple[str, ...]]) -> float:
    """Shared over all (0 when both are empty)."""
    return len(a & b) / len(a | b) if a or b else 0.0


@dataclass
class Drafted:
    """One sample lesson and its check results (or the error that stopped it)."""

    key: tuple[str, int, str, str]  # competence, level, group, lang
    lesson: Lesson | None
    checks: list[CheckResult] = field(default_factory=list)
    error: str = ""

    @property
    def passed(self) -> bool:
        """Drafted and every check passed."""
        return self.lesson is not None and all(c.passed for c in self.checks)


@dataclass
class Report:
    """The sample's results and overlap figures."""

    framework: str
    lessons: list[Drafted]
    groups: Sequence[str]
    levels: Sequence[int]
    group_overlap: dict[tuple[str, int, str], list[tuple[str, str, float]]] = field(default_factory=dict)
    level_overlap: dict[tuple[int, int], list[tuple[str, str, str, float]]] = field(default_factory=dict)

    # -- figures ------------------------------------------------------------------------------------
    def failures(self) -> list[tuple[Drafted, str]]:
        """Every lesson that failed, with why (error or failing checks)."""
        out = []
        for d in self.lessons:
            if d.lesson is None:
                out.append((d, d.error))
            else:
                bad = [f"{c.name}: {c.message}" for c in d.checks if not c.passed]
                if bad:
                    out.append((d, "; ".join(bad)))
        return out

    def check_counts(self) -> dict[str, tuple[int, int]]:
        """Per check: (passed, run)."""
        out: dict[str, list[int]] = {}
        for d in self.lessons:
            for c in d.checks:
                row = out.setdefault(c.name, [0, 0])
                row[0] += c.passed
                row[1] += 1
        return {k: (v[0], v[1]) for k, v in out.items()}

    def group_figures(self) -> tuple[float, float, list[tuple[str, str, float]]]:
        """Median and max overlap between groups on the same competence, level and language; worst pairs."""
        values = [(f"{c} L{lv} {lang}", f"{a} / {b}", x) for (c, lv, lang), pairs in self.group_overlap.items()
                  for a, b, x in pairs]
        if not values:
            return 0.0, 0.0, []
        xs = [v[2] for v in values]
        return statistics.median(xs), max(xs), sorted(values, key=lambda v: -v[2])[:8]

    def level_figures(self) -> dict[tuple[int, int], tuple[float, float, list[tuple[str, str, str, float]]]]:
        """Per level pair: median, max and the worst cases."""
        out = {}
        for pair, rows in self.level_overlap.items():
            xs = [r[3] for r in rows]
            if xs:
                out[pair] = (statistics.median(xs), max(xs), sorted(rows, key=lambda r: -r[3])[:5])
        return out

    def goals_met(self) -> bool:
        """Every lesson passes every check and every overlap goal holds."""
        med, top, _ = self.group_figures()
        levels_ok = all(fig[1] <= GOAL_LEVELS[pair] for pair, fig in self.level_figures().items())
        return not self.failures() and med <= GOAL_GROUPS[0] and top <= GOAL_GROUPS[1] and levels_ok

    # -- the report ---------------------------------------------------------------------------------
    def markdown(self, showcase: Sequence[tuple[str, int, str, str]] = SHOWCASE) -> str:
        """QUALITY.md."""
        from generator.render.preview import to_markdown

        n = len(self.lessons)
        ok = sum(d.passed for d in self.lessons)
        med, top, worst = self.group_figures()
        out = [
            "# Lesson quality (offline drafter)", "",
            "Made by `hocvu quality`: every lesson of the sample is drafted offline and checked; the overlap "
            "figures are the word-trigram Jaccard index of the learner-facing text (title to glossary, "
            "narration left out), with the group's address form put back to one placeholder so that "
            "a different address alone never counts as a different lesson. Rerun it after changing the "
            "content library, the group profiles or the composer.", "",
            f"Sample: framework {self.framework}; {len({d.key[0] for d in self.lessons})} competences × levels "
            f"{', '.join(map(str, self.levels))} × {len(self.groups)} groups ({', '.join(self.groups)}) × "
            f"{', '.join(sorted({d.key[3] for d in self.lessons}))} = {n} lessons.", "",
            "## Checks", "",
            f"**{ok} of {n} lessons pass every check.**", "",
            "| check | passed |", "|---|---|",
            *(f"| {name} | {p} / {r} |" for name, (p, r) in sorted(self.check_counts().items())),
            "",
        ]
        fails = self.failures()
        if fails:
            out += ["Failures (first 30):", ""]
            out += [f"- {'.'.join(map(str, d.key))}: {why[:300]}" for d, why in fails[:30]] + [""]
        out += [
            "## Overlap between groups (same competence, level and language)", "",
            f"Median **{med:.0%}** (goal ≤ {GOAL_GROUPS[0]:.0%}), highest **{top:.0%}** "
            f"(goal ≤ {GOAL_GROUPS[1]:.0%}), over {sum(len(v) for v in self.group_overlap.values())} pairs.", "",
            "Highest pairs:", "", *(f"- {where}: {pair} — {x:.0%}" for where, pair, x in worst), "",
            "## Overlap between levels (same competence, group and language)", "",
            "| levels | median | highest | goal |", "|---|---|---|---|",
        ]
        for pair, (m, t, _) in sorted(self.level_figures().items()):
            out.append(f"| {pair[0]} and {pair[1]} | {m:.0%} | {t:.0%} | ≤ {GOAL_LEVELS[pair]:.0%} |")
        out += ["", f"**Goals met: {'yes' if self.goals_met() else 'no'}.**", "",
                "## Lessons as a trainer reads them", ""]
        found = {d.key: d for d in self.lessons}
        for key in showcase:
            d = found.get(key)
            if d is None or d.lesson is None:
                continue
            out += [f"### {key[2]} · {key[0]} level {key[1]} · {key[3]}", "",
                    _demote(to_markdown(d.lesson, d.checks)), "",
                    "<details><summary>Narration</summary>", "", d.lesson.narration.replace("\n", "  \n"), "",
                    "</details>", ""]
        return "\n".join(out)


def _demote(md: str) -> str:
    """Headings two levels down, so a lesson sits under its report heading."""
    return re.sub(r"^(#+) ", lambda m: "#" * min(6, len(m.group(1)) + 3) + " ", md, flags=re.M)


def draft_sample(library: Library, settings: Settings, framework: str, competences: Sequence[str],
                 levels: Sequence[int], groups: Sequence[str], langs: Sequence[str],
                 progress: Callable[[int, int], None] | None = None) -> list[Drafted]:
    """Draft and check every combination offline (no store, no files)."""
    from generator.drafting.backend import make_backend, run_sync
    from generator.drafting.service import assemble, build_request, check_lesson
    from generator.errors import HocvuError

    backend = make_backend(settings, library, "offline")
    combos = [(c, lv, g, lang) for c in competences for lv in levels for g in groups for lang in langs]
    out: list[Drafted] = []
    for i, (c, lv, g, lang) in enumerate(combos):
        try:
            req = build_request(library, framework, c, lv, g, lang)
            lesson = assemble(library, req, run_sync(backend.adraft(req)))
            out.append(Drafted((c, lv, g, lang), lesson, check_lesson(lesson, library, settings)))
        except HocvuError as exc:
            out.append(Drafted((c, lv, g, lang), None, error=str(exc)))
        if progress:
            progress(i + 1, len(combos))
    return out


def measure(lessons: list[Drafted], library: Library, framework: str, groups: Sequence[str],
            levels: Sequence[int]) -> Report:
    """Overlap figures over drafted lessons."""
    grams = {}
    for d in lessons:
        if d.lesson is not None:
            address = library.group(d.key[2]).register(d.key[3]).address
            grams[d.key] = trigrams(learner_text(d.lesson), address)
    report = Report(framework, lessons, groups, levels)
    comps = sorted({k[0] for k in grams}, key=lambda c: [int(x) for x in c.split(".")])
    langs = sorted({k[3] for k in grams})
    for c in comps:
        for lang in langs:
            for lv in levels:
                pairs = [(a, b, jaccard(grams[(c, lv, a, lang)], grams[(c, lv, b, lang)]))
                         for a, b in combinations(groups, 2) if (c, lv, a, lang) in grams and (c, lv, b, lang) in grams]
                if pairs:
                    report.group_overlap[(c, lv, lang)] = pairs
            for pair in LEVEL_PAIRS:
                if pair[0] in levels and pair[1] in levels:
                    for g in groups:
                        a, b = (c, pair[0], g, lang), (c, pair[1], g, lang)
                        if a in grams and b in grams:
                            report.level_overlap.setdefault(pair, []).append((c, g, lang, jaccard(grams[a], grams[b])))
    return report


def run_sample(library: Library, settings: Settings, framework: str = "vn-dcf-2025",
               competences: Sequence[str] | None = None, levels: Sequence[int] = SAMPLE_LEVELS,
               groups: Sequence[str] = SAMPLE_GROUPS, langs: Sequence[str] = ("vi", "en"),
               progress: Callable[[int, int], None] | None = None) -> Report:
    """Draft the sample and measure it."""
    codes = list(competences or [c.code for c in library.framework(framework).competences])
    lessons = draft_sample(library, settings, framework, codes, levels, groups, langs, progress)
    return measure(lessons, library, framework, groups, levels)
