"""``hocvu draft``: draft one lesson, check it and save it as a new version."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from generator.cli.common import State, console


def parse_formats(value: str) -> list[str] | None:
    """'group' → None (the group's defaults), 'none' → [], 'all' → every format, else the listed formats
    (checked)."""
    from generator import registry

    if value == "group":
        return None
    if value == "none":
        return []
    if value == "all":
        return registry.formats.names()
    return [registry.formats.check(f.strip()) for f in value.split(",") if f.strip()]


def draft(
    framework: Annotated[str, typer.Option("--framework", "-f", help="Framework id, e.g. vn-dcf-2025.")],
    competence: Annotated[str, typer.Option("--competence", "-c", help="Competence code, e.g. 4.2.")],
    level: Annotated[int, typer.Option("--level", "-l", help="Level 1-8 (the offline drafter covers 1-4).")],
    group: Annotated[str, typer.Option("--group", "-g", help="Target group id (see `hocvu groups list`).")],
    lang: Annotated[str, typer.Option("--lang", help="Lesson language: vi or en.")] = "vi",
    backend: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--backend", "-b",
                     help="offline, openai or a plugin's (default: openai when OPENAI_API_KEY is set)."),
    ] = None,
    model: Annotated[
        Optional[str], typer.Option("--model", "-m", help="Model name for the openai backend.")  # noqa: UP045
    ] = None,
    sources: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--sources", "-s",
                     help="Source collection to ground the lesson in (`hocvu sources list`)."),
    ] = None,
    author: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--as", help="Author of the new version (default: HOCVU_USER, else the OS user name)."),
    ] = None,
    formats: Annotated[
        str,
        typer.Option("--formats", help="Files to render: 'group' (the group's defaults), 'none', 'all', or a "
                                       "comma list of handout, guide, slides, audio, video, card, page."),
    ] = "group",
) -> None:
    """Draft one lesson; write it to outputs/drafts/<lesson-id>/v<N>/ and submit it for review."""
    from generator.cli.review_cmd import actor
    from generator.pipeline import draft_one

    settings = State.settings()
    result = draft_one(State.library(), settings, framework=framework, competence=competence, level=level,
                       group=group, lang=lang, backend=backend, model=model, collection=sources,
                       author=actor(author) if author else None, formats=parse_formats(formats))
    lesson, out = result.drafted.lesson, console()
    p = lesson.provenance
    out.print(f"[bold]{lesson.title}[/]  [dim]{lesson.id}[/]")
    out.print(f"{lesson.summary}")
    out.print(
        f"backend {p.backend} ({p.model}), {lesson.word_count()} words, {len(lesson.objectives)} objectives, "
        f"{len(lesson.steps)} steps, {len(lesson.quiz)} quiz questions, {len(lesson.sources)} sources cited"
    )
    if p.usage.calls:
        out.print(f"tokens: {p.usage.input_tokens} in, {p.usage.output_tokens} out, "
                  f"{p.usage.calls} calls; cost ${p.cost_usd:.4f}")
        if not settings.price(p.model):
            from rich.markup import escape

            out.print(f"[yellow]warning:[/] {escape(repr(p.model))} is not in the price table, so the cost reads "
                      + escape(f'$0; add [prices."{p.model}"] input = ... output = ... (USD per million '
                               f"tokens) to hocvu.toml"))
    for note in p.notes:
        out.print(f"[yellow]note:[/] {note}")
    for c in result.drafted.checks:
        out.print(f"  {'[green]✓[/]' if c.passed else '[red]✗[/]'} {c.label()}: {c.render()}")
    out.print(f"saved {result.path}")
    shown = (".docx", ".pptx", ".mp3", ".html", ".mp4", ".vtt")
    rendered = sorted(f.name for f in result.path.iterdir() if f.suffix in shown)
    if rendered:
        out.print(f"rendered: {', '.join(rendered)}")
    if result.lesson_status:
        out.print(result.lesson_status)
    if not result.drafted.passed:
        out.print("[red]some checks failed[/]: the draft is saved for a reviewer; revise or edit it")
        raise typer.Exit(3)


def register(app: typer.Typer) -> None:
    """Add ``hocvu draft``."""
    app.command(
        "draft", help="Draft one lesson for a competence, level, group and language, check it and submit it."
    )(draft)
