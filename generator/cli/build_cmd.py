"""``hocvu build`` and ``hocvu demo``: batch builds with a plan, a progress display and a summary."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from generator.cli.common import State, console

if TYPE_CHECKING:
    from generator.batch.plan import Plan
    from generator.batch.report import BuildReport
    from generator.batch.spec import BatchSpec
    from generator.config import Settings


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


class LineProgress:
    """Without a terminal (output to a file or a pipe): a progress line on stderr every few seconds, so a
    log shows a long build moving (or stuck) while it runs, and one more at the end."""

    def __init__(self, total: int, every: float = 5.0) -> None:
        import threading
        import time

        from generator.batch.run import STAGES

        self.total, self.every = total, every
        self.done = dict.fromkeys(STAGES, 0)
        self.failed = 0
        self.start = time.monotonic()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hocvu-progress", daemon=True)

    def __enter__(self) -> LineProgress:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._print()

    def stage(self, name: str, lesson_id: str, event: str) -> None:
        """Count a lesson finishing a stage, or failing."""
        with self._lock:
            if event == "done":
                self.done[name] += 1
            elif event == "fail":
                self.failed += 1

    def line(self) -> str:
        """The progress so far, in one line."""
        import time

        with self._lock:
            done, failed = dict(self.done), self.failed
        parts = ", ".join(f"{name} {n}/{self.total}" for name, n in done.items())
        return f"progress: {parts}, {failed} failed, {time.monotonic() - self.start:.0f} s"

    def _print(self) -> None:
        import sys

        print(self.line(), file=sys.stderr, flush=True)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self._print()


def _progress(total: int, every: float) -> RichProgress | LineProgress:
    """Bars on a terminal, else a line every ``every`` seconds on stderr."""
    if console().is_terminal:
        return RichProgress(total)
    return LineProgress(total, every)


def _print_plan(plan: Plan, settings: Settings, stop_after: int) -> None:
    from rich.table import Table

    out = console()
    skip = plan.count("skip")
    cols = ("group", "to generate", "cached") + (("skipped",) if skip else ())
    table = Table(*cols, title=f"plan: {plan.spec.name} ({plan.backend}, {plan.model})")
    for group, row in plan.by_group().items():
        table.add_row(group, str(row["generate"]), str(row["cached"]), *([str(row["skip"])] if skip else []))
    table.add_row("[bold]total", f"[bold]{plan.count('generate')}", f"[bold]{plan.count('cached')}",
                  *([f"[bold]{skip}"] if skip else []))
    out.print(table)
    if not plan.calls_model:
        out.print(f"estimate: 0 tokens, $0 ({plan.backend} drafter, no model calls)")
    else:
        from generator.drafting.backend import backend_class

        deadline = backend_class(plan.backend).call_deadline(settings)
        out.print(f"estimate: ~{plan.est_input_tokens:,} input + ~{plan.est_output_tokens:,} output tokens, "
                  f"~${plan.est_cost_usd:.4f} (price table for {plan.model})")
        if plan.method:
            out.print(f"structured output: {plan.method}")
        if not settings.price(plan.model):
            from rich.markup import escape

            out.print(f"[yellow]warning:[/] {escape(repr(plan.model))} is not in the price table, so costs read as "
                      + escape(f'$0; add [prices."{plan.model}"] input = ... output = ... (USD per million tokens) '
                               f"to hocvu.toml"))
        stop = (f"stops after {stop_after} lessons in a row fail with the same server error" if stop_after
                else "never stops early")
        if deadline is not None:
            out.print(f"limits: each request at most {settings.timeout:g} s; each call at most "
                      f"{deadline:g} s with {settings.max_retries} retries and their waits; "
                      f"up to {settings.max_reasks} re-asks a lesson; the build {stop}")
    if settings.images != "sketch":
        from generator.render.images import estimate_images

        n, usd = estimate_images(plan.count("generate"), plan.spec.formats, settings.image_price_usd)
        if n:
            out.print(f"pictures: up to {n} generated images, ~${usd:.2f} at ${settings.image_price_usd} each "
                      "(HOCVU_IMAGE_PRICE_USD); pictures already in the cache cost nothing")


def _print_report(report: BuildReport, report_path: Path | None) -> None:
    from rich.table import Table

    out = console()
    t = report.totals()
    table = Table("generated", "cached", "failed", "failed checks", "not attempted", "LLM requests",
                  "re-asks", "tokens in/out", "cost", "time", title=f"build {report.name}")
    table.add_row(str(t["generated"]), str(t["cached"]), str(t["failed"]), str(t["failed_checks"]),
                  str(t["not_attempted"]), str(t["llm_calls"]), str(t["reasks"]),
                  f"{t['input_tokens']:,}/{t['output_tokens']:,}", f"${t['cost_usd']:.4f}", f"{t['seconds']:.1f} s")
    out.print(table)
    for x in report.lessons:
        if x.status == "failed":
            out.print(f"  [red]✗[/] {x.id} failed at {x.stage}: {x.error}")
        elif x.status == "failed_checks":
            out.print(f"  [red]✗[/] {x.id} failed checks ({', '.join(x.failed_checks)}): in review with its "
                      f"failures (hocvu review show {x.id}); the next build asks the model again")
    if report.method:
        out.print(f"structured output: {report.method}")
    if report.stopped:
        out.print(f"[red]{report.stopped}[/]")
    if report_path:
        out.print(f"report: {report_path}")
    elif report.write_error:
        out.print(f"[red]the report was not written:[/] {report.write_error}")


@contextmanager
def _sigterm_as_ctrl_c() -> Iterator[None]:
    """SIGTERM stops a build as Ctrl-C does: lessons in flight are cancelled, the render workers end, no
    staging folder is left and the report is written (exit 130)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, lambda *_: signal.raise_signal(signal.SIGINT))
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run(spec: BatchSpec, dry_run: bool, concurrency: int | None, force: bool, workers: int | None,
         backend: str | None, accept_failed: bool = False, stop_after: int | None = None,
         retry_failed: bool = False, progress_every: float = 5.0, executor: str = "local") -> tuple[Any, Any]:
    from generator.batch.build import plan_build, run_build
    from generator.batch.run import render_workers_default
    from generator.review.store import ReviewStore, default_author

    settings, library = State.settings(), State.library()
    db = settings.state_dir / "hocvu.db"
    store = None
    if not dry_run or settings.database_url or db.exists():
        store = ReviewStore.open(settings)
    try:
        plan = plan_build(spec, library, settings, store, backend=backend, force=force, accept_failed=accept_failed,
                          retry_failed=retry_failed)
        stop = spec.stop_after if stop_after is None else stop_after
        _print_plan(plan, settings, stop)
        if dry_run:
            console().print("dry run: nothing written, nothing called")
            return plan, None
        assert store is not None
        n = plan.count("generate")
        with _progress(n, progress_every) as progress, _sigterm_as_ctrl_c():
            report = run_build(plan, library, settings, store, default_author(settings),
                               spec.concurrency if concurrency is None else concurrency, progress,
                               render_workers=workers if workers is not None else render_workers_default(),
                               force=force, accept_failed=accept_failed, stop_after=stop, executor=executor)
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
        Optional[int], typer.Option("--concurrency", "-j", min=1, max=64,  # noqa: UP045
                                    help="Model calls at once, 1-64 (default: the spec's).")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Regenerate every lesson, even unchanged ones.")] = False,
    workers: Annotated[
        Optional[int], typer.Option("--workers", min=0, max=16,  # noqa: UP045
                                    help="Rendering worker processes, 0-16 (default: one per core; "
                                         "0: in this process).")
    ] = None,
    backend: Annotated[
        Optional[str], typer.Option("--backend", "-b", help="Backend instead of the spec's: offline, openai, ...")  # noqa: UP045
    ] = None,
    accept_failed: Annotated[
        bool, typer.Option("--accept-failed", help="Keep lessons that failed their checks instead of asking "
                                                   "the model again.")
    ] = False,
    retry_failed: Annotated[
        bool, typer.Option("--retry-failed", help="Redo only the lessons whose last model draft failed its "
                                                  "checks.")
    ] = False,
    stop_after: Annotated[
        Optional[int], typer.Option("--stop-after", min=0, help="Stop sending after this many lessons in a "  # noqa: UP045
                                    "row fail with the same server error (default: the spec's, 5; 0: never).")
    ] = None,
    progress_every: Annotated[
        float, typer.Option("--progress-every", min=0.1, help="Without a terminal, seconds between the "
                                                              "progress lines written to stderr.")
    ] = 5.0,
    executor: Annotated[
        Optional[str], typer.Option("--executor", "-e", help="Where drafting and rendering run: local (this "  # noqa: UP045
                                    "machine) or celery (the Celery workers of `hocvu worker --executor celery`); "
                                    "default: the spec's executor, else HOCVU_EXECUTOR, else local.")
    ] = None,
) -> None:
    """Build every lesson a batch spec names; unchanged lessons are skipped, a rerun resumes.

    Exits 3 when a lesson failed, failed its checks, or was not attempted."""
    from generator.batch.build import load_build_spec

    if retry_failed and (accept_failed or force):
        raise typer.BadParameter("--retry-failed cannot go with --accept-failed or --force; choose one")
    spec, named = load_build_spec(spec_file)
    _, report = _run(spec, dry_run, concurrency, force, workers, backend, accept_failed,
                     stop_after, retry_failed, progress_every, _executor(executor or named))
    if report is not None:
        _print_report(report, getattr(report, "path", None))
        if not report.ok:
            raise typer.Exit(3)


def _executor(chosen: str | None) -> str:
    """The executor: the one asked for, else HOCVU_EXECUTOR, else local (a registered name, or exit 2)."""
    import os

    from generator import registry

    name = chosen or os.environ.get("HOCVU_EXECUTOR") or "local"
    registry.executors.get(name)  # NotFoundError (exit 2) listing the registered executors
    return name


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
    if not report.ok:
        raise typer.Exit(3)


def register(app: typer.Typer) -> None:
    """Add ``hocvu build`` and ``hocvu demo``."""
    app.command("build", help="Build every lesson a batch spec names (plan, cache, resume).")(build)
    app.command("demo", help="Run the demo batch (elderly and farmers × 2.3, 4.2, 6.2, level 1, vi) offline.")(demo)
