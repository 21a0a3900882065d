"""``hocvu publish --release NAME`` and ``hocvu publish verify NAME``: thin adapters over
``generator.publish``."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from generator.cli.common import CompetenceFilter, FrameworkFilter, GroupFilter, State, console

app = typer.Typer(
    help="Publish approved lessons as an immutable release (files, manifest, site, SCORM); verify one.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    invoke_without_command=True,
)


@app.callback()
def publish(
    ctx: typer.Context,
    release: Annotated[
        Optional[str],  # noqa: UP045 - typer needs Optional here
        typer.Option("--release", "-r", help="Name of the new release (a folder in outputs/published/)."),
    ] = None,
    group: GroupFilter = None,
    framework: FrameworkFilter = None,
    competence: CompetenceFilter = None,
    user: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--as", help="Who publishes (default: HOCVU_USER, else the OS user name)."),
    ] = None,
) -> None:
    """Publish the approved version of each selected lesson — and nothing else — as release NAME."""
    if ctx.invoked_subcommand is not None:
        return
    if not release:
        raise typer.BadParameter(
            "give the release name: hocvu publish --release NAME", param_hint="--release"
        )
    from generator.cli.review_cmd import actor, open_store
    from generator.publish.release import build_release

    if group:  # an unknown name is bad input (exit 2), not "no approved lessons"
        State.library().group(group)
    if framework:
        State.library().framework(framework)
    with open_store() as store:
        result = build_release(
            store,
            State.library(),
            State.settings(),
            release,
            by=actor(user),
            group=group,
            framework=framework,
            competence=competence,
        )
    out = console()
    out.print(f"release [bold]{result.name}[/]: {len(result.lessons)} lesson(s) → {result.path}")
    for e in result.lessons:
        out.print(f"  {e['id']} v{e['version']} (approved by {e['approved_by']})")
    out.print(f"open {result.path / 'index.html'}; check it later with `hocvu publish verify {result.name}`")


@app.command("verify")
def verify(
    name: Annotated[str, typer.Argument(help="Release name (or the path of a release folder).")],
) -> None:
    """Re-check every checksum of a release; exit 1 when anything changed."""
    from generator.cli.review_cmd import open_store
    from generator.publish.manifest import verify_release
    from generator.publish.release import release_path

    with open_store() as store:
        path, expected = release_path(State.settings(), store, name)
    report = verify_release(path, expected)
    out = console()
    if report.ok:
        out.print(
            f"release {path.name}: {report.checked} files checked, all match the manifest"
            + ("" if expected else " (not recorded in this workspace's store)")
        )
        return
    for line in report.problems():
        out.print(f"[red]{line}[/]")
    out.print(f"release {path.name}: {len(report.problems())} problem(s) in {report.checked} files")
    raise typer.Exit(1)


@app.command("list")
def list_() -> None:
    """List releases."""
    from rich.table import Table

    from generator.cli.review_cmd import open_store, when

    with open_store() as store:
        releases = store.list_releases()
    if not releases:
        console().print("no releases yet; publish with `hocvu publish --release NAME`")
        return
    table = Table("release", "lessons", "by", "made (UTC)", "path")
    for r in releases:
        table.add_row(r.name, str(len(r.items)), r.created_by, when(r.created_at), str(r.path))
    console().print(table)


def register(root: typer.Typer) -> None:
    """Add ``hocvu publish``."""
    root.add_typer(app, name="publish")
