"""``hocvu render``: turn a lesson JSON into a handout, a guide, slides, narration and a web page."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from generator.cli.common import State, console
from generator.errors import DataError

if TYPE_CHECKING:
    from generator.lesson import Lesson

ALL_FORMATS = "all"


def load_lesson(path: Path) -> Lesson:
    """Read and validate a lesson JSON file; DataError with what to do otherwise."""
    from pydantic import ValidationError

    from generator.lesson import Lesson

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError("{path} does not exist; give the path of a lesson JSON file", path=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError("cannot read {path}: {exc}; check the file is a UTF-8 lesson JSON", path=path, exc=exc) from exc
    try:
        return Lesson.model_validate_json(text)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "the file"
        raise DataError(
            "{path} is not a valid lesson ({where}: {err}); draft it again or fix that field",
            path=path, where=where, err=err['msg'],
        ) from exc


def render(
    lesson_json: Annotated[Path, typer.Argument(metavar="LESSON_JSON", help="A lesson JSON file.")],
    formats: Annotated[
        str, typer.Option("--formats", "-f", help="Comma-separated, e.g. handout,slides,page; 'all' for every "
                          "format installed (handout, guide, slides, audio, video, card, page and any plugin's).")
    ] = ALL_FORMATS,
    out: Annotated[
        Optional[Path],  # noqa: UP045 - typer needs Optional here
        typer.Option("--out", "-o", help="Output folder (default: the lesson JSON's folder)."),
    ] = None,
) -> None:
    """Render a lesson into files for learners, facilitators and the web."""
    from rich.table import Table

    from generator import registry
    from generator.fsutil import write_text_atomic
    from generator.render import record_notes, render_lesson

    lesson = load_lesson(lesson_json)
    group = State.library().group(lesson.group)
    out_dir = out or lesson_json.resolve().parent
    chosen = registry.formats.names() if formats.strip() == "all" else formats.split(",")
    result = render_lesson(lesson, group, out_dir, chosen, State.settings())
    table = Table("format", "file", "ms")
    for fmt, path in result.files.items():
        table.add_row(fmt, str(path), f"{result.timings[fmt] * 1000:.0f}")
    con = console()
    con.print(table)
    for note in result.notes:
        con.print(f"note: {note}")
    if result.notes:  # the lesson's provenance says how its artifacts were made
        updated = record_notes(lesson, result.notes)
        if updated is not lesson:
            write_text_atomic(lesson_json, updated.model_dump_json(indent=2) + "\n")
            con.print(f"recorded in the provenance of {lesson_json}")


def register(app: typer.Typer) -> None:
    """Add ``hocvu render`` to the root app."""
    app.command(
        "render", help="Render a lesson JSON into a handout, a guide, slides, narration and a web page."
    )(render)
