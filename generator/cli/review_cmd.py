"""``hocvu review ...``, ``hocvu history``, ``hocvu edit`` and ``hocvu revise``: thin adapters over
``generator.review`` (the store, the workflow, editing and revision)."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from generator.cli.common import CompetenceFilter, FrameworkFilter, GroupFilter, State, console, new_app

if TYPE_CHECKING:
    from generator.review.records import LessonState
    from generator.review.store import ReviewStore

app = new_app("Review lessons: list, show, diff, approve, request changes, reject, comment.")

AsUser = Annotated[
    Optional[str],  # noqa: UP045 - typer needs Optional here
    typer.Option("--as", help="Who is acting (default: HOCVU_USER, else the OS user name)."),
]
Formats = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--formats",
        help="Formats to render, comma-separated (handout,guide,slides,audio,page; "
        "'none' for none). Default: the group's formats.",
    ),
]
VersionOpt = Annotated[
    Optional[int],  # noqa: UP045
    typer.Option(
        "--version", "-v", help="The version you reviewed; refused if it is no longer the current one."
    ),
]

STATUS_STYLE = {
    "draft": "dim",
    "in_review": "yellow",
    "approved": "green",
    "changes_requested": "magenta",
    "rejected": "red",
    "published": "bold green",
    "superseded": "dim",
}


def open_store() -> ReviewStore:
    """The review store of the chosen workspace."""
    from generator.review.store import ReviewStore

    return ReviewStore.open(State.settings())


def actor(name: str | None, *, registered: bool = True, store: ReviewStore | None = None) -> str:
    """The ``--as`` name, which must be a registered user (exit 2 otherwise), or the default author from
    the settings / OS (an unregistered local name may still author, as the workflow allows); ``store``: the
    one already open, if any."""
    from generator.errors import DataError, NotFoundError
    from generator.review.store import check_user_name, default_author

    if name is None:
        return default_author(State.settings())
    try:
        check_user_name(name)
    except Exception:
        shown = name[:40] + ("…" if len(name) > 40 else "")
        raise DataError("--as {name!r} is not a valid user name: use letters, digits and . _ @ - "
                        "(up to 64 characters)", name=shown) from None
    if registered:
        with nullcontext(store) if store is not None else open_store() as opened:
            if opened.find_user(name) is None:
                raise NotFoundError("--as {name!r} is not a registered user; add them with "
                                    "`hocvu users add {name} --role editor` or see `hocvu users list`", name=name)
    return name


def parse_formats(value: str | None) -> list[str] | None:
    """``--formats`` as a list (None: the group's default formats; [] for 'none')."""
    if value is None:
        return None
    if value.strip().lower() == "none":
        return []
    return [f.strip() for f in value.split(",") if f.strip()]


def styled(status: str) -> str:
    """A status with its colour."""
    from rich.markup import escape

    return f"[{STATUS_STYLE.get(status, 'default')}]{escape(status.replace('_', ' '))}[/]"


def when(dt: object) -> str:
    """A short UTC time."""
    return f"{dt:%Y-%m-%d %H:%M}" if dt else ""  # type: ignore[str-format]


def _state_line(state: LessonState) -> str:
    line = f"{state.id}: {styled(state.status)}, version {state.current_version}"
    if state.approved_by:
        line += f" (approved by {state.approved_by})"
    return line


@app.command("list")
def list_(
    status: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--status", "-s", help="Only this status, e.g. in_review."),
    ] = None,
    group: GroupFilter = None,
    framework: FrameworkFilter = None,
    competence: CompetenceFilter = None,
    level: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option("--level", "-l", help="Only this level."),
    ] = None,
    lang: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--lang", help="Only this language."),
    ] = None,
    search: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--search", "-q", help="Text in the id or title."),
    ] = None,
    outdated: Annotated[
        bool, typer.Option("--outdated", help="Only lessons whose sources changed since.")
    ] = False,
    failed_checks: Annotated[
        bool, typer.Option("--failed-checks", help="Only lessons whose current version failed a check.")
    ] = False,
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, help="Show at most this many lessons.")
    ] = 500,
    offset: Annotated[
        int, typer.Option("--offset", min=0, help="Skip this many lessons first (with --limit: the next page).")
    ] = 0,
) -> None:
    """List lessons in the review store with their status; outdated ones and failed checks are flagged."""
    from rich.table import Table

    from generator.review.store.fastread import FastReader
    from generator.review.store.filters import LessonFilter

    where = LessonFilter.of(status, group=group, framework=framework, competence=competence, level=level,
                            language=lang, search=search, outdated_only=outdated, failed_checks=failed_checks)
    found = None
    with FastReader.open(State.light()) or nullcontext() as fast:  # SQLite: no SQLAlchemy to read a list
        if fast is not None:
            found = fast.lesson_page(where, State.library(), limit=limit, offset=offset)
    if found is None:
        with open_store() as store:
            found = store.lesson_page(where, State.library(), limit=limit, offset=offset)
    states = found.items
    out = console()
    if not states:
        out.print(
            "no lessons match"
            + ("" if status or group or framework or outdated or failed_checks
               else "; draft one with `hocvu draft`")
        )
        return
    table = Table("lesson", "title", "status", "v", "updated (UTC)", "notes")
    for s in states:
        table.add_row(
            s.id,
            s.title,
            styled(s.status),
            str(s.current_version),
            when(s.updated_at),
            ", ".join(n for n, on in (("[yellow]outdated[/]", s.outdated),
                                      ("[red]checks failed[/]", not s.checks_passed)) if on),
        )
    out.print(table)
    if len(states) < found.total:
        nxt = f"; --offset {offset + len(states)} shows the next ones" if offset + len(states) < found.total else ""
        out.print(f"lessons {offset + 1}-{offset + len(states)} of {found.total}{nxt}")
    else:
        out.print(f"{len(states)} lesson(s)")


