"""Errors at the web boundary: hocvu's exception tree mapped to HTTP statuses, as a page or as JSON.

    NotFoundError 404 · PermissionError_ 403 · ConflictError 409 · TransitionError 409 (illegal now)
    DataError, CheckError 422 · other ReviewError 400 · PublishError 409 · BackendUnavailableError 503
    any other HocvuError 500 — always with the core's own message, which says what to do.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response

from generator.errors import (
    BackendUnavailableError,
    CheckError,
    ConflictError,
    DataError,
    HocvuError,
    NotFoundError,
    PermissionError_,
    PublishError,
    ReviewError,
    TransitionError,
)
from generator.web.context import NotSignedInError, redirect, render
from generator.web.security import CSRFError

log = logging.getLogger("hocvu.web")

#: (error class, status, kind) in lookup order: subclasses before their bases.
STATUS: tuple[tuple[type[HocvuError], int, str], ...] = (
    (NotFoundError, 404, "not_found"),
    (PermissionError_, 403, "forbidden"),
    (ConflictError, 409, "conflict"),
    (TransitionError, 409, "transition"),
    (DataError, 422, "invalid"),
    (CheckError, 422, "checks_failed"),
    (ReviewError, 400, "refused"),
    (PublishError, 409, "publish"),
    (BackendUnavailableError, 503, "backend_unavailable"),
)


def status_of(exc: HocvuError) -> tuple[int, str]:
    """The HTTP status and a short machine-readable kind for ``exc``."""
    for cls, status, kind in STATUS:
        if isinstance(exc, cls):
            return status, kind
    return 500, "error"


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/api"


def _page(request: Request, status: int, kind: str, message: str) -> Response:
    return render(request, "error.html", status_code=status, status=status, kind=kind, message=message,
                  back=request.headers.get("referer") if _same_site(request) else None)


def _same_site(request: Request) -> bool:
    ref = request.headers.get("referer") or ""
    return ref.startswith(str(request.base_url))


def _safe(text: object) -> str:
    """``text`` as a string that can be encoded (lone surrogates replaced)."""
    return str(text).encode("utf-8", "replace").decode("utf-8")


def _plain_errors(exc: RequestValidationError) -> list[dict[str, object]]:
    """Validation errors as where and what, without echoing the input (which may be bytes, an infinite
    number or a lone surrogate that cannot be written back as JSON)."""
    return [{"loc": [_safe(p) for p in e.get("loc", ())], "msg": _safe(e.get("msg", "")),
             "type": _safe(e.get("type", ""))} for e in exc.errors()]


def _bad_input(request: Request, message: str) -> Response:
    if _is_api(request):
        return JSONResponse({"error": "invalid", "detail": message}, status_code=400)
    return _page(request, 400, "invalid", message)


def install_error_handlers(app: FastAPI) -> None:
    """Map errors to pages (HTML routes) or JSON (``/api``)."""

    @app.exception_handler(HocvuError)
    async def hocvu_error(request: Request, exc: HocvuError) -> Response:
        status, kind = status_of(exc)
        if status >= 500:
            log.error("%s %s failed: %s", request.method, request.url.path, exc, exc_info=exc)
        if _is_api(request):
            return JSONResponse({"error": kind, "detail": str(exc)}, status_code=status)
        return _page(request, status, kind, str(exc))

    @app.exception_handler(NotSignedInError)
    async def not_signed_in(request: Request, exc: NotSignedInError) -> Response:
        from urllib.parse import quote

        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return redirect(f"/login?next={quote(target)}")

    @app.exception_handler(CSRFError)
    async def csrf_error(request: Request, exc: CSRFError) -> Response:
        return _page(request, 403, "csrf", str(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if _is_api(request) or request.url.path.startswith(("/static", "/docs", "/openapi")):
            return JSONResponse({"error": "http", "detail": exc.detail}, status_code=exc.status_code,
                                headers=getattr(exc, "headers", None))
        return _page(request, exc.status_code, "http", str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        errors = _plain_errors(exc)
        if _is_api(request):
            return JSONResponse({"error": "invalid", "detail": errors}, status_code=422)
        problems = "; ".join(f"{'.'.join(map(str, e['loc'][1:]))}: {e['msg']}"  # type: ignore[index]
                             for e in errors[:5])
        return _page(request, 422, "invalid", problems)

    @app.exception_handler(OverflowError)
    async def overflow_error(request: Request, exc: OverflowError) -> Response:
        return _bad_input(request, "a number in the request is far too large")

    @app.exception_handler(UnicodeError)
    async def unicode_error(request: Request, exc: UnicodeError) -> Response:
        return _bad_input(request, "the request holds text that is not valid Unicode (a lone surrogate); "
                                   "send UTF-8 text")

    from generator.web.api import ApiAuthError

    @app.exception_handler(ApiAuthError)
    async def api_auth_error(request: Request, exc: ApiAuthError) -> Response:
        return JSONResponse({"error": "unauthorized", "detail": str(exc)}, status_code=401,
                            headers={"WWW-Authenticate": "Bearer"})
