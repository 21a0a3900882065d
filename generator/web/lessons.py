"""The lesson page and its actions: decide (approve, request changes, reject), comment, edit one section,
revise a section with the comments; the sandboxed lesson preview and the version's own downloads."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from starlette.responses import FileResponse, HTMLResponse, Response

from generator.errors import (
    CheckError,
    ConflictError,
    DataError,
    NotFoundError,
    PermissionError_,
    ReviewError,
    TransitionError,
)
from generator.i18n import Message
from generator.lesson import SECTIONS, Lesson
from generator.review import workflow as wf
from generator.review.notes import describe as describe_note
from generator.review.records import User
from generator.web import i18n
from generator.web.context import action_user, allow, flash, page_user, redirect, render, ui_lang, web
from generator.web.operations import (
    TEXT_SECTIONS,
    checked_path,
    edit_section,
    find_artifact,
    section_form_text,
    version_downloads,
)
from generator.web.security import FILE_CSP, SANDBOX_CSP, verify_csrf

router = APIRouter(prefix="/lessons", dependencies=[Depends(verify_csrf)], include_in_schema=False)

Comment = Annotated[str, Form(max_length=5000)]
Version = Annotated[int, Form(ge=0)]


def _lesson_url(lesson_id: str, anchor: str = "") -> str:
    from urllib.parse import quote

    return f"/lessons/{quote(lesson_id)}" + (f"#{anchor}" if anchor else "")


@router.get("/{lesson_id}")
def lesson_page(request: Request, lesson_id: str, user: Annotated[User, Depends(page_user)],
                version: Annotated[int | None, Query(ge=1)] = None,
                a: Annotated[int | None, Query(ge=1)] = None,
                b: Annotated[int | None, Query(ge=1)] = None) -> Response:
    """Everything a reviewer needs about one version, and the actions the user's role allows."""
    return _lesson_view(request, lesson_id, user, version, a, b)


def _lesson_view(request: Request, lesson_id: str, user: User, version: int | None = None, a: int | None = None,
                 b: int | None = None, *, error: str | None = None, typed: dict[str, str] | None = None,
                 status_code: int = 200) -> Response:
    """The lesson page; after a refused decision, with the reason beside the form and what was typed kept."""
    from generator.review.diff import diff_lessons

    ctx = web(request)
    state = ctx.store.lesson_state(lesson_id, ctx.library)
    versions = ctx.store.versions(lesson_id)
    by_number = {v.number: v for v in versions}
    if version is not None and version not in by_number:
        raise NotFoundError.unknown(Message("version of {lesson_id}", lesson_id=lesson_id), version, sorted(by_number))
    shown = by_number[version or state.current_version]
    diff, diff_a, diff_b = None, None, None
    if len(versions) > 1:
        n = shown.number
        default_a, default_b = (shown.parent_version or n - 1, n) if n > 1 else (1, 2)
        diff_a = a if a in by_number else default_a
        diff_b = b if b in by_number else default_b
        if diff_a in by_number and diff_a != diff_b:
            diff = [d for d in diff_lessons(by_number[diff_a].lesson, by_number[diff_b].lesson,
                                            old_label=f"v{diff_a}", new_label=f"v{diff_b}") if d.changed]
    lesson = shown.lesson
    history = ctx.store.history(lesson_id)
    # What changed since the last change request: the first thing a reviewer coming back wants to see.
    asked = next((e.version for e in reversed(history) if e.action == wf.Action.REQUEST_CHANGES), None)
    since_request = None
    if asked is not None and asked in by_number and asked < shown.number:
        changed = [d.section for d in diff_lessons(by_number[asked].lesson, shown.lesson) if d.changed]
        since_request = (asked, changed)
    comments = ctx.store.comments(lesson_id, open_only=False)
    # The section the newest open comment is about: where an editor most likely starts.
    suggested = next((c.section for c in reversed(comments) if c.open and c.section), None)
    is_author = shown.author == user.name and ctx.store.four_eyes
    from generator.review.verification import content_status

    return render(
        request, "lesson.html", status_code=status_code, decision_error=error, typed=typed or {},
        nav="queue", state=state, v=shown, lesson=lesson, versions=versions,
        is_current=shown.number == state.current_version, history=history, since_request=since_request,
        comments=comments, suggested=suggested, downloads=version_downloads(shown),
        has_audio="narration.mp3" in shown.artifacts, has_video="lesson.mp4" in shown.artifacts,
        has_captions="captions.vtt" in shown.artifacts, cited=set(lesson.cited_source_ids()), diff=diff,
        claims=cited_claims_view(lesson),
        diff_a=diff_a, diff_b=diff_b, sections=SECTIONS, is_author=is_author,
        group=ctx.library.groups.get(lesson.group), decidable=state.status == wf.Status.IN_REVIEW,
        derivable=state.status in wf.DERIVABLE, content=content_status(ctx.store, ctx.library, lesson),
    )


