"""The ``hocvu`` command: a thin layer over the library; each command group lives in its own module."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from generator import __version__
from generator.cli import doctor, frameworks, groups, params
from generator.cli.common import HocvuGroup, State

params.install()  # plain option values without pydantic (typer's adapter for the rest)

app = typer.Typer(
    cls=HocvuGroup,
    help="hocvu: draft, review and publish concise digital-skills lessons (Bình dân học vụ số).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"hocvu {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    workspace: Annotated[
        Optional[Path],  # noqa: UP045 - typer needs Optional here
        typer.Option("--workspace", "-w", envvar="HOCVU_WORKSPACE", file_okay=False,
                     help="Workspace folder (default: the current folder). State lives in <workspace>/.hocvu/."),
    ] = None,
    init: Annotated[
        bool, typer.Option("--init", help="Create the workspace folder when it does not exist yet.")
    ] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """hocvu: draft, review and publish concise digital-skills lessons."""
    if workspace is not None and not workspace.is_dir():
        _need_workspace(workspace, init)
    State.reset(workspace)


def _need_workspace(workspace: Path, init: bool) -> None:
    """A mistyped --workspace or HOCVU_WORKSPACE must not silently start an empty workspace."""
    from generator.cli.common import err_console

    if workspace.exists() or not init:
        why = "is not a folder" if workspace.exists() else "does not exist"
        err_console().print(f"[bold red]error:[/] the workspace {workspace} {why}; check --workspace or "
                            f"HOCVU_WORKSPACE, or add --init (hocvu --init ...) to create it",
                            markup=True, highlight=False, soft_wrap=True)
        raise typer.Exit(2)
    workspace.mkdir(parents=True)


app.add_typer(frameworks.app, name="frameworks")
app.add_typer(groups.app, name="groups")
app.command("doctor", help="Check the installation and the workspace (store and output folders); --repair fixes "
                           "the workspace.")(
    doctor.doctor
)

for _module in ("draft", "sources", "render", "review", "users", "token", "publish", "serve", "build", "quality",
                "repair", "backup", "worker"):
    try:
        __import__(f"generator.cli.{_module}_cmd")
    except ModuleNotFoundError as _exc:  # a command group not built yet
        if _exc.name != f"generator.cli.{_module}_cmd":
            raise
    else:
        import sys

        sys.modules[f"generator.cli.{_module}_cmd"].register(app)


def run() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    run()