@app.command("show")
def show(
    lesson_id: Annotated[str, typer.Argument(metavar="LESSON-ID", help="The lesson id.")],
    version: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option("--version", "-v", help="Show this version (default: current)."),
    ] = None,
) -> None:
    """Show a lesson: status, version, checks, files, outdated reasons, open comments and versions."""
    with open_store() as store:
        state = store.lesson_state(lesson_id, library=State.library())
        v = store.get_version(lesson_id, version)
        versions = store.versions(lesson_id)
        comments = store.comments(lesson_id, open_only=True)
    out, lesson, p = console(), v.lesson, v.lesson.provenance
    out.print(f"[bold]{lesson.title}[/]  [dim]{lesson.id}[/]")
    out.print(f"{lesson.summary}")
    out.print(
        f"status {styled(state.status)}; current version {state.current_version} (row {state.row_version})"
        + (f"; approved by {state.approved_by} at {when(state.approved_at)}" if state.approved_by else "")
    )
    out.print(
        f"version {v.number} ({v.kind}{', from v' + str(v.parent_version) if v.parent_version else ''}) "
        f"by {v.author} at {when(v.created_at)} UTC — {styled(v.status)}"
    )
    out.print(
        f"backend {p.backend} ({p.model}); content hash {v.content_hash[:16]}; {lesson.word_count()} words"
    )
    for reason in state.outdated:
        out.print(f"[yellow]outdated:[/] {reason}")
    for note in p.notes:
        out.print(f"[yellow]note:[/] {note}")
    out.print("checks:")
    for c in v.checks:
        out.print(f"  {'[green]✓[/]' if c.passed else '[red]✗[/]'} {c.label()}: {c.render()}")
    if v.artifacts:
        out.print("files:")
        for a in v.artifacts.values():
            gone = "" if a.path.is_file() else "  [red]missing: run `hocvu doctor`[/]"
            out.print(f"  {a.name} ({a.size:,} bytes)  [dim]{a.path}[/]{gone}")
    if comments:
        out.print("open comments:")
        for cm in comments:
            about = f" on {cm.section}" if cm.section else ""
            out.print(f"  #{cm.id} {cm.actor} (v{cm.version}{about}, {when(cm.created_at)}): {cm.text}")
    out.print(
        "versions: "
        + ", ".join(f"v{x.number} {x.kind} by {x.author} ({x.status.replace('_', ' ')})" for x in versions)
    )