def cited_claims_view(lesson: Lesson) -> list[dict[str, Any]]:
    """Each claim that cites passages, with the passages, for the reviewer to compare side by side."""
    by_id = {s.id: s for s in lesson.sources}
    claims = [("key_points", i, k.text, k.sources) for i, k in enumerate(lesson.key_points, 1)]
    claims += [("steps", i, f"{s.action} {s.expect}", s.sources) for i, s in enumerate(lesson.steps, 1)]
    return [{"section": section, "n": n, "text": text, "sources": [by_id[i] for i in ids if i in by_id]}
            for section, n, text, ids in claims if ids]


@router.get("/{lesson_id}/versions/{number}/page")
def lesson_preview(request: Request, lesson_id: str, number: int,
                   user: Annotated[User, Depends(page_user)]) -> HTMLResponse:
    """The rendered lesson page as learners see it, served into a sandboxed frame (own opaque origin)."""
    from generator.render import render_page_html

    ctx = web(request)
    v = ctx.store.get_version(lesson_id, number)
    html = render_page_html(v.lesson, ctx.library.group(v.lesson.group), {}, None)
    return HTMLResponse(html, headers={"Content-Security-Policy": SANDBOX_CSP, "Cache-Control": "no-store"})


#: Files the review page plays in place (audio, video, captions); the others download.
PLAYED = (".mp3", ".mp4", ".vtt")


@router.get("/{lesson_id}/versions/{number}/files/{name}")
def download(request: Request, lesson_id: str, number: int, name: str,
             user: Annotated[User, Depends(page_user)]) -> FileResponse:
    """One of the version's own files, by format or recorded name; never a path from the request."""
    ctx = web(request)
    art = find_artifact(ctx.store.get_version(lesson_id, number), name)
    path = checked_path(art)
    return FileResponse(path, filename=f"{lesson_id}.v{number}.{art.name}",
                        content_disposition_type="inline" if art.name.endswith(PLAYED) else "attachment",
                        headers={"Content-Security-Policy": FILE_CSP,
                                 "Cache-Control": "private, max-age=300"})


