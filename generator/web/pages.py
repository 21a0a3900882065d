"""Sign-in, the dashboard, the queue and the coverage page."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from markupsafe import Markup
from starlette.responses import Response

from generator.review import workflow as wf
from generator.review.records import LessonState, User
from generator.review.store.lists import LessonFilter
from generator.web import i18n
from generator.web.context import (
    current_user,
    flash,
    page_user,
    redirect,
    render,
    safe_next,
    text_helpers,
    ui_lang,
    web,
)
from generator.web.pagecache import cached_page, page_key
from generator.web.security import client_address, verify_csrf

if TYPE_CHECKING:
    from generator.frameworks import Library

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


# -- lists ----------------------------------------------------------------------------------------
def lesson_items(request: Request, lessons: list[LessonState]) -> Markup:
    """The lessons as the list the pages show, rendered once for the same lessons in the same state and
    interface language (rendering is most of a list page's time; the key is what the items show)."""
    ctx, ui = web(request), ui_lang(request)
    key = ("items", ui, ctx.library_generation,
           tuple((s.id, s.row_version, s.status, s.current_version, s.title, s.group, s.level, tuple(s.outdated))
                 for s in lessons))
    html = ctx.fragments.get(key)
    if html is None:
        html = Markup(ctx.templates.get_template("_lesson_items.html").render(
            lessons=lessons, groups=ctx.library.groups, **text_helpers(ui)))
        ctx.fragments.put(key, html)
    return html


# -- dashboard ------------------------------------------------------------------------------------
@router.get("/")
def dashboard(request: Request) -> Response:
    """Counts per status (one grouped query), what waits for this user, and outdated lessons: each list
    a short page from the store, never the whole store (the page kept while nothing in it changed)."""
    user = page_user(request)  # not a dependency: one trip to the thread pool per list page, not two
    return cached_page(request, page_key(request, user), lambda: _dashboard(request, user))


def _dashboard(request: Request, user: User) -> Response:
    ctx = web(request)
    store = ctx.store
    counts = store.counts()
    statuses = [s.value for s in wf.Status]
    outdated = store.lesson_page(LessonFilter(outdated_only=True), ctx.library, limit=LIST_LIMIT)
    waiting: list[LessonState] = []
    if user.role in (wf.Role.REVIEWER, wf.Role.ADMIN):
        # under four-eyes, not those whose current version they made
        mine = user.name if store.four_eyes else None
        waiting = store.list_lessons(LessonFilter.of(wf.Status.IN_REVIEW, not_author=mine), limit=LIST_LIMIT)
    to_revise: list[LessonState] = []
    if user.role in (wf.Role.EDITOR, wf.Role.ADMIN):
        to_revise = store.list_lessons(LessonFilter.of(wf.Status.CHANGES_REQUESTED), limit=LIST_LIMIT)
    return render(request, "dashboard.html", nav="dashboard", counts=counts, statuses=statuses,
                  total=sum(counts.values()), waiting=waiting, to_revise=to_revise,
                  outdated=outdated.items, outdated_total=outdated.total, groups=ctx.library.groups,
                  items_waiting=lesson_items(request, waiting), items_to_revise=lesson_items(request, to_revise),
                  items_outdated=lesson_items(request, outdated.items))


# -- queue ----------------------------------------------------------------------------------------
def _opt(value: str | None) -> str | None:
    return value.strip() or None if value else None


@router.get("/queue")
def queue(request: Request, status: str | None = None, framework: str | None = None, competence: str | None = None,
          level: str | None = None, group: str | None = None, language: str | None = None,
          q: Annotated[str | None, Query(max_length=200)] = None, outdated: str | None = None,
          page: Annotated[int, Query(ge=1, le=100_000)] = 1) -> Response:
    """Lessons matching the filters, with search, a page at a time (filtered and paged by the store)."""
    user = page_user(request)
    return cached_page(request, page_key(request, user),
                       lambda: _queue(request, status, framework, competence, level, group, language, q, outdated,
                                      page))


def _queue(request: Request, status: str | None, framework: str | None, competence: str | None,
           level: str | None, group: str | None, language: str | None, q: str | None, outdated: str | None,
           page: int) -> Response:
    ctx = web(request)
    lvl = int(level) if level and level.isdigit() else None
    filters: dict[str, Any] = {"status": _opt(status), "framework": _opt(framework),
                               "competence": _opt(competence), "level": lvl, "group": _opt(group),
                               "language": _opt(language)}
    flt = LessonFilter.of(**filters, search=_opt(q), outdated_only=bool(outdated))  # an unknown status: 404
    found = ctx.store.lesson_page(flt, ctx.library, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    if page > found.pages:  # past the end: show the last page
        page = found.pages
        found = ctx.store.lesson_page(flt, ctx.library, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    return render(request, "queue.html", nav="queue", lessons=found.items, items=lesson_items(request, found.items),
                  total=found.total, page=page,
                  pages=found.pages, filters=filters, q=q or "", outdated=bool(outdated),
                  statuses=[s.value for s in wf.Status], frameworks=sorted(ctx.library.frameworks),
                  competences=_competence_codes(ctx.library), levels=list(range(1, 9)),
                  groups=ctx.library.groups, lesson_langs=LESSON_LANGS)


def _competence_codes(library: Library) -> list[str]:
    """Every competence code of every framework, in outline order (for the queue's filter)."""
    return sorted({c.code for fw in library.frameworks.values() for c in fw.competences},
                  key=lambda c: [int(x) if x.isdigit() else x for x in c.split(".")])


# -- coverage -------------------------------------------------------------------------------------
@router.get("/coverage")
def coverage(request: Request, framework: str | None = None, language: str | None = None,
             level: str | None = None, group: str | None = None) -> Response:
    """One framework's competences × groups: each level approved, in review, changes requested or missing."""
    user = page_user(request)
    return cached_page(request, page_key(request, user), lambda: _coverage(request, framework, language, level,
                                                                           group))


def _coverage(request: Request, framework: str | None, language: str | None, level: str | None,
              group: str | None) -> Response:
    from generator.web.coverage import STATES, build_coverage

    ctx = web(request)
    frameworks = sorted(ctx.library.frameworks)
    default = "vn-dcf-2025" if "vn-dcf-2025" in frameworks else frameworks[0]
    fw = framework if framework in frameworks else default
    lang = language if language in LESSON_LANGS else "vi"
    lvl = int(level) if level and level.isdigit() else None
    grp = group if group in ctx.library.groups else None
    ui = ui_lang(request)
    key = ("coverage", ctx.store.change_marker(), ctx.library_generation, fw, lang, lvl, grp, ui)
    matrix = ctx.fragments.get(key)
    if matrix is None:  # the matrix is the page's bulk (thousands of cells): rendered once per change
        cov = build_coverage(ctx.store, ctx.library, fw, lang, levels=[lvl] if lvl else None,
                             groups=[grp] if grp else None, ui_lang=ui)
        matrix = Markup(ctx.templates.get_template("_coverage_matrix.html").render(
            cov=cov, states=STATES, **text_helpers(ui)))
        ctx.fragments.put(key, matrix)
    return render(request, "coverage.html", nav="coverage", fw_id=fw, lesson_lang=lang, matrix=matrix,
                  frameworks=frameworks,
                  framework=ctx.library.framework(fw), level=lvl, group=grp, groups=ctx.library.groups,
                  lesson_langs=LESSON_LANGS, all_levels=[lv.level for lv in ctx.library.framework(fw).levels])
