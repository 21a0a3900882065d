"""The "Soạn bài" pages (editors and admins): a job form with the fields of a batch spec, its plan and
estimate, the job's live progress, cancel, the report, and the job history. The web process only
enqueues jobs and reads them: a worker process runs them (``generator.jobs``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.datastructures import FormData, UploadFile
from starlette.responses import JSONResponse, Response

from generator.errors import HocvuError, NotFoundError, TransitionError
from generator.i18n import N_
from generator.review.records import User
from generator.web import i18n
from generator.web.context import action_user, allow, flash, page_user, redirect, render, ui_lang, web
from generator.web.security import FILE_CSP, verify_csrf

router = APIRouter(prefix="/jobs", dependencies=[Depends(verify_csrf)], include_in_schema=False)

#: The permission the job pages need: making versions (editors and admins).
PERMISSION = "create"
MAX_SPEC_BYTES = 256 * 1024


def _queue(request: Request) -> Any:
    from generator.jobs.queue import JobQueue

    return JobQueue(web(request).store.engine)


def _default_executor() -> str:
    from generator.jobs.settings import load_job_settings

    return load_job_settings().executor


def choices(request: Request, framework: str | None) -> dict[str, Any]:
    """What the form offers: frameworks, the chosen one's competence tree, groups, levels, languages,
    formats, backends, executors and source collections — each read from where it is defined."""
    from generator import registry
    from generator.schema import LANGS

    ctx = web(request)
    frameworks = sorted(ctx.library.frameworks)
    default = "vn-dcf-2025" if "vn-dcf-2025" in frameworks else frameworks[0]
    fw = ctx.library.framework(framework if framework in frameworks else default)
    tree = [(d, [c for c in fw.competences if c.domain == d.code]) for d in fw.domains]
    return {"frameworks": frameworks, "framework": fw, "tree": tree, "groups": ctx.library.groups,
            "levels": [lv.level for lv in fw.levels], "languages": list(LANGS), "formats": registry.formats.names(),
            "backends": ["auto", *registry.backends.names()],
            "executors": registry.executors.names(), "collections": _collections(request)}


def _collections(request: Request) -> list[str]:
    from generator.retrieval.store import make_store

    try:
        return make_store(web(request).settings).collections()
    except HocvuError:  # an unreadable source library: the form still works without sources
        return []


def form_values(form: FormData) -> dict[str, Any]:
    """The job form as a spec mapping (lists for the multiple choices; patterns added to competences)."""

    def text(key: str) -> str:
        value = form.get(key)
        return value.strip() if isinstance(value, str) else ""

    def many(key: str) -> list[str]:
        return [v for v in form.getlist(key) if isinstance(v, str) and v]

    patterns = [p for p in text("patterns").replace(",", " ").split() if p]
    levels = [int(v) for v in many("levels") if v.isdigit()]
    concurrency = text("concurrency")
    data: dict[str, Any] = {
        "name": text("name"), "framework": text("framework"), "groups": many("groups"),
        "competences": many("competences") + [p for p in patterns if p not in many("competences")],
        "levels": levels, "languages": many("languages"), "formats": many("formats") or "group",
        "backend": text("backend") or "auto", "model": text("model") or None, "sources": text("sources") or None,
        "concurrency": int(concurrency) if concurrency.isdigit() else 4, "executor": text("executor") or None,
    }
    return data


def spec_values(spec: Any, executor: str) -> dict[str, Any]:
    """A batch spec as form values."""
    return spec.model_dump(mode="json") | {"executor": executor}


def check_names(request: Request, spec: Any) -> dict[str, str]:
    """Per-field errors for names the library does not know (framework, groups, competences, levels)."""
    from generator.batch.spec import expand_competences

    lib = web(request).library
    errors: dict[str, str] = {}
    try:
        fw = lib.framework(spec.framework)
    except NotFoundError as exc:
        return {"framework": str(exc)}
    unknown = [g for g in spec.groups if g not in lib.groups]
    if unknown:
        errors["groups"] = str(NotFoundError.unknown("group", unknown[0], sorted(lib.groups)))
    try:
        expand_competences(spec, lib)
    except NotFoundError as exc:
        errors["competences"] = str(exc)
    known = {lv.level for lv in fw.levels}
    missing = [n for n in spec.levels if n not in known]
    if missing:
        errors["levels"] = f"{spec.framework} has no level {missing[0]}; it has {sorted(known)}"
    return errors


def _form_page(request: Request, values: dict[str, Any], *, errors: dict[str, str] | None = None,
               plan: dict[str, Any] | None = None, status_code: int = 200, message: str = "") -> Response:
    return render(request, "job_form.html", status_code=status_code, nav="jobs_new", values=values,
                  errors=errors or {}, plan=plan, message=message,
                  **choices(request, values.get("framework")))


def _validated(request: Request, values: dict[str, Any]) -> tuple[Any, str, dict[str, str]]:
    """(spec, executor, {}) or (None, "", errors per field)."""
    from generator.jobs.spec import SpecError, parse_job_spec

    try:
        spec, executor = parse_job_spec(values, _default_executor())
    except SpecError as exc:
        return None, "", exc.fields
    errors = check_names(request, spec)
    return (None, "", errors) if errors else (spec, executor, {})


@router.get("/new")
def new_job(request: Request, user: Annotated[User, Depends(page_user)], framework: str | None = None) -> Response:
    """The empty job form."""
    allow(user, PERMISSION)
    values = {"name": "", "framework": framework or "", "groups": [], "competences": [], "levels": [1],
              "languages": ["vi"], "formats": "group", "backend": "auto", "model": None, "sources": None,
              "concurrency": 4, "executor": _default_executor()}
    return _form_page(request, values)


@router.post("/plan")
async def plan_job(request: Request, user: Annotated[User, Depends(action_user)]) -> Response:
    """Validate the form and show the plan (to generate, cached, per group) and the estimate."""
    allow(user, PERMISSION)
    values = form_values(await request.form())
    return _plan_page(request, values)


def _plan_page(request: Request, values: dict[str, Any]) -> Response:
    from generator.batch.build import plan_build
    from generator.jobs.progress import plan_summary

    spec, executor, errors = _validated(request, values)
    if errors:
        return _form_page(request, values, errors=errors, status_code=422)
    ctx = web(request)
    try:
        plan = plan_build(spec, ctx.library, ctx.settings, ctx.store)
    except HocvuError as exc:
        return _form_page(request, values, errors={"spec": str(exc)}, status_code=422)
    return _form_page(request, spec_values(spec, executor), plan=plan_summary(plan))


@router.post("/upload")
async def upload_spec(request: Request, user: Annotated[User, Depends(action_user)]) -> Response:
    """Read an uploaded spec file into the form (errors per field when it is not valid)."""
    from generator.jobs.spec import SpecError, load_job_spec_text

    allow(user, PERMISSION)
    form = await request.form()
    upload = form.get("spec_file")
    t = i18n.translator(ui_lang(request))
    empty: dict[str, Any] = {
        "name": "", "framework": "", "groups": [], "competences": [], "levels": [], "languages": [],
        "formats": "group", "backend": "auto", "model": None, "sources": None, "concurrency": 4,
        "executor": _default_executor()}
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _form_page(request, empty, errors={"spec_file": t(N_("Choose a .yaml spec file."))}, status_code=422)
    raw = await upload.read(MAX_SPEC_BYTES + 1)
    if len(raw) > MAX_SPEC_BYTES:
        return _form_page(request, empty, errors={"spec_file": t(N_("The spec file is too large (256 KB at most)."))},
                          status_code=422)
    try:
        spec, executor = load_job_spec_text(raw.decode("utf-8", "replace"), _default_executor(),
                                            label=upload.filename)
    except SpecError as exc:
        return _form_page(request, empty, errors=exc.fields, status_code=422,
                          message=t(N_("{file} is not valid; the errors are listed per field."), file=upload.filename))
    return _plan_page(request, spec_values(spec, executor))


@router.post("/download")
async def download_spec(request: Request, user: Annotated[User, Depends(action_user)]) -> Response:
    """The form's values as a spec file (YAML), to keep or to run with ``hocvu build``."""
    from generator.jobs.spec import dump_job_spec

    allow(user, PERMISSION)
    values = form_values(await request.form())
    spec, executor, errors = _validated(request, values)
    if errors:
        return _form_page(request, values, errors=errors, status_code=422)
    return Response(dump_job_spec(spec, executor), media_type="application/yaml; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{spec.name}.yaml"',
                             "Content-Security-Policy": FILE_CSP})


