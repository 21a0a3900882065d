"""``hocvu repair``: make the store and the output folders agree after crashes (a thin adapter over
``generator.repair``)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from generator.cli.common import State, console


def repair(
    check: Annotated[
        bool, typer.Option("--check", help="Only report what disagrees; change nothing (exit 1 when anything does).")
    ] = False,
    user: Annotated[
        Optional[str],  # noqa: UP045 - typer needs Optional here
        typer.Option("--as", help="Who adopts versions and releases (default: HOCVU_USER, else the OS user name)."),
    ] = None,
) -> None:
    """Adopt or set aside version and release folders the store does not know, report recorded versions
    whose folder is missing, and remove staging folders of processes that died."""
    from generator.cli.review_cmd import actor, open_store
    from generator.repair import check_workspace

    with open_store() as store:
        found = check_workspace(State.settings(), store, actor(user), fix=not check)
    out = console()
    if not found:
        out.print("[green]the store and the output folders agree[/]")
        return
    for f in found:
        out.print(f"{f.path}: {f.problem}" + (f" → {f.action}" if f.action else ""))
    if check:
        out.print(f"{len(found)} problem(s); run `hocvu repair` to fix them")
        raise typer.Exit(1)
    left = [f for f in found if not f.action]
    out.print(f"{len(found) - len(left)} of {len(found)} problem(s) fixed")
    if left:
        raise typer.Exit(1)


def register(root: typer.Typer) -> None:
    """Add ``hocvu repair``."""
    root.command("repair", help="Make the store and the output folders agree after a crash (adopt, set aside, "
                                "remove stale staging).")(repair)
