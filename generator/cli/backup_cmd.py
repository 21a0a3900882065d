"""``hocvu backup``, ``hocvu restore`` and ``hocvu export``: thin adapters over ``generator.backup``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from generator.cli.common import State, console


def backup(
    dest: Annotated[Path, typer.Argument(help="The archive to write (.tar.gz), or a folder to write it into.")],
    outputs: Annotated[
        bool, typer.Option("--with-outputs", help="Also put outputs/drafts and outputs/published in the archive.")
    ] = False,
) -> None:
    """Back up the review store (a consistent snapshot, safe while others work) and the workspace's own data
    files into one archive, checked after writing."""
    from generator.backup import write_backup

    info = write_backup(State.settings(), dest, outputs=outputs)
    console().print(f"backup written and checked: {info.path} ({info.store} store at migration "
                    f"{info.revision or '?'}, {info.files} files, {info.size:,} bytes)", markup=False)


def restore(
    archive: Annotated[Path, typer.Argument(help="An archive written by `hocvu backup`.")],
    force: Annotated[
        bool, typer.Option("--force", help="Replace a store that holds data and overwrite the workspace's files "
                                           "(the old store is kept beside it, renamed).")
    ] = False,
) -> None:
    """Check a backup and put it back: the review store and the workspace's data files."""
    from generator.backup import restore_backup

    info, kept = restore_backup(State.settings(), archive, force=force)
    out = console()
    out.print(f"restored {info.path} ({info.store} store at migration {info.revision or '?'}, {info.files} files)",
              markup=False)
    for k in kept:
        out.print(f"the store it replaced is kept at {k}", markup=False)
    out.print("run `hocvu doctor` to compare the store with outputs/")


def export(
    output: Annotated[
        Optional[Path],  # noqa: UP045 - typer needs Optional here
        typer.Option("--output", "-o", help="Write the JSON here (default: print it)."),
    ] = None,
    lesson: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option("--lesson", help="Only this lesson id (repeatable; default: every lesson)."),
    ] = None,
) -> None:
    """Export lessons with every version and their review history (and the releases) as JSON."""
    import json

    from generator.backup import export_lessons
    from generator.cli.review_cmd import open_store
    from generator.fsutil import write_text_atomic

    with open_store() as store:
        data = export_lessons(store, lesson)
    text = json.dumps(data, ensure_ascii=False, indent=1)
    if output is None:
        typer.echo(text)
        return
    write_text_atomic(output, text + "\n")
    console().print(f"exported {len(data['lessons'])} lesson(s) to {output}", markup=False)


def register(root: typer.Typer) -> None:
    """Add ``hocvu backup``, ``hocvu restore`` and ``hocvu export``."""
    root.command("backup", help="Back up the review store and the workspace's data files into one checked "
                                "archive.")(backup)
    root.command("restore", help="Check a backup and put it back (refuses to replace data without --force).")(
        restore)
    root.command("export", help="Export lessons, their versions and review history as JSON.")(export)
