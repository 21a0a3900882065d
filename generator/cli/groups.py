"""``hocvu groups``: list and show target-group profiles."""

from __future__ import annotations

from typing import Annotated

import typer

from generator.cli.common import State, console, new_app

app = new_app("Target-group profiles: who the learners are and how lessons are fitted to them.")


@app.command("list")
def list_groups(
    lang: Annotated[str, typer.Option("--lang", help="Language of names: vi or en.")] = "vi",
) -> None:
    """List target-group profiles."""
    from rich.table import Table

    lib = State.library()
    table = Table("id", "name", "words/lesson", "words/sentence", "font", "audio-first", "formats")
    for g in lib.groups.values():
        r = g.reading
        table.add_row(
            g.id, g.names.get(lang), str(r.max_words_per_lesson[lang]),  # type: ignore[index]
            str(r.max_words_per_sentence[lang]), f"×{g.accessibility.font_scale}",  # type: ignore[index]
            "yes" if g.accessibility.audio_first else "no", ", ".join(g.default_formats),
        )
    console().print(table)
    console().print(f"{len(lib.groups)} groups")


@app.command("show")
def show_group(
    group_id: Annotated[str, typer.Argument(metavar="ID", help="Group id, e.g. elderly.")],
    lang: Annotated[str, typer.Option("--lang", help="Language: vi or en.")] = "vi",
) -> None:
    """Show one target-group profile."""
    g = State.library().group(group_id)
    out = console()
    out.print(f"[bold]{g.names.get(lang)}[/] ({g.id})")
    out.print(g.who.get(lang))
    out.print("\n[bold]Devices:[/] " + "; ".join(d.get(lang) for d in g.devices))
    out.print("[bold]Apps:[/] " + ", ".join(g.apps))
    out.print("[bold]Situations:[/]")
    for s in g.situations:
        out.print(f"  • {s.text.get(lang)}  [dim]({', '.join(s.tags)})[/]")
    r, a = g.reading, g.accessibility
    out.print(
        f"[bold]Reading limits:[/] {r.max_words_per_lesson[lang]} words per lesson, "  # type: ignore[index]
        f"{r.max_words_per_sentence[lang]} words per sentence"  # type: ignore[index]
    )
    out.print(f"[bold]Vocabulary:[/] {r.vocabulary.get(lang)}")
    out.print(f"[bold]Tone:[/] {g.tone.get(lang)}")
    out.print(f"[bold]Facilitation:[/] {g.facilitation.get(lang)} ({g.session_minutes} min)")
    out.print(
        f"[bold]Accessibility:[/] font ×{a.font_scale}, high contrast {'yes' if a.high_contrast else 'no'}, "
        f"audio first {'yes' if a.audio_first else 'no'}, {a.speech_rate_wpm} words/min. {a.notes.get(lang)}"
    )
    out.print(f"[bold]Formats:[/] {', '.join(g.default_formats)}; language {g.default_language}")
    out.print("[bold]Sources:[/] " + "; ".join(s.title for s in g.sources))