def _decide(action: str, lesson_id: str, user: str | None, comment: str | None, version: int | None) -> None:
    with open_store() as store:
        fn = {"request_changes": store.request_changes, "reject": store.reject}[action]
        state = fn(lesson_id, actor(user), comment or "", version=version)
    console().print(_state_line(state))


Comment = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--comment", "-m", help="Why (required to request changes or reject)."),
]


@app.command("approve")
def approve(
    lesson_id: Annotated[str, typer.Argument(metavar="LESSON-ID", help="The lesson id.")],
    user: AsUser = None,
    comment: Comment = None,
    version: VersionOpt = None,
    resolve_open: Annotated[bool, typer.Option("--resolve-open", help="Approve although comments are still "
                                               "open, marking them resolved.")] = False,
) -> None:
    """Approve the current version (four-eyes: not by anyone who wrote its text since the last approval)."""
    from generator.review.store.fastwrite import FastApprover

    state, approved = None, False
    name = user or State.light().user  # no name: the OS user, as the store's default_author finds it
    with FastApprover.for_settings(State.light()) or nullcontext() as fast:  # SQLite: no SQLAlchemy
        if fast is not None and name:
            state, approved = fast.approve(lesson_id, name, comment, version=version), fast.approved
    if state is None:
        with open_store() as store:
            state = (store.lesson_state(lesson_id) if approved else
                     store.approve(lesson_id, actor(user, store=store), comment, version=version,
                                   resolve_open=resolve_open))
    console().print(_state_line(state))


@app.command("verify-content")
def verify_content(
    lesson_id: Annotated[str, typer.Argument(metavar="LESSON-ID", help="A lesson drafted from the content.")],
    user: AsUser = None,
    note: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--note", "-m", help="What you checked it against."),
    ] = None,
    version: VersionOpt = None,
) -> None:
    """Record that you checked the facts of the offline content this lesson was drafted from (reviewers
    and admins); lessons drafted from that version of the content stop saying "not verified"."""
    with open_store() as store:
        lesson = store.get_version(lesson_id, version).lesson
        done = store.verify_content(lesson.framework, lesson.competence, lesson.provenance.content_hash,
                                    actor(user), note or "")
    console().print(f"content {done.framework} {done.competence} ({done.content_hash}) verified by "
                    f"{done.verified_by} at {done.verified_at:%Y-%m-%d %H:%M}")


@app.command("request-changes")
def request_changes(
    lesson_id: Annotated[str, typer.Argument(metavar="LESSON-ID", help="The lesson id.")],
    user: AsUser = None,
    comment: Comment = None,
    section: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--section", help="The section the comment is about."),
    ] = None,
    version: VersionOpt = None,
) -> None:
    """Send the current version back to its editors with a comment."""
    from generator.review.workflow import require_comment

    require_comment("request_changes", comment)
    with open_store() as store:
        state = store.request_changes(lesson_id, actor(user), comment or "", version=version, section=section)
    console().print(_state_line(state))
    console().print(
        f"next: `hocvu revise {lesson_id}{' --section ' + section if section else ''}` "
        f"or `hocvu edit {lesson_id}`"
    )


@app.command("reject")
def reject(
    lesson_id: Annotated[str, typer.Argument(metavar="LESSON-ID", help="The lesson id.")],
    user: AsUser = None,
    comment: Comment = None,
    version: VersionOpt = None,
) -> None:
    """Reject the current version with a comment."""
    _decide("reject", lesson_id, user, comment, version)


