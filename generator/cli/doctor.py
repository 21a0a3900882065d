"""``hocvu doctor``: check the installation and say how to fix what is missing."""

from __future__ import annotations

import typer

from generator.cli.common import State, console


def doctor() -> None:
    """Check every required and optional part and print the fix for each missing one."""
    from rich.table import Table

    from generator.doctor import run_checks

    checks = run_checks(State.settings())
    table = Table("", "part", "status", "fix")
    for c in checks:
        mark = "[green]✓[/]" if c.ok else ("[red]✗[/]" if c.required else "[yellow]–[/]")
        table.add_row(mark, c.name + ("" if c.required else " (optional)"), c.detail, c.fix)
    console().print(table)
    missing = [c.name for c in checks if c.required and not c.ok]
    if missing:
        console().print(f"[red]missing required parts:[/] {', '.join(missing)}; apply the fixes above")
        raise typer.Exit(1)
    console().print("[green]all required parts present[/]")