@router.post("")
async def start_job(request: Request, user: Annotated[User, Depends(action_user)]) -> Response:
    """Queue the job; a worker runs it. The job page shows its progress."""
    from generator.batch.build import plan_build
    from generator.jobs.progress import plan_summary

    allow(user, PERMISSION)
    values = form_values(await request.form())
    spec, executor, errors = _validated(request, values)
    if errors:
        return _form_page(request, values, errors=errors, status_code=422)
    ctx = web(request)
    plan = plan_build(spec, ctx.library, ctx.settings, ctx.store)
    job = _queue(request).enqueue(spec, by=user.name, executor=executor, plan=plan_summary(plan))
    flash(request, "ok", i18n.translator(ui_lang(request))(N_("Job {id} ({name}) is queued."), id=job.id,
                                                           name=job.name))
    return redirect(f"/jobs/{job.id}")


@router.get("")
def job_history(request: Request, user: Annotated[User, Depends(page_user)]) -> Response:
    """Every job: who started what, when, the outcome."""
    allow(user, PERMISSION)
    return render(request, "jobs.html", nav="jobs", jobs=_queue(request).list(200))


@router.get("/{job_id}")
def job_page(request: Request, job_id: int, user: Annotated[User, Depends(page_user)]) -> Response:
    """One job: live progress while it runs, the report once it has ended."""
    allow(user, PERMISSION)
    job = _queue(request).get(job_id)
    return render(request, "job.html", nav="jobs", job=job, groups=web(request).library.groups)


@router.get("/{job_id}/progress.json")
def job_progress(request: Request, job_id: int, user: Annotated[User, Depends(page_user)]) -> Response:
    """The job's state and progress, for the page's script to poll."""
    allow(user, PERMISSION)
    return JSONResponse(_queue(request).get(job_id).to_dict(), headers={"Cache-Control": "no-store"})


@router.post("/{job_id}/cancel")
def cancel_job(request: Request, job_id: int, user: Annotated[User, Depends(action_user)]) -> Response:
    """Cancel a queued job, or ask a running one to stop after the lessons in flight."""
    allow(user, PERMISSION)
    t = i18n.translator(ui_lang(request))
    try:
        job = _queue(request).cancel(job_id, by=user.name)
    except TransitionError:
        flash(request, "error", t(N_("Job {id} has already ended; nothing to stop."), id=job_id))
        return redirect(f"/jobs/{job_id}")
    said = (N_("Job {id} cancelled.") if job.state == "cancelled"
            else N_("Stopping job {id}: finished lessons are kept."))
    flash(request, "ok", t(said, id=job_id))
    return redirect(f"/jobs/{job_id}")
