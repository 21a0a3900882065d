"""``hocvu users token NAME``: issue (or ``--revoke``) a user's API token for the web app's JSON API.

The command joins the ``users`` group that ``users_cmd`` registers; ``register`` finds that group on the
root app (or makes one when it is missing, so the command works on its own).
"""

from __future__ import annotations

from typing import Annotated

import typer

from generator.cli.common import State, console, new_app


def token(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The user the token is for.")],
    revoke: Annotated[
        bool, typer.Option("--revoke", help="Remove the user's token instead of issuing one.")
    ] = False,
) -> None:
    """Issue an API token for NAME (printed once; only its hash is stored), replacing any earlier one."""
    from generator.review.store import ReviewStore
    from generator.review.tokens import issue_token, revoke_token

    with ReviewStore.open(State.settings()) as store:
        user = store.get_user(name)
        if revoke:
            revoke_token(store, name)
            console().print(f"revoked the API token of {user.name}")
            return
        value = issue_token(store, name)
    out = console()
    out.print(f"API token for {user.name} ({user.role}); it is shown only now, keep it secret:")
    out.print(value)
    out.print("use it as the header  Authorization: Bearer <token>  (a new token replaces this one)")


def register(app: typer.Typer) -> None:
    """Add ``token`` to the ``users`` group of ``app`` (creating the group if no module made it)."""
    for info in app.registered_groups:
        if info.name == "users" and info.typer_instance is not None:
            info.typer_instance.command("token")(token)
            return
    users = new_app("Manage users: editors, reviewers and admins.")
    users.command("token")(token)
    app.add_typer(users, name="users")
