"""``hocvu sources``: the source library lessons are drafted from (add, list, remove, search, reindex)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from generator.cli.common import State, console, new_app

if TYPE_CHECKING:
    from generator.retrieval.store import SourceStore

app = new_app("The source library: documents (.md .txt .html .docx .pdf) that lessons are drafted from.")

CollectionOpt = Annotated[str, typer.Option("--collection", "-c", help="Collection name.", show_default=True)]
OptionalCollectionOpt = Annotated[
    Optional[str],  # noqa: UP045 - typer needs Optional here
    typer.Option("--collection", "-c", help="Only this collection (default: every collection)."),
]


def _store() -> SourceStore:
    from generator.retrieval.store import make_store

    return make_store(State.settings())


@app.command("add")
def add(
    paths: Annotated[
        list[Path], typer.Argument(metavar="PATH...", help="Files or folders (searched recursively).")
    ],
    collection: CollectionOpt = "default",
    max_chars: Annotated[
        int,
        typer.Option("--max-chars", min=1, help="Skip files with more characters of text than this "
                     "(big files take long to embed).", show_default=True),
    ] = 3_000_000,
) -> None:
    """Add documents; unchanged files are left alone, changed ones replace their passages.

    A file becomes searchable only when all its passages are written; an interrupted add is finished by
    adding the file again. Shows progress (files, pages, passages, time left) on a terminal. Exits 2
    when no file could be added."""
    from rich.markup import escape

    out = console()
    with RichAddProgress(out) as progress:
        report = _store().add(paths, collection, progress=progress, max_chars=max_chars)
    style = {"added": "green", "replaced": "yellow", "unchanged": "dim", "skipped": "red"}
    for f in report.files:
        written = f"{f.passages} passage{'s' if f.passages != 1 else ''}"
        detail = (written + (f" ({f.reason})" if f.reason else "")) if f.status in ("added", "replaced") else f.reason
        out.print(
            f"[{style[f.status]}]{f.status:<9}[/] {escape(f.file)}"
            + (f": {escape(detail)}" if detail else "")
        )
    out.print(
        f"{collection}: {len(report.added)} added, {len(report.replaced)} replaced, "
        f"{len(report.unchanged)} unchanged, {len(report.skipped)} skipped; "
        f"{report.passages} passages written from {report.pages} page{'s' if report.pages != 1 else ''}"
    )
    if report.files and len(report.skipped) == len(report.files):
        raise typer.Exit(2)  # nothing could be added: scripts must not take this for success


class RichAddProgress:
    """``sources add`` progress with Rich: a bar for the files and one for the passages of the file being
    embedded, with the time left (drawn only on a terminal, and cleared when done)."""

    def __init__(self, out: Any) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.bars = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            TextColumn("left"), TimeRemainingColumn(), console=out, transient=True,
            disable=not out.is_terminal,
        )
        self.files = self.bars.add_task("files", total=None)
        self.passages = self.bars.add_task("passages", total=None, visible=False)
        self.pages = 0

    def __enter__(self) -> RichAddProgress:
        self.bars.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bars.stop()

    def file_started(self, path: Path, number: int, total: int) -> None:
        """Count the file."""
        from rich.markup import escape

        self.bars.update(self.files, total=total, completed=number - 1, description=f"files: {escape(path.name)}")

    def file_read(self, path: Path, pages: int, passages: int) -> None:
        """Start the passage bar of this file."""
        self.pages += pages
        self.bars.reset(self.passages, total=passages, visible=True,
                        description=f"passages ({pages} page{'s' if pages != 1 else ''})")

    def passages_embedded(self, count: int) -> None:
        """Move the passage bar."""
        self.bars.advance(self.passages, count)

    def file_done(self, result: Any) -> None:
        """Move the file bar."""
        self.bars.advance(self.files, 1)
        self.bars.update(self.passages, visible=False)


@app.command("list")
def list_sources(collection: OptionalCollectionOpt = None) -> None:
    """List collections and their files."""
    from rich.table import Table

    infos = _store().list(collection)
    out = console()
    if not infos:
        out.print("the source library is empty; add documents with `hocvu sources add PATH...`")
        return
    for info in infos:
        out.print(
            f"[bold]{info.name}[/]  {len(info.files)} files, {info.passages} passages, "
            f"embedder {info.embedder or 'unknown'}"
        )
        table = Table("file", "title", "pages", "passages", "sha256", "added", "state", "path")
        for f in info.files:
            state = "complete" if f.complete else "[red]incomplete: add it again[/]"
            table.add_row(
                f.file, f.title, str(f.pages), str(f.passages), f.sha256[:10], f.added_at[:10], state, f.path
            )
        out.print(table)


@app.command("remove")
def remove(
    files: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Argument(
            metavar="[FILE]...", help="File names, paths or sha256 prefixes (as `sources list` shows)."
        ),
    ] = None,
    collection: OptionalCollectionOpt = None,
) -> None:
    """Remove files; with only --collection, remove that whole collection."""
    from rich.markup import escape

    removed = _store().remove(files or [], collection)
    out = console()
    for r in removed:
        what = f"{escape(r.file)} from {r.collection}" if r.file else f"collection {r.collection}"
        out.print(f"removed {what} ({r.passages} passages)")


@app.command("search")
def search(
    query: Annotated[str, typer.Argument(help="What to look for, in Vietnamese or English.")],
    collection: CollectionOpt = "default",
    k: Annotated[int, typer.Option("--k", "-k", min=1, max=100, help="How many passages.")] = 5,
    translate: Annotated[
        bool,
        typer.Option(
            "--translate/--no-translate",
            help="Also search with QUERY in the sources' other language: translated by the openai backend's "
            "model, or offline its key terms from the frameworks' bilingual content.",
        ),
    ] = True,
) -> None:
    """Show the passages closest to QUERY, best first, with score, file, section and page."""
    from rich.markup import escape

    translator = None
    if translate:
        from generator.drafting.backend import make_backend
        from generator.retrieval.translate import make_translator

        settings, library = State.settings(), State.library()
        translator = make_translator(make_backend(settings, library), library, settings.state_dir / "cache")
    out = console()
    hits = _store().search(query, collection, k, translator=_Forgiving(translator, out) if translator else None)
    if not hits:
        out.print(f"collection {collection} has no passages")
        return
    for rank, p in enumerate(hits, 1):
        where = f" ({p.where()})" if p.where() else ""
        out.print(f"[bold]{rank}. {p.score:.3f}[/]  {escape(p.file)}{escape(where)}  [dim]{p.id}[/]")
        out.print(escape(p.text), style=None)
        out.print()


class _Forgiving:
    """A translator whose failure is a warning: the search goes on in the question's own language."""

    def __init__(self, inner: Any, out: Any) -> None:
        self.inner, self.out, self.name = inner, out, inner.name
        self.terms_only, self.weight = getattr(inner, "terms_only", False), getattr(inner, "weight", 1.0)

    def translate(self, text: str, source: str, target: str) -> str | None:
        """The inner translation, or None after printing why it failed."""
        from generator.errors import BackendError

        try:
            return str(self.inner.translate(text, source, target) or "") or None
        except BackendError as exc:
            self.out.print(f"[yellow]searching without translation: {exc}[/]")
            return None


@app.command("reindex")
def reindex(collection: OptionalCollectionOpt = None) -> None:
    """Rebuild collections with the configured embedder (after changing HOCVU_EMBEDDER)."""
    store = _store()
    done = store.reindex(collection)
    out = console()
    for name, count in done.items():
        out.print(f"reindexed {name}: {count} passages with {store.embedder.name}")
    if not done:
        out.print("nothing to reindex: the source library is empty")


def register(root: typer.Typer) -> None:
    """Add the ``sources`` group to the root command."""
    root.add_typer(app, name="sources")
