"""The Target groups page (editors and admins): list the profiles; add or edit one through a form (the
main fields as inputs, the rest as YAML) or a YAML upload, validated against ``TargetGroup`` with the
errors shown per field. A valid profile is written atomically to ``<workspace>/frameworks/groups/<id>.yaml``
and recorded (who, when); nothing is written for an invalid one. The app's library is reloaded so the new
group appears at once in the job form and the coverage matrix (workers load the library per job)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError
from starlette.datastructures import FormData, UploadFile
from starlette.responses import Response

from generator.errors import DataError
from generator.i18n import N_
from generator.review.records import User
from generator.web import i18n
from generator.web.context import action_user, allow, flash, page_user, redirect, render, ui_lang, web
from generator.web.jobs import PERMISSION
from generator.web.security import verify_csrf

router = APIRouter(prefix="/groups", dependencies=[Depends(verify_csrf)], include_in_schema=False)

#: Profile fields edited as form inputs: (input name, path in the profile). The rest is edited as YAML.
INPUTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("id", ("id",)), ("name_vi", ("names", "vi")), ("name_en", ("names", "en")),
    ("who_vi", ("who", "vi")), ("who_en", ("who", "en")),
    ("session_minutes", ("session_minutes",)), ("max_new_actions", ("max_new_actions",)),
)
NUMBERS = ("session_minutes", "max_new_actions")
TOP_INPUTS = ("id", "names", "who", "session_minutes", "max_new_actions", "default_formats")
MAX_PROFILE_BYTES = 512 * 1024


def groups_dir(request: Request) -> Path:
    """The workspace's folder of target-group profiles."""
    return web(request).settings.workspace / "frameworks" / "groups"


def _queue(request: Request) -> Any:
    from generator.jobs.queue import JobQueue

    return JobQueue(web(request).store.engine)


def profile_form(data: dict[str, Any]) -> dict[str, Any]:
    """Form values for a profile mapping: the inputs, the formats, and the rest as YAML."""
    from generator.yamlio import dump_yaml

    values: dict[str, Any] = {}
    for name, path in INPUTS:
        node: Any = data
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        values[name] = "" if node is None else str(node)
    values["default_formats"] = list(data.get("default_formats") or [])
    rest = {k: v for k, v in data.items() if k not in TOP_INPUTS}
    values["profile"] = dump_yaml(rest) if rest else ""
    return values


def merge_form(form: FormData) -> tuple[dict[str, Any], dict[str, str]]:
    """The profile mapping from the form (YAML first, the inputs over it); YAML errors per field."""
    from generator.yamlio import compose_text, to_nfc

    text = form.get("profile")
    data: dict[str, Any] = {}
    if isinstance(text, str) and text.strip():
        try:
            _, parsed = compose_text(text, "profile")
        except DataError as exc:
            return {}, {"profile": str(exc)}
        if not isinstance(parsed, dict):
            return {}, {"profile": "the YAML must be a mapping of the profile's fields"}
        data = dict(parsed)
    for name, path in INPUTS:
        value = form.get(name)
        if not isinstance(value, str) or not value.strip():
            continue
        node = data
        for key in path[:-1]:
            if not isinstance(node.get(key), dict):
                node[key] = {}
            node = node[key]
        raw = value.strip()
        node[path[-1]] = int(raw) if path[-1] in NUMBERS and raw.isdigit() else raw
    formats = [v for v in form.getlist("default_formats") if isinstance(v, str)]
    if formats:
        data["default_formats"] = formats
    return to_nfc(data), {}


def validate_profile(data: dict[str, Any]) -> tuple[Any, dict[str, str]]:
    """(TargetGroup, {}) or (None, {field path: message})."""
    from generator.jobs.spec import field_errors
    from generator.schema import TargetGroup

    try:
        return TargetGroup.model_validate(data), {}
    except ValidationError as exc:
        return None, field_errors(exc)
    except ValueError as exc:  # a LocatedError from the model's own checks
        where = ".".join(str(p) for p in getattr(exc, "loc", ())) or "profile"
        return None, {where: str(exc)}


