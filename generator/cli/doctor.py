"""``hocvu doctor [--repair]``: check the installation and the workspace, and say (or do) what fixes them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Optional

import typer

from generator.cli.common import State, console

if TYPE_CHECKING:
    from generator.repair import Finding

RepairOption = Annotated[
    bool, typer.Option("--repair", help="Fix what the workspace checks find: mend the store, adopt or set aside "
                                         "folders it does not know, remove stale staging folders.")
]
AsOption = Annotated[
    Optional[str],  # noqa: UP045 - typer needs Optional here
    typer.Option("--as", help="Who adopts versions and releases (default: HOCVU_USER, else the OS user name)."),
]


def doctor(repair: RepairOption = False, user: AsOption = None) -> None:
    """Check every required and optional part and the workspace (store and folders); with --repair, fix
    the workspace."""
    from rich.table import Table

    from generator.doctor import run_checks

    checks = run_checks(State.settings())
    table = Table("", "part", "status", "fix")
    for c in checks:
        mark = "[green]✓[/]" if c.ok else ("[red]✗[/]" if c.required else "[yellow]–[/]")
        table.add_row(mark, c.name + ("" if c.required else " (optional)"), c.detail, c.fix)
    out = console()
    out.print(table)
    missing = [c.name for c in checks if c.required and not c.ok]
    workspace_ok = _workspace(repair, user)
    if missing:
        out.print(f"[red]missing required parts:[/] {', '.join(missing)}; apply the fixes above")
    if missing or not workspace_ok:
        raise typer.Exit(1)
    out.print("[green]all required parts present; the workspace is consistent[/]")


def _workspace(fix: bool, user: str | None) -> bool:
    """Check (and with ``fix`` mend) the store and the output folders; True when nothing is left wrong."""
    from generator.cli.review_cmd import actor
    from generator.repair import doctor_workspace

    found = doctor_workspace(State.settings(), actor(user, registered=False), fix=fix)
    show_findings(found, fix, "hocvu doctor --repair")
    return not found or (fix and all(f.action for f in found))


def show_findings(found: list[Finding], fixed: bool, command: str) -> None:
    """Print each finding (and what was done), then one summary line."""
    out = console()
    if not found:
        out.print("[green]workspace: the store is whole and agrees with the output folders[/]")
        return
    for f in found:
        out.print(f"{f.path}: {f.problem}" + (f" → {f.action}" if f.action else ""), markup=False)
    if not fixed:
        out.print(f"{len(found)} problem(s) in the workspace; run `{command}` to fix them")
        return
    left = [f for f in found if not f.action]
    out.print(f"{len(found) - len(left)} of {len(found)} workspace problem(s) fixed"
              + ("; for the rest restore a backup with `hocvu restore BACKUP`" if left else ""))