@app.command("comment")
def comment_(
    lesson_id: Annotated[str, typer.Argument(metavar="LESSON-ID", help="The lesson id.")],
    text: Annotated[str, typer.Argument(metavar="TEXT", help="The comment.")],
    user: AsUser = None,
    section: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--section", help="The section it is about."),
    ] = None,
) -> None:
    """Comment on the current version without changing its status."""
    with open_store() as store:
        c = store.add_comment(lesson_id, actor(user), text, section=section)
    console().print(f"comment #{c.id} on {lesson_id} version {c.version}")


@app.command("diff")
def diff(
    lesson_id: Annotated[str, typer.Argument(metavar="LESSON-ID", help="The lesson id.")],
    v1: Annotated[
        Optional[int],  # noqa: UP045
        typer.Argument(help="Older version (default: the one before the current)."),
    ] = None,
    v2: Annotated[
        Optional[int],  # noqa: UP045
        typer.Argument(help="Newer version (default: the current one)."),
    ] = None,
) -> None:
    """Show what changed between two versions, section by section."""
    from generator.errors import NotFoundError
    from generator.review.diff import diff_lessons

    for given in (v1, v2):
        if given is not None and given < 1:  # not "has only version N": the number itself is wrong
            raise typer.BadParameter(f"version numbers start at 1, not {given}")
    with open_store() as store:
        new = store.get_version(lesson_id, v2)
        old_n = v1 if v1 is not None else (new.parent_version or new.number - 1)
        if old_n < 1:
            raise NotFoundError("{lesson_id} has only version {number}; nothing to compare",
                                lesson_id=lesson_id, number=new.number)
        old = store.get_version(lesson_id, old_n)
    out = console()
    out.print(f"{lesson_id}: version {old.number} → {new.number}")
    diffs = diff_lessons(old.lesson, new.lesson, old_label=f"v{old.number}", new_label=f"v{new.number}")
    for d in diffs:
        if not d.changed:
            continue
        out.print(f"[bold]── {d.section}[/]")
        for line in d.lines[2:]:  # skip the ---/+++ header lines
            style = (
                "green"
                if line.startswith("+")
                else "red"
                if line.startswith("-")
                else "cyan"
                if line.startswith("@@")
                else ""
            )
            out.print(f"[{style}]{_esc(line)}[/]" if style else _esc(line))
    same = [d.section for d in diffs if not d.changed]
    changed = [d.section for d in diffs if d.changed]
    out.print(f"changed: {', '.join(changed) or 'nothing'}; unchanged: {', '.join(same) or 'nothing'}")


