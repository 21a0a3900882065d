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
    table = Table("name", "role", "password", "added (UTC)")
    for u in users:
        table.add_row(u.name, u.role, "yes" if u.has_password else "no", when(u.created_at))
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


def register(root: typer.Typer) -> None:
    """Add ``hocvu users``."""
    root.add_typer(app, name="users")