def _list_page(request: Request) -> Response:
    ctx = web(request)
    local = groups_dir(request)
    groups = [(gid, g, (local / f"{gid}.yaml").is_file()) for gid, g in sorted(ctx.library.groups.items())]
    return render(request, "groups.html", nav="groups", groups=groups,
                  changes=_queue(request).changes("group", limit=20))


def _form_page(request: Request, values: dict[str, Any], *, original: str = "", errors: dict[str, str] | None = None,
               status_code: int = 200) -> Response:
    from generator import registry

    return render(request, "group_form.html", status_code=status_code, nav="groups", values=values,
                  original=original, errors=errors or {}, formats=registry.formats.names(),
                  input_of={".".join(path): name for name, path in INPUTS})


@router.get("")
def groups_page(request: Request, user: Annotated[User, Depends(page_user)]) -> Response:
    """Every target-group profile, and the recent changes made here."""
    allow(user, PERMISSION)
    return _list_page(request)


@router.get("/new")
def new_group(request: Request, user: Annotated[User, Depends(page_user)], start: str = "") -> Response:
    """The form for a new profile, filled from an existing one (``start``) to adapt."""
    allow(user, PERMISSION)
    lib = web(request).library
    base = lib.groups.get(start) or next(iter(lib.groups.values()))
    values = profile_form(base.model_dump(mode="json", by_alias=True))
    values.update({"id": "", "name_vi": "", "name_en": ""})
    return _form_page(request, values)


@router.get("/{group_id}/edit")
def edit_group(request: Request, group_id: str, user: Annotated[User, Depends(page_user)]) -> Response:
    """The form for an existing profile (saving it writes the workspace's own copy)."""
    allow(user, PERMISSION)
    group = web(request).library.group(group_id)
    return _form_page(request, profile_form(group.model_dump(mode="json", by_alias=True)), original=group_id)


@router.post("")
async def save_group(request: Request, user: Annotated[User, Depends(action_user)]) -> Response:
    """Validate and save a profile from the form or an uploaded YAML file."""
    allow(user, PERMISSION)
    t = i18n.translator(ui_lang(request))
    form = await request.form()
    original = str(form.get("original") or "")
    upload = form.get("profile_file")
    if isinstance(upload, UploadFile) and upload.filename:
        raw = await upload.read(MAX_PROFILE_BYTES + 1)
        if len(raw) > MAX_PROFILE_BYTES:
            return _form_page(request, profile_form({}),
                              errors={"profile_file": t(N_("The profile file is too large (512 KB at most)."))},
                              status_code=422)
        from generator.yamlio import compose_text, to_nfc

        try:
            _, parsed = compose_text(raw.decode("utf-8", "replace"), upload.filename)
        except DataError as exc:
            return _form_page(request, profile_form({}), errors={"profile_file": str(exc)}, status_code=422)
        data = to_nfc(parsed) if isinstance(parsed, dict) else {}
        errors: dict[str, str] = (
            {} if data else {"profile_file": t(N_("The file must be a YAML profile (id, names, who…)."))})
    else:
        data, errors = merge_form(form)
    group = None
    if not errors:
        group, errors = validate_profile(data)
    if group is not None and group.id != original and group.id in web(request).library.groups:
        errors = {"id": t(N_("Group {id} exists already; edit it or choose another id."), id=group.id)}
    if errors or group is None:
        return _form_page(request, profile_form(data) if data else profile_form({}), original=original,
                          errors=errors, status_code=422)
    save_profile(request, group)
    _queue(request).record_change("group", group.id, user.name, "edited" if original else "added")
    flash(request, "ok", t(N_("Group {id} saved."), id=group.id))
    return redirect("/groups")


def save_profile(request: Request, group: Any) -> Path:
    """Write the profile atomically into the workspace and reload the app's library."""
    from generator.frameworks import Library
    from generator.fsutil import write_text_atomic
    from generator.yamlio import dump_yaml

    ctx = web(request)
    path = groups_dir(request) / f"{group.id}.yaml"
    text = f"# {group.names.get('vi')} — saved from the web app\n" + dump_yaml(group.model_dump(mode="json",
                                                                                             by_alias=True))
    write_text_atomic(path, text)
    ctx.replace_library(Library(ctx.settings.workspace))
    return path