# -- decisions ------------------------------------------------------------------------------------
def _decide(request: Request, lesson_id: str, user: User, action: wf.Action, comment: str,
            expected_version: int, version: int, section: str | None = None, resolve_open: bool = False) -> Response:
    ctx, t = web(request), i18n.translator(ui_lang(request))
    allow(user, action)
    typed = {"comment": comment, "section": section or ""}
    if action in wf.NEEDS_COMMENT and not comment.strip():  # said beside the form; what was typed stays
        return _lesson_view(request, lesson_id, user, typed=typed, status_code=422,
                            error=i18n.ui_text(request, "Write a comment: requesting changes or rejecting needs a "
                                                        "reason."))
    kw = {"expected_version": expected_version, "version": version}
    try:
        if action == wf.Action.APPROVE:
            ctx.store.approve(lesson_id, user.name, comment or None, resolve_open=resolve_open, **kw)
        elif action == wf.Action.REQUEST_CHANGES:
            ctx.store.request_changes(lesson_id, user.name, comment, section=section or None, **kw)
        else:
            ctx.store.reject(lesson_id, user.name, comment, **kw)
    except ReviewError as exc:  # the page again, with the reason and the comment kept
        if isinstance(exc, PermissionError_):
            raise
        status = 409 if isinstance(exc, ConflictError | TransitionError) else 400
        return _lesson_view(request, lesson_id, user, error=str(exc), typed=typed, status_code=status)
    flash(request, "ok", t(f"done_{action.value}", version=version))
    return redirect(_lesson_url(lesson_id))


@router.post("/{lesson_id}/approve")
def approve(request: Request, lesson_id: str, user: Annotated[User, Depends(action_user)],
            expected_version: Version, version: Version, comment: Comment = "",
            resolve_open: Annotated[str, Form(max_length=8)] = "") -> Response:
    """Approve the version reviewed (bound to its content hash); with comments still open, only when the
    reviewer ticks that they are dealt with."""
    return _decide(request, lesson_id, user, wf.Action.APPROVE, comment, expected_version, version,
                   resolve_open=bool(resolve_open))


@router.post("/{lesson_id}/verify-content")
def verify_content(request: Request, lesson_id: str, user: Annotated[User, Depends(action_user)],
                   version: Version) -> Response:
    """Record that the user checked the offline content this version was drafted from."""
    ctx = web(request)
    lesson = ctx.store.get_version(lesson_id, version or None).lesson
    ctx.store.verify_content(lesson.framework, lesson.competence, lesson.provenance.content_hash, user.name)
    flash(request, "ok", i18n.ui_text(request,
        "Recorded: the content of competence {competence} is verified.", competence=lesson.competence))
    return redirect(_lesson_url(lesson_id))


@router.post("/{lesson_id}/request-changes")
def request_changes(request: Request, lesson_id: str, user: Annotated[User, Depends(action_user)],
                    expected_version: Version, version: Version, comment: Comment = "",
                    section: Annotated[str, Form()] = "") -> Response:
    """Send the version back with a comment (required), optionally about one section."""
    return _decide(request, lesson_id, user, wf.Action.REQUEST_CHANGES, comment, expected_version, version,
                   section)


@router.post("/{lesson_id}/reject")
def reject(request: Request, lesson_id: str, user: Annotated[User, Depends(action_user)],
           expected_version: Version, version: Version, comment: Comment = "",
           confirm: Annotated[str, Form(max_length=8)] = "") -> Response:
    """Reject the version with a comment (required) — after a second step that asks whether the reviewer
    means it (a rejected lesson is not revised, only drafted anew); the comment typed is kept."""
    if not confirm:
        allow(user, wf.Action.REJECT)
        lesson = web(request).store.get_version(lesson_id, version or None).lesson
        return render(request, "confirm_reject.html", nav="queue", lesson_id=lesson_id, title=lesson.title,
                      expected_version=expected_version, version=version, comment=comment)
    return _decide(request, lesson_id, user, wf.Action.REJECT, comment, expected_version, version)


# -- comments -------------------------------------------------------------------------------------
@router.post("/{lesson_id}/comments")
def add_comment(request: Request, lesson_id: str, user: Annotated[User, Depends(action_user)],
                text: Comment = "", section: Annotated[str, Form()] = "") -> Response:
    """A comment that changes no status."""
    allow(user, wf.Action.COMMENT)
    web(request).store.add_comment(lesson_id, user.name, text, section=section or None)
    flash(request, "ok", i18n.ui_text(request, "Comment sent."))
    return redirect(_lesson_url(lesson_id, "comments"))


