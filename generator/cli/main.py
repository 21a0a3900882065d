"""The ``hocvu`` command: a thin layer over the library; each command group lives in its own module."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from generator import __version__
from generator.cli import doctor, frameworks, groups
from generator.cli.common import HocvuGroup, State

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
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """hocvu: draft, review and publish concise digital-skills lessons."""
    State.reset(workspace)


app.add_typer(frameworks.app, name="frameworks")
app.add_typer(groups.app, name="groups")
app.command("doctor", help="Check the installation and the workspace (store and output folders); --repair fixes "
                           "the workspace.")(
    doctor.doctor
)

for _module in ("draft", "sources", "render", "review", "users", "token", "publish", "serve", "build", "quality",
                "repair", "backup"):
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
