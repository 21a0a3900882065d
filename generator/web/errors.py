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
from generator.i18n import N_, translate
from generator.web.context import NotSignedInError, redirect, render, ui_lang
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


_CSRF = N_("the form has expired or did not come from this site")

#: Starlette's own reasons for an HTTP error, as people read them.
_HTTP_DETAILS = {
    "Not Found": N_("This page does not exist. Check the address, or start again from the dashboard."),
    "Method Not Allowed": N_("This address does not take that kind of request."),
    "Request Entity Too Large": N_("What you sent is too large."),
    "Unsupported Media Type": N_("The request's content type is not accepted here."),
}

#: Pydantic's validation problems by type, for form pages.
_VALIDATION = {
    "missing": N_("this field is required"),
    "int_parsing": N_("enter a whole number"),
    "int_type": N_("enter a whole number"),
    "string_too_long": N_("this text is too long"),
    "string_too_short": N_("this text is too short"),
    "greater_than_equal": N_("this number is too small"),
    "less_than_equal": N_("this number is too large"),
    "string_pattern_mismatch": N_("this value has characters that are not allowed"),
    "literal_error": N_("choose one of the offered values"),
    "enum": N_("choose one of the offered values"),
}


def _http_detail(request: Request, exc: StarletteHTTPException) -> str:
    detail = str(exc.detail)
    msgid = _HTTP_DETAILS.get(detail)
    return translate(msgid, ui_lang(request)) if msgid else detail


def _validation_problem(error: dict[str, object], lang: str) -> str:
    msgid = _VALIDATION.get(str(error.get("type", "")))
    return translate(msgid, lang) if msgid else translate("this value is not valid", lang)


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
            log.error("%s %s failed: %s", request.method, request.url.path, exc.english, exc_info=exc)
        if _is_api(request):
            return JSONResponse({"error": kind, "detail": str(exc)}, status_code=status)
        return _page(request, status, kind, exc.render(ui_lang(request)))

    @app.exception_handler(NotSignedInError)
    async def not_signed_in(request: Request, exc: NotSignedInError) -> Response:
        from urllib.parse import quote

        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return redirect(f"/login?next={quote(target)}")

    @app.exception_handler(CSRFError)
    async def csrf_error(request: Request, exc: CSRFError) -> Response:
        return _page(request, 403, "csrf", translate(_CSRF, ui_lang(request)))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if _is_api(request) or request.url.path.startswith(("/static", "/docs", "/openapi")):
            return JSONResponse({"error": "http", "detail": exc.detail}, status_code=exc.status_code,
                                headers=getattr(exc, "headers", None))
        return _page(request, exc.status_code, "http", _http_detail(request, exc))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        errors = _plain_errors(exc)
        if _is_api(request):
            return JSONResponse({"error": "invalid", "detail": errors}, status_code=422)
        lang = ui_lang(request)
        problems = "; ".join(translate("{field}: {problem}", lang, field=".".join(map(str, e["loc"][1:])),  # type: ignore[index]
                                       problem=_validation_problem(e, lang)) for e in errors[:5])
        return _page(request, 422, "invalid", problems)

    @app.exception_handler(OverflowError)
    async def overflow_error(request: Request, exc: OverflowError) -> Response:
        return _bad_input(request, translate("a number in the request is far too large", ui_lang(request)))

    @app.exception_handler(UnicodeError)
    async def unicode_error(request: Request, exc: UnicodeError) -> Response:
        return _bad_input(request, translate("the request holds text that is not valid Unicode (a lone surrogate); "
                                             "send UTF-8 text", ui_lang(request)))

    from generator.web.api import ApiAuthError

    @app.exception_handler(ApiAuthError)
    async def api_auth_error(request: Request, exc: ApiAuthError) -> Response:
        return JSONResponse({"error": "unauthorized", "detail": str(exc)}, status_code=401,
                            headers={"WWW-Authenticate": "Bearer"})