@router.post("/{lesson_id}/comments/{comment_id}/resolve")
def resolve_comment(request: Request, lesson_id: str, comment_id: int,
                    user: Annotated[User, Depends(action_user)]) -> Response:
    """Mark a comment resolved."""
    allow(user, wf.Action.RESOLVE)
    web(request).store.resolve_comment(lesson_id, comment_id, user.name)
    return redirect(_lesson_url(lesson_id, "comments"))


# -- editing --------------------------------------------------------------------------------------
def _edit_page(request: Request, lesson_id: str, section: str, text: str | None, error: str | None,
               status_code: int = 200) -> Response:
    ctx = web(request)
    state = ctx.store.lesson_state(lesson_id)
    v = ctx.store.get_version(lesson_id)
    if section not in SECTIONS:
        raise NotFoundError.unknown("section", section, SECTIONS)
    comments = [c for c in ctx.store.comments(lesson_id) if c.section in (None, section)]
    return render(request, "edit.html", status_code=status_code, nav="queue", state=state, v=v,
                  section=section, sections=SECTIONS,
                  text=section_form_text(v.lesson, section) if text is None else text,
                  is_text=section in TEXT_SECTIONS, error=error, comments=comments)


@router.get("/{lesson_id}/edit")
def edit_form(request: Request, lesson_id: str, user: Annotated[User, Depends(page_user)],
              section: str = "summary") -> Response:
    """The form to edit one section of the current version."""
    allow(user, "create")
    return _edit_page(request, lesson_id, section, None, None)


@router.post("/{lesson_id}/edit")
def edit(request: Request, lesson_id: str, user: Annotated[User, Depends(action_user)],
         section: Annotated[str, Form()], text: Annotated[str, Form(max_length=50_000)],
         expected_version: Version) -> Response:
    """Validate and check the edited section: a new version in review, or the form again with the reason."""
    allow(user, "create")
    try:
        done = edit_section(web(request), lesson_id, section, text, author=user.name,
                            expected_version=expected_version)
    except (DataError, CheckError) as exc:
        return _edit_page(request, lesson_id, section, text, str(exc), status_code=422)
    except (ConflictError, PermissionError_, TransitionError):
        raise
    except ReviewError as exc:  # e.g. nothing changed: show it beside the text
        return _edit_page(request, lesson_id, section, text, str(exc), status_code=400)
    t = i18n.translator(ui_lang(request))
    flash(request, "ok", i18n.ui_text(request, "Version {version} made (edited: {sections}); the lesson is back in "
                                      "review.",
                           version=done.version.record.number,
                           sections=", ".join(t(f"section_{c}") for c in done.changed)))
    return redirect(_lesson_url(lesson_id))


@router.post("/{lesson_id}/revise")
def revise(request: Request, lesson_id: str, user: Annotated[User, Depends(action_user)],
           section: Annotated[str, Form()], expected_version: Version) -> Response:
    """Regenerate one section (or all) from the open comments; a new version in review."""
    from generator.review.revise import revise_lesson

    allow(user, "create")
    ctx = web(request)
    state = ctx.store.lesson_state(lesson_id)
    if state.row_version != expected_version:
        raise ConflictError("{lesson_id} changed since you loaded it; nothing was changed — reload it and "
                            "decide again", lesson_id=lesson_id)
    done = revise_lesson(ctx.library, ctx.settings, ctx.store, ctx.make_backend(), lesson_id, section=section,
                         author=user.name, formats=ctx.formats, tts=ctx.tts, render=ctx.render)
    t = i18n.translator(ui_lang(request))
    flash(request, "ok", i18n.ui_text(request, "Version {version} made (revised “{section}” from {n} comments); the "
                                  "lesson is back in review.", version=done.version.record.number,
                                  section=t(f"section_{section}"), n=len(done.comments)))
    for note in done.notes:
        flash(request, "note", describe_note(note, ui_lang(request)))
    return redirect(_lesson_url(lesson_id))
