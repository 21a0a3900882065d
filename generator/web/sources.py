"""The Sources page (editors and admins): upload files into a collection, list and remove them, and
search a collection — the source library's own ingestion (``generator.retrieval``), with its per-file
outcome shown. Uploaded files are kept under ``<workspace>/sources/<collection>/`` (the library records
where each file came from)."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from starlette.datastructures import UploadFile
from starlette.responses import Response

from generator.errors import HocvuError, RetrievalError
from generator.i18n import N_
from generator.review.records import User
from generator.web import i18n
from generator.web.context import action_user, allow, flash, page_user, redirect, render, ui_lang, web
from generator.web.jobs import PERMISSION
from generator.web.security import verify_csrf

router = APIRouter(prefix="/sources", dependencies=[Depends(verify_csrf)], include_in_schema=False)

#: Largest file accepted by upload (bytes).
MAX_UPLOAD = 50 * 1024 * 1024
_SAFE = re.compile(r"[^\w.\- ]+", re.UNICODE)


def _store(request: Request) -> Any:
    from generator.retrieval.store import make_store

    return make_store(web(request).settings)


def _queue(request: Request) -> Any:
    from generator.jobs.queue import JobQueue

    return JobQueue(web(request).store.engine)


def upload_dir(request: Request, collection: str) -> Path:
    """Where a collection's uploaded files are kept."""
    return web(request).settings.workspace / "sources" / collection


def safe_file_name(name: str) -> str:
    """An uploaded file's name reduced to its last part, NFC, without path or control characters."""
    base = unicodedata.normalize("NFC", Path(name.replace("\\", "/")).name).strip()
    base = _SAFE.sub("_", base).lstrip(".")
    return base[:120]


def _page(request: Request, *, status_code: int = 200, report: Any = None, error: str | None = None,
          hits: list[Any] | None = None, q: str = "", collection: str = "default") -> Response:
    try:
        infos = _store(request).list()
    except HocvuError as exc:
        infos, error = [], error or str(exc)
    return render(request, "sources.html", status_code=status_code, nav="sources", infos=infos, report=report,
                  error=error, hits=hits, q=q, collection=collection,
                  changes=_queue(request).changes("source", limit=20))


@router.get("")
def sources_page(request: Request, user: Annotated[User, Depends(page_user)],
                 q: Annotated[str, Query(max_length=500)] = "", collection: str = "default") -> Response:
    """The collections and their files; with ``q``, the passages that best answer it."""
    allow(user, PERMISSION)
    hits = None
    error = None
    if q.strip():
        try:
            hits = _store(request).search(q, collection, 8)
        except HocvuError as exc:
            error = str(exc)
    return _page(request, hits=hits, q=q, collection=collection, error=error,
                 status_code=200 if error is None else 422)


@router.post("")
async def upload(request: Request, user: Annotated[User, Depends(action_user)]) -> Response:
    """Save the uploaded files into the collection's folder and add them to the library; every file's
    outcome (added, replaced, unchanged, skipped with its reason) is shown."""
    from generator.fsutil import write_bytes_atomic
    from generator.retrieval.store import _check_name

    allow(user, PERMISSION)
    t = i18n.translator(ui_lang(request))
    form = await request.form()
    collection = str(form.get("collection") or "default").strip()
    try:
        _check_name(collection)
    except RetrievalError as exc:
        return _page(request, error=str(exc), status_code=422, collection=collection)
    uploads = [u for u in form.getlist("files") if isinstance(u, UploadFile) and u.filename]
    if not uploads:
        return _page(request, error=t(N_("Choose at least one file.")), status_code=422, collection=collection)
    folder = upload_dir(request, collection)
    saved: list[Path] = []
    refused: list[tuple[str, str]] = []
    for u in uploads:
        name = safe_file_name(u.filename or "")
        data = await u.read(MAX_UPLOAD + 1)
        if not name:
            refused.append((u.filename or "?",
                            t(N_("The file name cannot be used; rename the file and upload it again."))))
        elif len(data) > MAX_UPLOAD:
            refused.append((name, t(N_("The file is larger than {mb} MB."), mb=MAX_UPLOAD // (1024 * 1024))))
        else:
            path = folder / name
            write_bytes_atomic(path, data)
            saved.append(path)
    report = None
    error = None
    if saved:
        try:
            report = _store(request).add(saved, collection)
        except HocvuError as exc:
            error = str(exc)
        else:
            for f in report.files:
                _queue(request).record_change("source", f"{collection}/{f.file}", user.name, f.status)
    outcome = {"collection": collection, "files": report.files if report else [], "refused": refused}
    bad = error is not None or (report is not None and len(report.skipped) == len(report.files)) or not saved
    return _page(request, report=outcome, error=error, collection=collection, status_code=422 if bad else 200)


@router.post("/remove")
def remove(request: Request, user: Annotated[User, Depends(action_user)],
           collection: Annotated[str, Form(max_length=100)], file: Annotated[str, Form(max_length=1000)]) -> Response:
    """Remove one file's passages from a collection (the uploaded copy goes too)."""
    allow(user, PERMISSION)
    t = i18n.translator(ui_lang(request))
    try:
        removed = _store(request).remove([file], collection)
    except HocvuError as exc:
        return _page(request, error=str(exc), status_code=422, collection=collection)
    kept = upload_dir(request, collection) / safe_file_name(file)
    for r in removed:
        _queue(request).record_change("source", f"{r.collection}/{r.file}", user.name, "removed")
    if kept.is_file():
        kept.unlink()
    flash(request, "ok", t(N_("Removed {file} ({n} passages)."), file=file, n=sum(r.passages for r in removed)))
    return redirect("/sources")
