"""``hocvu repair``: the workspace half of ``hocvu doctor --repair`` (the same code, kept as a short name)."""

from __future__ import annotations

from typing import Annotated

import typer

from generator.cli.common import State
from generator.cli.doctor import AsOption, show_findings


def repair(
    check: Annotated[
        bool, typer.Option("--check", help="Only report what is wrong; change nothing (exit 1 when anything is).")
    ] = False,
    user: AsOption = None,
) -> None:
    """Mend the store, adopt or set aside version and release folders it does not know, report recorded
    versions whose folder is missing, and remove staging folders of processes that died."""
    from generator.cli.review_cmd import actor
    from generator.repair import doctor_workspace

    found = doctor_workspace(State.settings(), actor(user, registered=False), fix=not check)
    show_findings(found, not check, "hocvu repair")
    if found and (check or not all(f.action for f in found)):
        raise typer.Exit(1)


def register(root: typer.Typer) -> None:
    """Add ``hocvu repair``."""
    root.command("repair", help="Same as the workspace part of `hocvu doctor --repair`: mend the store and make "
                                "it and the output folders agree after a crash.")(repair)
