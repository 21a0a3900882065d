"""``hocvu frameworks``: list, show, import and check competence frameworks."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from generator.cli.common import State, console, new_app

app = new_app("Competence frameworks: the national framework (Circular 02/2025), DigComp 2.2 and 3.0.")


@app.command("list")
def list_frameworks() -> None:
    """List frameworks with their domains, competences, levels and outcomes."""
    from rich.table import Table

    table = Table("id", "title", "domains", "competences", "levels", "outcomes", "verified")
    for fw in State.library().frameworks.values():
        table.add_row(
            fw.id, fw.title.get("vi"), str(len(fw.domains)), str(len(fw.competences)), str(len(fw.levels)),
            str(fw.outcome_count) if fw.outcome_count else "-", "yes" if fw.verified else "no",
        )
    console().print(table)


@app.command("show")
def show_framework(
    framework_id: Annotated[str, typer.Argument(metavar="ID", help="Framework id, e.g. vn-dcf-2025.")],
    competence: Annotated[
        Optional[str], typer.Option("--competence", "-c", help="Show one competence, e.g. 4.2.")  # noqa: UP045
    ] = None,
    level: Annotated[
        Optional[int], typer.Option("--level", "-l", help="Show one level (1-8).")  # noqa: UP045
    ] = None,
    lang: Annotated[str, typer.Option("--lang", help="Language: vi or en.")] = "vi",
) -> None:
    """Show a framework, or one competence and its level descriptors."""
    fw = State.library().framework(framework_id)
    out = console()
    if level is not None:
        fw.level(level)
    if competence is None:
        out.print(f"[bold]{fw.title.get(lang)}[/] ({fw.id})")
        out.print(f"[dim]{fw.source}[/]")
        for d in fw.domains:
            out.print(f"\n[bold]{d.code}. {d.name.get(lang)}[/]")
            for c in fw.competences:
                if c.domain == d.code:
                    out.print(f"  {c.code}  {c.name.get(lang)}")
        out.print("\n[bold]Levels:[/] " + "; ".join(f"{lv.level} {lv.tier.get(lang)}" for lv in fw.levels))
        return
    comp = fw.competence(competence)
    out.print(f"[bold]{comp.code} {comp.name.get(lang)}[/]  [dim]({fw.id}; {fw.domain(comp.domain).name.get(lang)})[/]")
    if comp.description:
        out.print(comp.description.get(lang))
    for lv in fw.levels:
        if level is not None and lv.level != level:
            continue
        descs = fw.descriptors(comp.code, lv.level)
        out.print(f"\n[bold]{'Bậc' if lang == 'vi' else 'Level'} {lv.level}[/] ({lv.tier.get(lang)})")
        for desc in descs:
            out.print(f"  [cyan]{desc.id}[/]  {desc.text.get(lang)}")
    if fw.attribution:
        out.print(f"\n[dim]{fw.attribution}[/]")


@app.command("import")
def import_cmd(
    file: Annotated[Path, typer.Argument(metavar="FILE.jsonld", help="The DigComp 3.0 JSON-LD data supplement.")],
    framework_id: Annotated[str, typer.Option("--id", help="Id of the framework to write.")] = "digcomp-3.0",
    out_dir: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option("--out", help="Folder to write <id>.yaml into (default: <workspace>/frameworks)."),
    ] = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="Allow replacing a framework that already has this id (its lessons "
                                             "become outdated).")
    ] = False,
) -> None:
    """Import the official DigComp 3.0 JSON-LD supplement into a framework YAML file."""
    from generator.errors import DataError
    from generator.frameworks import model_hash
    from generator.importers import digcomp3_from_jsonld, import_framework

    known = State.library().frameworks
    if framework_id in known and not replace and \
            model_hash(digcomp3_from_jsonld(file, framework_id)) != model_hash(known[framework_id]):
        raise DataError("a framework with id {id!r} exists and this import would replace it (its "
                        "lessons would become outdated); choose another --id, or add --replace", id=framework_id)
    target = out_dir or State.settings().workspace / "frameworks"
    fw, path = import_framework(file, framework_id, target)
    console().print(
        f"wrote {path}: {len(fw.domains)} areas, {len(fw.competences)} competences, {len(fw.levels)} levels, "
        f"{fw.outcome_count} learning outcomes, {fw.statement_count} competence statements"
    )


@app.command("check")
def check_cmd() -> None:
    """Load and cross-check every framework, group and offline content file."""
    from generator.errors import DataError
    from generator.frameworks import check_content

    lib = State.library()
    out = console()
    out.print(f"{len(lib.frameworks)} frameworks, {len(lib.groups)} groups")
    problems: list[str] = []
    for fid in lib.frameworks:
        for code in lib.content_codes(fid):
            problems += check_content(lib, fid, code)
        if lib.content_codes(fid):
            out.print(f"{fid}: offline content for {len(lib.content_codes(fid))} competences")
    for p in problems:
        out.print(f"  [red]✗[/] {p}")
    if problems:
        raise DataError("{n_problems} problems in the offline content; fix the files named above",
                        n_problems=len(problems))
    out.print("[green]all data valid[/]")
