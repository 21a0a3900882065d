"""Admin pages: users (add, role, password, API token) and releases (publish, verify, download)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from starlette.background import BackgroundTask
from starlette.responses import FileResponse, Response

from generator.errors import NotFoundError, PermissionError_, PublishError, ReviewError
from generator.review import workflow as wf
from generator.review.records import User
from generator.web import i18n
from generator.web.context import action_user, allow, flash, page_user, redirect, render, web
from generator.web.security import FILE_CSP, verify_csrf

router = APIRouter(dependencies=[Depends(verify_csrf)], include_in_schema=False)

Name = Annotated[str, Form(max_length=64)]


# -- users ----------------------------------------------------------------------------------------
def _users_page(request: Request, *, error: str | None = None, token: tuple[str, str] | None = None,
                status_code: int = 200) -> Response:
    from generator.review.tokens import has_token

    store = web(request).store
    users = store.list_users()
    return render(request, "users.html", status_code=status_code, nav="users", users=users, roles=wf.ROLES,
                  tokens={u.name: has_token(store, u.name) for u in users}, error=error, token=token)


@router.get("/users")
def users_page(request: Request, user: Annotated[User, Depends(page_user)]) -> Response:
    """Every user, their role, and forms to manage them (admins only)."""
    allow(user, "manage_users")
    return _users_page(request)


@router.post("/users")
def add_user(request: Request, user: Annotated[User, Depends(action_user)], name: Name,
             role: Annotated[str, Form()], password: Annotated[str, Form(max_length=1000)] = "") -> Response:
    """Register a user (argon2 password hash in the store)."""
    allow(user, "manage_users")
    try:
        added = web(request).store.add_user(name.strip(), role, password or None, by=user.name)
    except (ReviewError, NotFoundError) as exc:
        if isinstance(exc, PermissionError_):
            raise
        return _users_page(request, error=str(exc), status_code=400)
    flash(request, "ok", i18n.ui_text(request, "User {name} added.", name=added.name))
    return redirect("/users")


@router.post("/users/{name}/role")
def set_role(request: Request, name: str, user: Annotated[User, Depends(action_user)],
             role: Annotated[str, Form()]) -> Response:
    """Change a user's role."""
    allow(user, "manage_users")
    web(request).store.set_role(name, role, by=user.name)
    flash(request, "ok", i18n.ui_text(request, "Saved."))
    return redirect("/users")


@router.post("/users/{name}/password")
def set_password(request: Request, name: str, user: Annotated[User, Depends(action_user)],
                 password: Annotated[str, Form(max_length=1000)]) -> Response:
    """Set a user's password."""
    allow(user, "manage_users")
    try:
        web(request).store.set_password(name, password, by=user.name)
    except ReviewError as exc:
        if isinstance(exc, PermissionError_):
            raise
        return _users_page(request, error=str(exc), status_code=400)
    flash(request, "ok", i18n.ui_text(request, "Saved."))
    return redirect("/users")


@router.post("/users/{name}/token")
def issue_token(request: Request, name: str, user: Annotated[User, Depends(action_user)]) -> Response:
    """Issue an API token and show it once (only its hash is kept)."""
    from generator.review.tokens import issue_token as issue

    allow(user, "manage_users")
    token = issue(web(request).store, name, by=user.name)
    return _users_page(request, token=(name, token))


@router.post("/users/{name}/token/revoke")
def revoke_token(request: Request, name: str, user: Annotated[User, Depends(action_user)]) -> Response:
    """Remove a user's API token."""
    from generator.review.tokens import revoke_token as revoke

    allow(user, "manage_users")
    revoke(web(request).store, name, by=user.name)
    flash(request, "ok", i18n.ui_text(request, "Saved."))
    return redirect("/users")


# -- releases -------------------------------------------------------------------------------------
def _releases_page(request: Request, *, error: str | None = None, report: object = None,
                   status_code: int = 200, form: dict[str, str] | None = None) -> Response:
    from generator.review.workflow import PUBLISHABLE

    ctx = web(request)
    releases = list(reversed(ctx.store.list_releases()))
    approved = ctx.store.list_lessons(status=sorted(PUBLISHABLE))
    return render(request, "releases.html", status_code=status_code, nav="releases", releases=releases,
                  approved=approved, error=error, report=report, form=form or {},
                  frameworks=sorted(ctx.library.frameworks), groups=ctx.library.groups)


@router.get("/releases")
def releases_page(request: Request, user: Annotated[User, Depends(page_user)]) -> Response:
    """Releases so far and the form to publish the approved set (admins only)."""
    allow(user, wf.Action.PUBLISH)
    return _releases_page(request)


@router.post("/releases")
def publish(request: Request, user: Annotated[User, Depends(action_user)], name: Name,
            group: Annotated[str, Form()] = "", framework: Annotated[str, Form()] = "",
            competence: Annotated[str, Form(max_length=16)] = "") -> Response:
    """Build and record an immutable release of the approved lessons matching the filters."""
    from generator.web.operations import publish as build

    allow(user, wf.Action.PUBLISH)
    form = {"name": name, "group": group, "framework": framework, "competence": competence}
    try:
        release = build(web(request), name.strip(), by=user.name, group=group, framework=framework,
                        competence=competence.strip())
    except PublishError as exc:
        return _releases_page(request, error=str(exc), status_code=409, form=form)
    flash(request, "ok", i18n.ui_text(request, "Published {name} with {n} lessons.", name=release.name,
                                  n=len(release.record.items)))
    return redirect("/releases")


@router.post("/releases/{name}/verify")
def verify(request: Request, name: str, user: Annotated[User, Depends(action_user)]) -> Response:
    """Re-check every checksum of a release and show the report."""
    from generator.web.operations import verify as check

    allow(user, wf.Action.PUBLISH)
    web(request).store.get_release(name)
    report = check(web(request), name)
    return _releases_page(request, report={"name": name, "ok": report.ok, "checked": report.checked,
                                           "problems": report.problems()})


@router.get("/releases/{name}/download")
def download_release(request: Request, name: str, user: Annotated[User, Depends(page_user)]) -> Response:
    """The release folder as a zip."""
    from generator.web.operations import release_zip

    allow(user, wf.Action.PUBLISH)
    record = web(request).store.get_release(name)
    path = release_zip(web(request), record)
    return FileResponse(path, filename=f"{record.name}.zip", media_type="application/zip",
                        headers={"Content-Security-Policy": FILE_CSP},
                        background=BackgroundTask(path.unlink, missing_ok=True))
