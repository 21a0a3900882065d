"""Sign-in, the dashboard, the queue and the coverage page."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from starlette.responses import Response

from generator.errors import NotFoundError
from generator.review import workflow as wf
from generator.review.records import LessonState, User
from generator.web import i18n
from generator.web.context import (
    current_user,
    flash,
    page_user,
    redirect,
    render,
    safe_next,
    ui_lang,
    web,
)
from generator.web.security import client_address, verify_csrf

if TYPE_CHECKING:
    from generator.review.store import ReviewStore

router = APIRouter(dependencies=[Depends(verify_csrf)], include_in_schema=False)

PAGE_SIZE = 50
LIST_LIMIT = 20
LESSON_LANGS = ("vi", "en")


# -- sign-in --------------------------------------------------------------------------------------
@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:
    """The sign-in form (signed-in users go on)."""
    if current_user(request) is not None:
        return redirect(safe_next(next))
    return render(request, "login.html", next=safe_next(next), name="", error=None)


@router.post("/login")
def login(request: Request, name: Annotated[str, Form(max_length=200)] = "",
          password: Annotated[str, Form(max_length=1000)] = "",
          next: Annotated[str, Form()] = "/") -> Response:
    """Check the password (argon2, in the store). Each attempt is counted in the store before the check;
    past the limit an account waits longer after each failure, and one address has a larger allowance."""
    from generator.review.access import begin_sign_in, end_sign_in, open_session

    ctx, t = web(request), i18n.translator(ui_lang(request))
    name, address = name.strip(), client_address(request)
    wait, attempt = begin_sign_in(ctx.store, name, address, ctx.limits)
    if attempt is None:
        minutes = max(1, round(wait / 60))
        return render(request, "login.html", status_code=429, headers={"Retry-After": str(int(wait) + 1)},
                      next=safe_next(next), name=name,
                      error=i18n.ui_text(request, "Too many failed attempts. Please try again in about {minutes} "
                                                  "minutes.",
                                     minutes=minutes))
    user = ctx.store.verify_password(name, password) if name and password else None
    end_sign_in(ctx.store, name, attempt, ok=user is not None)
    if user is None:
        return render(request, "login.html", status_code=401, next=safe_next(next), name=name,
                      error=i18n.ui_text(request, "Wrong user name or password."))
    request.session.clear()  # a fresh session (and CSRF token) for the signed-in user
    request.session["sid"] = open_session(ctx.store, user.name, address)
    flash(request, "ok", i18n.ui_text(request, "Signed in as {name} ({role}).", name=user.name,
                                  role=t(f"role_{user.role}")))
    return redirect(safe_next(next))


@router.post("/logout")
def logout(request: Request, everywhere: Annotated[str, Form()] = "") -> Response:
    """End this browser's session (with ``everywhere``, every session of the user)."""
    from generator.review.access import close_session, close_sessions

    ctx = web(request)
    user = current_user(request)
    sid = request.session.get("sid")
    if everywhere and user is not None:
        close_sessions(ctx.store, user.name)
    elif isinstance(sid, str) and sid:
        close_session(ctx.store, sid)
    request.session.clear()
    return redirect("/login")


# -- dashboard ------------------------------------------------------------------------------------
def waiting_for(store: ReviewStore, user: User, lessons: list[LessonState]) -> list[LessonState]:
    """In-review lessons this user may decide on (under four-eyes, not those whose version they made)."""
    out: list[LessonState] = []
    for s in lessons:
        if len(out) >= LIST_LIMIT:
            break
        if not store.four_eyes or store.get_version(s.id).author != user.name:
            out.append(s)
    return out


