"""The JSON API under ``/api``: the same reads and decisions as the pages, for a learning platform.

Authentication is a bearer token only (``hocvu users token NAME``): no cookies, so no CSRF. A missing or
wrong token is 401; a role that may not act is 403; errors are ``{"error": kind, "detail": message}``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field, TypeAdapter
from starlette.responses import FileResponse, Response

from generator.errors import DataError, TransitionError
from generator.review import workflow as wf
from generator.review.records import Comment, Event, LessonState, User, VersionRecord
from generator.review.store.lists import LessonFilter
from generator.web.context import allow, web
from generator.web.pagecache import cached_page, page_key
from generator.web.security import FILE_CSP

_bearer = HTTPBearer(auto_error=False, description="An API token from `hocvu users token NAME`.")


class ApiAuthError(Exception):
    """No token, or one that belongs to nobody (401)."""


def api_user(request: Request,
             creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> User:
    """The user the bearer token belongs to; 401 otherwise (a dependency; a route may also call it)."""
    from generator.review.tokens import user_for_token

    if creds is None or creds.scheme.lower() != "bearer":
        raise ApiAuthError("an API token is required: send 'Authorization: Bearer <token>'")
    user = user_for_token(web(request).store, creds.credentials)
    if user is None:
        raise ApiAuthError("the API token is not valid (it may have been replaced or revoked)")
    return user


router = APIRouter(prefix="/api", tags=["api"])
ApiUser = Annotated[User, Depends(api_user)]
#: The bearer credentials alone (documented as the route's security like ``ApiUser``): a route that takes
#: these and calls ``api_user`` itself looks the token up in its own thread, saving a trip to the pool.
Bearer = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


# -- models ---------------------------------------------------------------------------------------
class UserOut(BaseModel):
    """A user."""

    name: str
    role: str


class LessonOut(BaseModel):
    """A lesson and where its current version stands."""

    id: str
    framework: str
    competence: str
    level: int
    group: str
    language: str
    title: str
    status: str
    current_version: int
    row_version: int = Field(description="Pass back as expected_version: a decision on a lesson that changed "
                                         "since is refused (409).")
    created_at: datetime
    updated_at: datetime
    approved_by: str | None = None
    approved_at: datetime | None = None
    outdated: list[str] = []
    author: str = Field(default="", description="Who made the current version.")
    checks_passed: bool = Field(default=True, description="Every check of the current version passed.")

    @classmethod
    def of(cls, s: LessonState) -> LessonOut:
        """From a store record."""
        return cls(**{k: getattr(s, k) for k in cls.model_fields})


class CheckOut(BaseModel):
    """A quality check result."""

    name: str
    passed: bool
    message: str


class ArtifactOut(BaseModel):
    """A file of a version."""

    name: str
    sha256: str
    size: int
    url: str


class VersionOut(BaseModel):
    """One immutable version."""

    number: int
    kind: str
    parent_version: int | None
    author: str
    created_at: datetime
    content_hash: str
    status: str
    current: bool
    backend: str
    model: str
    checks: list[CheckOut]
    artifacts: list[ArtifactOut]
    lesson: dict[str, Any] | None = None

    @classmethod
    def of(cls, v: VersionRecord, *, full: bool = False) -> VersionOut:
        """From a store record (``full``: with the lesson content)."""
        from urllib.parse import quote

        base = f"/api/lessons/{quote(v.lesson_id)}/versions/{v.number}/files/"
        return cls(number=v.number, kind=v.kind, parent_version=v.parent_version, author=v.author,
                   created_at=v.created_at, content_hash=v.content_hash, status=v.status, current=v.current,
                   backend=v.backend, model=v.model,
                   checks=[CheckOut(name=c.name, passed=c.passed, message=c.message) for c in v.checks],
                   artifacts=[ArtifactOut(name=a.name, sha256=a.sha256, size=a.size, url=base + quote(a.name))
                              for a in v.artifacts.values()],
                   lesson=v.lesson.model_dump(mode="json") if full else None)


class EventOut(BaseModel):
    """One entry of a lesson's history."""

    id: int
    version: int
    action: str
    actor: str
    created_at: datetime
    from_status: str | None = None
    to_status: str | None = None
    comment: str | None = None
    section: str | None = None

    @classmethod
    def of(cls, e: Event) -> EventOut:
        """From a store record."""
        return cls(**{k: getattr(e, k) for k in cls.model_fields})


class CommentOut(BaseModel):
    """A reviewer's comment."""

    id: int
    version: int
    actor: str
    action: str
    text: str
    section: str | None
    created_at: datetime
    open: bool

    @classmethod
    def of(cls, c: Comment) -> CommentOut:
        """From a store record."""
        return cls(**{k: getattr(c, k) for k in cls.model_fields})


