"""``hocvu users ...``: register editors, reviewers and admins, and set their passwords."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from generator.cli.common import console, new_app

app = new_app("Manage users: editors, reviewers and admins (passwords are for the web app).")

PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from the first line of standard input.")
]


def read_password(from_stdin: bool, allow_empty: bool = True) -> str | None:
    """The password from stdin, or asked for twice without echo (empty: none)."""
    if from_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        return line or None
    prompt = "Password (empty for none: CLI use only)" if allow_empty else "New password"
    value = typer.prompt(prompt, default="", show_default=False, hide_input=True, confirmation_prompt=True)
    return value or None


@app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="User name (letters, digits, . _ @ -).")],
    role: Annotated[str, typer.Option("--role", "-r", help="editor, reviewer or admin.")],
    password_stdin: PasswordStdin = False,
    no_password: Annotated[bool, typer.Option("--no-password", help="Do not ask for a password.")] = False,
) -> None:
    """Register a user with a role; a password is needed only to sign in to the web app."""
    from generator.review.workflow import ROLES

    if role not in ROLES:  # before asking for a password
        from generator.errors import NotFoundError

        raise NotFoundError.unknown("role", role, ROLES)
    from generator.cli.review_cmd import open_store

    password = None if no_password else read_password(password_stdin)
    with open_store() as store:
        user = store.add_user(name, role, password)
    console().print(f"added {user.name} ({user.role}){'' if user.has_password else ', no password'}")


@app.command("list")
def list_() -> None:
    """List users with their roles."""
    from rich.table import Table

    from generator.cli.review_cmd import open_store, when

    with open_store() as store:
        users = store.list_users()
    if not users:
        console().print("no users yet; add one with `hocvu users add NAME --role reviewer`")
        return
    table = Table("name", "role", "password", "added (UTC)", "state")
    for u in users:
        table.add_row(u.name, u.role, "yes" if u.has_password else "no", when(u.created_at),
                      "disabled" if u.disabled else "active")
    console().print(table)


@app.command("set-password")
def set_password(
    name: Annotated[str, typer.Argument(help="User name.")],
    password_stdin: PasswordStdin = False,
) -> None:
    """Set or change a user's password (empty removes it)."""
    from generator.cli.review_cmd import open_store

    with open_store() as store:
        store.get_user(name)  # fail before asking
        password = read_password(password_stdin)
        store.set_password(name, password)
    console().print(f"password {'set' if password else 'removed'} for {name}")


@app.command("set-role")
def set_role(
    name: Annotated[str, typer.Argument(help="User name.")],
    role: Annotated[str, typer.Argument(help="editor, reviewer or admin.")],
) -> None:
    """Change a user's role."""
    from generator.cli.review_cmd import open_store

    with open_store() as store:
        user = store.set_role(name, role)
    console().print(f"{user.name} is now {user.role}")


@app.command("disable")
def disable(name: Annotated[str, typer.Argument(help="User name.")]) -> None:
    """Disable a user: signed out everywhere at once, no sign-in, no API token, no decisions."""
    from generator.cli.review_cmd import open_store

    with open_store() as store:
        store.set_disabled(name, True)
    console().print(f"{name} is disabled and signed out everywhere; `hocvu users enable {name}` undoes it")


@app.command("enable")
def enable(name: Annotated[str, typer.Argument(help="User name.")]) -> None:
    """Enable a disabled user again."""
    from generator.cli.review_cmd import open_store

    with open_store() as store:
        store.set_disabled(name, False)
    console().print(f"{name} is enabled")


@app.command("remove")
def remove(
    name: Annotated[str, typer.Argument(help="User name.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Remove a user (what they did stays in the history under their name)."""
    from generator.cli.review_cmd import open_store

    with open_store() as store:
        store.get_user(name)
        if not yes:
            typer.confirm(f"remove {name}?", abort=True)
        store.remove_user(name)
    console().print(f"removed {name}")


@app.command("sign-out")
def sign_out(name: Annotated[str, typer.Argument(help="User name.")]) -> None:
    """End every web session of a user (e.g. after a lost phone)."""
    from generator.cli.review_cmd import open_store
    from generator.review.access import close_sessions, session_count

    with open_store() as store:
        store.get_user(name)
        n = session_count(store, name)
        close_sessions(store, name)
    console().print(f"{name}: {n} session(s) ended")


def register(root: typer.Typer) -> None:
    """Add ``hocvu users``."""
    root.add_typer(app, name="users")
