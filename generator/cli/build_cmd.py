"""``hocvu build`` and ``hocvu demo``: batch builds with a plan, a progress display and a summary."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from generator.cli.common import State, console

if TYPE_CHECKING:
    from generator.batch.plan import Plan
    from generator.batch.run import BuildReport
    from generator.batch.spec import BatchSpec


class RichProgress:
    """Per-stage progress bars with counts, elapsed time and ETA."""

    def __init__(self, total: int) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        from generator.batch.run import STAGES

        self.progress = Progress(TextColumn("{task.description:<8}"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("[red]{task.fields[failed]} failed"), TimeElapsedColumn(),
                                 TimeRemainingColumn(), console=console(), transient=False)
        self.tasks = {name: self.progress.add_task(name, total=total, failed=0)
                      for name in STAGES}

    def __enter__(self) -> RichProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def stage(self, name: str, lesson_id: str, event: str) -> None:
        """Advance the stage's bar when a lesson finishes it (or count a failure)."""
        task = self.tasks[name]
        if event == "done":
            self.progress.advance(task)
        elif event == "fail":
            failed = self.progress.tasks[task].fields["failed"] + 1
            self.progress.update(task, failed=failed)


def _print_plan(plan: Plan) -> None:
    from rich.table import Table

    out = console()
    table = Table("group", "to generate", "cached", title=f"plan: {plan.spec.name} ({plan.backend}, {plan.model})")
    for group, row in plan.by_group().items():
        table.add_row(group, str(row["generate"]), str(row["cached"]))
    table.add_row("[bold]total", f"[bold]{plan.count('generate')}", f"[bold]{plan.count('cached')}")
    out.print(table)
    if plan.backend == "offline":
        out.print("estimate: 0 tokens, $0 (offline drafter, no model calls)")
    else:
        out.print(f"estimate: ~{plan.est_input_tokens:,} input + ~{plan.est_output_tokens:,} output tokens, "
                  f"~${plan.est_cost_usd:.4f} (price table for {plan.model})")


def _print_report(report: BuildReport, report_path: Path | None) -> None:
    from rich.table import Table

    out = console()
    t = report.totals()
    table = Table("generated", "cached", "failed", "LLM calls", "tokens in/out", "cost", "time",
                  title=f"build {report.name}")
    table.add_row(str(t["generated"]), str(t["cached"]), str(t["failed"]), str(t["llm_calls"]),
                  f"{t['input_tokens']:,}/{t['output_tokens']:,}", f"${t['cost_usd']:.4f}", f"{t['seconds']:.1f} s")
    out.print(table)
    for x in report.lessons:
        if x.status == "failed":
            out.print(f"  [red]✗[/] {x.id} failed at {x.stage}: {x.error}")
    if report_path:
        out.print(f"report: {report_path}")
    elif report.write_error:
        out.print(f"[red]the report was not written:[/] {report.write_error}")


def _run(spec: BatchSpec, dry_run: bool, concurrency: int | None, force: bool, workers: int | None,
         backend: str | None) -> tuple[Any, Any]:
    from generator.batch.build import plan_build, run_build
    from generator.batch.run import render_workers_default
    from generator.review.store import ReviewStore, default_author

    settings, library = State.settings(), State.library()
    db = settings.state_dir / "hocvu.db"
    store = None
    if not dry_run or settings.database_url or db.exists():
        store = ReviewStore.open(settings)
    try:
        plan = plan_build(spec, library, settings, store, backend=backend, force=force)
        _print_plan(plan)
        if dry_run:
            console().print("dry run: nothing written, nothing called")
            return plan, None
        assert store is not None
        n = sum(1 for p in plan.lessons if p.status != "cached")
        with RichProgress(n) as progress:
            report = run_build(plan, library, settings, store, default_author(settings),
                               concurrency or spec.concurrency, progress,
                               render_workers=workers if workers is not None else render_workers_default(),
                               force=force)
        return plan, report
    finally:
        if store is not None:
            store.close()


def build(
    spec_file: Annotated[Path, typer.Argument(metavar="SPEC", help="Batch spec (YAML).")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the plan and estimate; write and call nothing.")
    ] = False,
    concurrency: Annotated[
        Optional[int], typer.Option("--concurrency", "-j", help="Model calls at once (default: the spec's).")  # noqa: UP045
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Regenerate every lesson, even unchanged ones.")] = False,
    workers: Annotated[
        Optional[int], typer.Option("--workers", help="Rendering worker processes (0: in this process).")  # noqa: UP045
    ] = None,
    backend: Annotated[
        Optional[str], typer.Option("--backend", "-b", help="Override the spec's backend: offline or openai.")  # noqa: UP045
    ] = None,
) -> None:
    """Build every lesson a batch spec names; unchanged lessons are skipped, a rerun resumes."""
    from generator.batch.spec import load_spec

    _, report = _run(load_spec(spec_file), dry_run, concurrency, force, workers, backend)
    if report is not None:
        _print_report(report, getattr(report, "path", None))
        if report.count("failed"):
            raise typer.Exit(3)


def demo() -> None:
    """Run the demo batch on the offline default and say where everything is."""
    from generator.batch.build import demo_spec

    out = console()
    lib = State.library()
    fws = ", ".join(f"{f.id} ({len(f.competences)} competences)" for f in lib.frameworks.values())
    out.print(f"[bold]hocvu demo[/]: frameworks {fws}; {len(lib.groups)} target groups")
    _, report = _run(demo_spec(), False, None, False, None, None)
    _print_report(report, getattr(report, "path", None))
    settings = State.settings()
    out.print(f"\nlessons: {settings.outputs_dir / 'drafts'}/<lesson-id>/v<N>/ (handout.docx, guide.docx, "
              f"slides.pptx, narration.mp3, index.html)")
    out.print("review them:  .venv/bin/hocvu users add reviewer1 --role reviewer && .venv/bin/hocvu serve")
    out.print("then open http://127.0.0.1:8000 (or: .venv/bin/hocvu review list)")
    if report.count("failed"):
        raise typer.Exit(3)


def register(app: typer.Typer) -> None:
    """Add ``hocvu build`` and ``hocvu demo``."""
    app.command("build", help="Build every lesson a batch spec names (plan, cache, resume).")(build)
    app.command("demo", help="Run the demo batch (elderly and farmers × 2.3, 4.2, 6.2, level 1, vi) offline.")(demo)