class LessonDetail(BaseModel):
    """A lesson, its current version with content, and its comments."""

    lesson: LessonOut
    version: VersionOut
    comments: list[CommentOut]


class DecisionIn(BaseModel):
    """A review decision on the current version."""

    comment: str | None = Field(default=None, max_length=5000,
                                description="Required to request changes or reject.")
    expected_version: int | None = Field(default=None, ge=0, le=2**31,
                                         description="The lesson's row_version you read.")
    version: int = Field(ge=1, le=2**31, description="The version number you reviewed: a decision names the "
                         "version it is for, and is refused if another version became current since.")
    resolve_open: bool = Field(default=False, description="Approve although comments are still open, "
                               "marking them resolved (otherwise an approval with open comments is refused).")
    section: str | None = Field(default=None, description="The section a change request is about.")


class CommentIn(BaseModel):
    """A comment on a lesson."""

    text: str = Field(min_length=1, max_length=5000)
    section: str | None = None


class SectionDiffOut(BaseModel):
    """One changed section between two versions."""

    section: str
    lines: list[str]


class ReleaseOut(BaseModel):
    """A release."""

    name: str
    created_at: datetime
    created_by: str
    lessons: int
    manifest_sha256: str


# -- reads ----------------------------------------------------------------------------------------
@router.get("/me", response_model=UserOut)
def me(user: ApiUser) -> UserOut:
    """Who the token belongs to."""
    return UserOut(name=user.name, role=user.role)


@router.get("/counts", response_model=dict[str, int])
def counts(request: Request, user: ApiUser) -> dict[str, int]:
    """Number of lessons per status."""
    return web(request).store.counts()


#: ``/api/lessons`` pages: the default and the largest page.
PAGE_DEFAULT, PAGE_MAX = 100, 1000


@router.get("/lessons", response_model=list[LessonOut])
def list_lessons(request: Request, creds: Bearer, status: str | None = None,
                 framework: str | None = None, competence: str | None = None, level: int | None = None,
                 group: str | None = None, language: str | None = None,
                 q: Annotated[str | None, Query(max_length=200)] = None, outdated: bool = False,
                 sort: Annotated[str, Query(description="id, updated (newest first), title or status")] = "id",
                 limit: Annotated[int, Query(ge=1, le=PAGE_MAX)] = PAGE_DEFAULT,
                 offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0) -> Response:
    """Lessons matching every filter given (``q`` searches ids and titles), ``limit`` at a time from
    ``offset``; the ``X-Total-Count`` header says how many match, ``Link: <…>; rel="next"`` where the
    next page is."""
    api_user(request, creds)
    return cached_page(request, page_key(request, None), lambda: _lesson_list(
        request, LessonFilter.of(status, framework=framework, competence=competence, level=level, group=group,
                                 language=language, search=q, outdated_only=outdated), sort, limit, offset))


def _lesson_list(request: Request, flt: LessonFilter, sort: str, limit: int, offset: int) -> Response:
    """The JSON of one page of lessons, serialized once by pydantic (no second validation pass)."""
    ctx = web(request)
    found = ctx.store.lesson_page(flt, library=ctx.library, sort=sort, limit=limit, offset=offset)
    headers = {"X-Total-Count": str(found.total)}
    if offset + limit < found.total:
        nxt = request.url.include_query_params(offset=offset + limit, limit=limit)
        headers["Link"] = f'<{nxt.path}?{nxt.query}>; rel="next"'
    body = _LESSONS.dump_json([LessonOut.of(s) for s in found.items])
    return Response(body, media_type="application/json", headers=headers)


_LESSONS = TypeAdapter(list[LessonOut])


@router.get("/lessons/{lesson_id}", response_model=LessonDetail)
def get_lesson(request: Request, lesson_id: str, user: ApiUser) -> LessonDetail:
    """A lesson with its current version's content, checks, files and the comment thread."""
    ctx = web(request)
    state = ctx.store.lesson_state(lesson_id, ctx.library)
    version = VersionOut.of(ctx.store.get_version(lesson_id), full=True)
    return LessonDetail(lesson=LessonOut.of(state), version=version,
                        comments=[CommentOut.of(c) for c in ctx.store.comments(lesson_id, open_only=False)])


@router.get("/lessons/{lesson_id}/versions", response_model=list[VersionOut])
def list_versions(request: Request, lesson_id: str, user: ApiUser) -> list[VersionOut]:
    """Every version, oldest first (without content)."""
    return [VersionOut.of(v) for v in web(request).store.versions(lesson_id)]


@router.get("/lessons/{lesson_id}/versions/{number}", response_model=VersionOut)
def get_version(request: Request, lesson_id: str, number: int, user: ApiUser) -> VersionOut:
    """One version with its content."""
    return VersionOut.of(web(request).store.get_version(lesson_id, number), full=True)