def _esc(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def history(lesson_id: Annotated[str, typer.Argument(metavar="LESSON-ID", help="The lesson id.")]) -> None:
    """Every event of a lesson: versions made, decisions, comments, releases."""
    from rich.table import Table

    from generator.review.store.fastread import FastReader

    events = None
    with FastReader.open(State.light()) or nullcontext() as fast:  # SQLite: no SQLAlchemy to read it
        if fast is not None:
            events = fast.history(lesson_id)
    if events is None:
        with open_store() as store:
            events = store.history(lesson_id)
    table = Table("time (UTC)", "v", "action", "by", "status", "comment")
    for e in events:
        action = e.action.replace("_", " ") + (f" ({e.section})" if e.section else "")
        change = (
            f"{(e.from_status or '—').replace('_', ' ')} → {e.to_status.replace('_', ' ')}"
            if e.to_status
            else ""
        )
        table.add_row(when(e.created_at), str(e.version), action, e.actor, change, _esc(e.comment or ""))
    console().print(table)


def edit(
    lesson_id: Annotated[str, typer.Argument(metavar="LESSON-ID", help="The lesson id.")],
    from_file: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(
            "--from", help="Take the edited lesson (YAML) from this file instead of opening $EDITOR."
        ),
    ] = None,
    user: AsUser = None,
    formats: Formats = None,
) -> None:
    """Edit a lesson's sections as YAML; the edit is validated and checked, then becomes a new version."""
    from generator.errors import HocvuError
    from generator.fsutil import write_text_atomic
    from generator.lesson import Limits
    from generator.review.edit import edit_lesson, lesson_yaml

    settings, library = State.settings(), State.library()
    who = actor(user)
    with open_store() as store:
        if from_file is not None:
            from generator.yamlio import read_limited

            text, label = read_limited(from_file, 1024 * 1024, "lesson file"), str(from_file)
        else:
            import click

            store.preflight_version(lesson_id, who, "edit")
            v = store.get_version(lesson_id)
            limits = Limits.for_group(library.group(v.lesson.group), v.lesson.language)
            original = lesson_yaml(v.lesson, version=v.number, status=v.status, limits=limits)
            edited = click.edit(original, extension=".yaml", require_save=True)
            if edited is None or edited == original:
                console().print("no changes; nothing saved")
                return
            text, label = edited, f"{lesson_id}.yaml"
        try:
            result = edit_lesson(
                library,
                settings,
                store,
                lesson_id,
                text,
                author=who,
                formats=parse_formats(formats),
                label=label,
            )
        except HocvuError:
            if from_file is None:  # keep the person's work
                keep = settings.state_dir / "edits" / f"{lesson_id}.yaml"
                write_text_atomic(keep, text)
                console().print(
                    f"your edit is kept in {keep}; fix it and run `hocvu edit {lesson_id} --from {keep}`"
                )
            raise
    r = result.version.record
    out = console()
    out.print(
        f"{lesson_id}: version {r.number} ({styled(r.status)}) by {r.author}; "
        f"changed: {', '.join(result.changed)}"
    )
    for c in result.version.drafted.checks:
        out.print(f"  {'[green]✓[/]' if c.passed else '[red]✗[/]'} {c.label()}: {c.render()}")
    out.print(f"saved {result.version.path}")


def revise(
    lesson_id: Annotated[str, typer.Argument(metavar="LESSON-ID", help="The lesson id.")],
    section: Annotated[str, typer.Option("--section", help="The section to regenerate, or 'all'.")] = "all",
    user: AsUser = None,
    backend: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--backend", "-b", help="offline, openai or a plugin's (default: openai when OPENAI_API_KEY is set)."
        ),
    ] = None,
    model: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--model", "-m", help="Model name for the openai backend."),
    ] = None,
    formats: Formats = None,
) -> None:
    """Regenerate one section (or all) following the open comments; a new version goes to review."""
    from generator.drafting.backend import make_backend
    from generator.review.revise import revise_lesson

    settings, library = State.settings(), State.library()
    with open_store() as store:
        store.preflight_version(lesson_id, actor(user), "revise")
        llm = make_backend(settings, library, backend, model)
        result = revise_lesson(
            library,
            settings,
            store,
            llm,
            lesson_id,
            section=section,
            author=actor(user),
            formats=parse_formats(formats),
        )
    r, out = result.version.record, console()
    out.print(
        f"{lesson_id}: version {r.number} ({styled(r.status)}) by {r.author}, revised {section} "
        f"with {r.backend} following {len(result.comments)} open comment(s)"
    )
    out.print(f"changed: {', '.join(result.changed) or 'nothing'}")
    for note in result.notes:
        out.print(f"[yellow]note:[/] {note}")
    for c in result.version.drafted.checks:
        out.print(f"  {'[green]✓[/]' if c.passed else '[red]✗[/]'} {c.label()}: {c.render()}")
    out.print(f"saved {result.version.path}")


def register(root: typer.Typer) -> None:
    """Add ``hocvu review``, ``hocvu history``, ``hocvu edit`` and ``hocvu revise``."""
    root.add_typer(app, name="review")
    root.command("history", help="Show every event of a lesson: versions, decisions, comments, releases.")(
        history
    )
    root.command("edit", help="Edit a lesson as YAML ($EDITOR or --from FILE); it becomes a new version.")(
        edit
    )
    root.command(
        "revise", help="Regenerate a section (or all) following reviewers' comments; a new version."
    )(revise)