@router.get("/")
def dashboard(request: Request, user: Annotated[User, Depends(page_user)]) -> Response:
    """Counts per status, what waits for this user, and outdated lessons."""
    ctx = web(request)
    counts = ctx.store.counts()
    statuses = [s.value for s in wf.Status]
    waiting: list[LessonState] = []
    if user.role in (wf.Role.REVIEWER, wf.Role.ADMIN):
        waiting = waiting_for(ctx.store, user, ctx.store.list_lessons(status=wf.Status.IN_REVIEW))
    to_revise = []
    if user.role in (wf.Role.EDITOR, wf.Role.ADMIN):
        to_revise = ctx.store.list_lessons(status=wf.Status.CHANGES_REQUESTED)[:LIST_LIMIT]
    outdated = ctx.store.list_lessons(outdated_only=True, library=ctx.library)
    return render(request, "dashboard.html", nav="dashboard", counts=counts, statuses=statuses,
                  total=sum(counts.values()), waiting=waiting, to_revise=to_revise,
                  outdated=outdated[:LIST_LIMIT], outdated_total=len(outdated), groups=ctx.library.groups)


# -- queue ----------------------------------------------------------------------------------------
def _opt(value: str | None) -> str | None:
    return value.strip() or None if value else None


@router.get("/queue")
def queue(request: Request, user: Annotated[User, Depends(page_user)],
          status: str | None = None, framework: str | None = None, competence: str | None = None,
          level: str | None = None, group: str | None = None, language: str | None = None,
          q: Annotated[str | None, Query(max_length=200)] = None, outdated: str | None = None,
          page: Annotated[int, Query(ge=1, le=100_000)] = 1) -> Response:
    """Lessons matching the filters, with search, a page at a time."""
    ctx = web(request)
    lvl = int(level) if level and level.isdigit() else None
    filters = {"status": _opt(status), "framework": _opt(framework), "competence": _opt(competence),
               "level": lvl, "group": _opt(group), "language": _opt(language)}
    if filters["status"] not in (None, *[s.value for s in wf.Status]):
        raise NotFoundError.unknown("status", status, [s.value for s in wf.Status])
    found = ctx.store.list_lessons(**filters, search=_opt(q), outdated_only=bool(outdated),  # type: ignore[arg-type]
                                   library=ctx.library)
    pages = max(1, -(-len(found) // PAGE_SIZE))
    page = min(page, pages)
    codes = sorted({c.code for fw in ctx.library.frameworks.values() for c in fw.competences},
                   key=lambda c: [int(x) if x.isdigit() else x for x in c.split(".")])
    shown = found[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
    return render(request, "queue.html", nav="queue", lessons=shown, total=len(found), page=page, pages=pages,
                  filters=filters, q=q or "", outdated=bool(outdated),
                  statuses=[s.value for s in wf.Status], frameworks=sorted(ctx.library.frameworks),
                  competences=codes, levels=list(range(1, 9)), groups=ctx.library.groups,
                  lesson_langs=LESSON_LANGS)


# -- coverage -------------------------------------------------------------------------------------
@router.get("/coverage")
def coverage(request: Request, user: Annotated[User, Depends(page_user)], framework: str | None = None,
             language: str | None = None, level: str | None = None, group: str | None = None) -> Response:
    """One framework's competences × groups: each level approved, in review, changes requested or missing."""
    from generator.web.coverage import STATES, build_coverage

    ctx = web(request)
    frameworks = sorted(ctx.library.frameworks)
    default = "vn-dcf-2025" if "vn-dcf-2025" in frameworks else frameworks[0]
    fw = framework if framework in frameworks else default
    lang = language if language in LESSON_LANGS else "vi"
    lvl = int(level) if level and level.isdigit() else None
    grp = group if group in ctx.library.groups else None
    cov = build_coverage(ctx.store, ctx.library, fw, lang, levels=[lvl] if lvl else None,
                         groups=[grp] if grp else None, ui_lang=ui_lang(request))
    return render(request, "coverage.html", nav="coverage", cov=cov, states=STATES, frameworks=frameworks,
                  framework=ctx.library.framework(fw), level=lvl, group=grp, groups=ctx.library.groups,
                  lesson_langs=LESSON_LANGS, all_levels=[lv.level for lv in ctx.library.framework(fw).levels])