@router.get("/lessons/{lesson_id}/versions/{number}/files/{name}", response_class=FileResponse)
def get_file(request: Request, lesson_id: str, number: int, name: str, user: ApiUser) -> FileResponse:
    """A file of the version, by format (audio, handout, ...) or recorded file name."""
    from generator.web.operations import checked_path, find_artifact

    art = find_artifact(web(request).store.get_version(lesson_id, number), name)
    return FileResponse(checked_path(art), filename=f"{lesson_id}.v{number}.{art.name}",
                        headers={"Content-Security-Policy": FILE_CSP})


@router.get("/lessons/{lesson_id}/history", response_model=list[EventOut])
def history(request: Request, lesson_id: str, user: ApiUser) -> list[EventOut]:
    """Every event of the lesson, oldest first."""
    return [EventOut.of(e) for e in web(request).store.history(lesson_id)]


@router.get("/lessons/{lesson_id}/diff", response_model=list[SectionDiffOut])
def diff(request: Request, lesson_id: str, a: int, b: int, user: ApiUser) -> list[SectionDiffOut]:
    """The sections that differ between versions ``a`` and ``b``, as unified diffs."""
    from generator.review.diff import diff_lessons

    store = web(request).store
    va, vb = store.get_version(lesson_id, a), store.get_version(lesson_id, b)
    return [SectionDiffOut(section=d.section, lines=d.lines)
            for d in diff_lessons(va.lesson, vb.lesson, old_label=f"v{a}", new_label=f"v{b}") if d.changed]


@router.get("/coverage")
def coverage(request: Request, user: ApiUser, framework: str = "vn-dcf-2025", language: str = "vi",
             level: int | None = None, group: str | None = None) -> dict[str, Any]:
    """Competences × groups of a framework, each level approved / in_review / changes_requested / missing."""
    from generator.web.coverage import build_coverage

    ctx = web(request)
    if group is not None:
        ctx.library.group(group)
    cov = build_coverage(ctx.store, ctx.library, framework, language, levels=[level] if level else None,
                         groups=[group] if group else None)
    return cov.to_dict()


@router.get("/releases", response_model=list[ReleaseOut])
def releases(request: Request, user: ApiUser) -> list[ReleaseOut]:
    """Every release, oldest first."""
    return [ReleaseOut(name=r.name, created_at=r.created_at, created_by=r.created_by, lessons=len(r.items),
                       manifest_sha256=r.manifest_sha256) for r in web(request).store.list_releases()]


# -- decisions ------------------------------------------------------------------------------------
def _decide(request: Request, lesson_id: str, user: User, action: wf.Action, body: DecisionIn) -> LessonOut:
    allow(user, action)
    try:
        wf.require_comment(action, body.comment)
    except TransitionError as exc:
        raise DataError(str(exc)) from exc
    store = web(request).store
    kw: dict[str, Any] = {"expected_version": body.expected_version, "version": body.version}
    if action == wf.Action.APPROVE:
        state = store.approve(lesson_id, user.name, body.comment, resolve_open=body.resolve_open, **kw)
    elif action == wf.Action.REQUEST_CHANGES:
        state = store.request_changes(lesson_id, user.name, body.comment or "", section=body.section, **kw)
    else:
        state = store.reject(lesson_id, user.name, body.comment or "", **kw)
    return LessonOut.of(state)


@router.post("/lessons/{lesson_id}/approve", response_model=LessonOut)
def approve(request: Request, lesson_id: str, user: ApiUser, body: DecisionIn) -> LessonOut:
    """Approve the version you reviewed (reviewers and admins; never by someone who wrote any of its text
    since the last approval, under four-eyes)."""
    return _decide(request, lesson_id, user, wf.Action.APPROVE, body)


@router.post("/lessons/{lesson_id}/request-changes", response_model=LessonOut)
def request_changes(request: Request, lesson_id: str, user: ApiUser, body: DecisionIn) -> LessonOut:
    """Send the current version back with a comment (required)."""
    return _decide(request, lesson_id, user, wf.Action.REQUEST_CHANGES, body)


@router.post("/lessons/{lesson_id}/reject", response_model=LessonOut)
def reject(request: Request, lesson_id: str, user: ApiUser, body: DecisionIn) -> LessonOut:
    """Reject the current version with a comment (required)."""
    return _decide(request, lesson_id, user, wf.Action.REJECT, body)


@router.post("/lessons/{lesson_id}/comments", response_model=CommentOut, status_code=201)
def add_comment(request: Request, lesson_id: str, user: ApiUser, body: CommentIn) -> CommentOut:
    """A comment that changes no status."""
    allow(user, wf.Action.COMMENT)
    comment = web(request).store.add_comment(lesson_id, user.name, body.text, section=body.section)
    return CommentOut.of(comment)

