"""``hocvu quality``: draft a fixed sample offline, run every check, measure overlap, write QUALITY.md."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from generator.cli.common import State, console, err_console


def quality(
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the report.")] = Path("QUALITY.md"),
    framework: Annotated[str, typer.Option("--framework", "-f", help="Framework of the sample.")] = "vn-dcf-2025",
    competence: Annotated[
        Optional[list[str]],  # noqa: UP045 - typer needs Optional here
        typer.Option("--competence", "-c", help="Only these competences (repeat the option); default: all."),
    ] = None,
    group: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option("--group", "-g", help="Groups to compare (repeat); default: 8 contrasting groups."),
    ] = None,
    level: Annotated[
        Optional[list[int]],  # noqa: UP045
        typer.Option("--level", "-l", help="Levels (repeat); default: 1, 2, 3, 5, 7."),
    ] = None,
    lang: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option("--lang", help="Languages (repeat); default: vi and en."),
    ] = None,
) -> None:
    """Draft the quality sample offline and write a report of checks and overlap (exit 3 if a goal is missed)."""
    from generator import quality as q

    lib = State.library()
    settings = State.settings()
    groups = group or list(q.SAMPLE_GROUPS)
    for g in groups:
        lib.group(g)
    err = err_console()

    def progress(i: int, n: int) -> None:
        if i == n or i % 200 == 0:
            err.print(f"drafted {i} of {n}")

    report = q.run_sample(lib, settings, framework, competence, level or q.SAMPLE_LEVELS, groups,
                          lang or ("vi", "en"), progress)
    from generator.fsutil import write_text_atomic

    write_text_atomic(out, report.markdown())
    med, top, _ = report.group_figures()
    n, ok = len(report.lessons), sum(d.passed for d in report.lessons)
    c = console()
    c.print(f"{ok} of {n} lessons pass every check; overlap between groups: median {med:.0%}, highest {top:.0%}")
    for pair, (m, t, _) in sorted(report.level_figures().items()):
        c.print(f"overlap between levels {pair[0]} and {pair[1]}: median {m:.0%}, highest {t:.0%}")
    c.print(f"report: {out}")
    if not report.goals_met():
        raise typer.Exit(3)


def register(app: typer.Typer) -> None:
    """Add ``quality`` to the root command."""
    app.command("quality")(quality)
