"""The app factory: settings, store and library in; a FastAPI app out (``hocvu serve`` runs it)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES, GZipMiddleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.staticfiles import StaticFiles

from generator import __version__
from generator.errors import NotFoundError
from generator.web.context import WebContext
from generator.web.i18n import LanguageMiddleware
from generator.web.security import SecurityHeaders, load_secret_key

if TYPE_CHECKING:
    from generator.config import Settings
    from generator.drafting.backend import LLMBackend
    from generator.frameworks import Library
    from generator.review.store import ReviewStore

STATIC = Path(__file__).resolve().parent / "static"
SESSION_COOKIE = "hocvu_session"
#: Already compressed (zip containers): not gzipped again.
_OFFICE_TYPES = ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                 "application/vnd.openxmlformats-officedocument.presentationml.presentation")


def create_app(settings: Settings | None = None, *, store: ReviewStore | None = None,
               library: Library | None = None, backend: Callable[[], LLMBackend] | None = None,
               formats: Sequence[str] | None = None, tts: Any = None, render: Any = None,
               secure_cookies: bool = False) -> FastAPI:
    """The review web app over ``store`` (default: the one ``settings`` configure).

    ``backend`` makes the LLM backend used by "revise" (default: the configured one); ``formats``,
    ``tts`` and ``render`` are passed to the core when edits and revisions render their new versions.
    ``secure_cookies`` marks the session cookie Secure (serve over HTTPS, e.g. behind a proxy).
    """
    from generator.config import load_settings
    from generator.review.access import Limits

    settings = settings or load_settings()
    if store is None:
        from generator.review.store import ReviewStore

        store = ReviewStore.open(settings)
    if library is None:
        from generator.frameworks import Library

        library = Library(settings.workspace)
    lib = library

    def default_backend() -> LLMBackend:
        from generator.drafting.backend import make_backend

        return make_backend(settings, lib, None)

    ctx = WebContext(settings=settings, store=store, library=library, make_backend=backend or default_backend,
                     formats=formats, tts=tts, render=render, limits=Limits.from_settings(settings))
    app = FastAPI(
        title="hocvu review", version=__version__,
        description="Review and publish Bình dân học vụ số lessons. The JSON API under /api takes a bearer "
                    "token from `hocvu users token NAME`.",
        docs_url=None, redoc_url=None,
    )
    app.state.web = ctx
    app.add_middleware(SessionMiddleware, secret_key=load_secret_key(settings), session_cookie=SESSION_COOKIE,
                       max_age=settings.session_hours * 3600, same_site="lax", https_only=secure_cookies)
    app.add_middleware(GZipMiddleware, minimum_size=1024, exclude_content_types=(
        *DEFAULT_EXCLUDED_CONTENT_TYPES, *_OFFICE_TYPES))
    app.add_middleware(SecurityHeaders)
    app.add_middleware(LanguageMiddleware)  # messages (errors, checks, notes) in the reader's language
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    _mount_docs(app)

    from generator.web import admin, api, groups, jobs, lessons, pages, sources
    from generator.web.errors import install_error_handlers

    app.include_router(pages.router)
    app.include_router(lessons.router)
    app.include_router(admin.router)
    app.include_router(api.router)
    for router in (jobs.router, sources.router, groups.router):  # editors' pages: jobs, sources, groups
        app.include_router(router)
    install_error_handlers(app)

    @app.get("/fonts/{face}.ttf", include_in_schema=False)
    def font(face: str) -> Response:
        """Be Vietnam Pro (or DejaVu Sans) for the pages, from the installed font package; two fixed names."""
        return FileResponse(_font_file(face), media_type="font/ttf",
                            headers={"Cache-Control": "public, max-age=604800"})

    @app.get("/healthz", include_in_schema=False)
    def health(request: Request) -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    return app


#: The environment variable ``hocvu serve --processes N`` passes its options to each server process in.
SERVE_OPTIONS = "HOCVU_SERVE_OPTIONS"


def app_from_environment() -> FastAPI:
    """The app as each process of ``hocvu serve --processes N`` builds it (uvicorn's factory): settings from
    the environment, the serve options from ``HOCVU_SERVE_OPTIONS``. With several processes every list reads
    the store's change marker afresh, so a page served by one process shows a decision made through another."""
    import json
    import os

    options = json.loads(os.environ.get(SERVE_OPTIONS) or "{}")
    app = create_app(secure_cookies=bool(options.get("secure_cookies")))
    if int(options.get("processes", 1)) > 1:
        app.state.web.store.marker_ttl = 0.0
    return app


def _mount_docs(app: FastAPI) -> None:
    """Interactive API docs at /docs from the Swagger UI 5 files shipped in swagger-ui-py: no CDN needed."""
    import swagger_ui
    from fastapi.openapi.docs import get_swagger_ui_html

    assets = Path(swagger_ui.__file__).resolve().parent / "static"
    app.mount("/docs-assets", StaticFiles(directory=assets), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs() -> Response:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="hocvu API",
                                   swagger_js_url="/docs-assets/swagger-ui-bundle.js",
                                   swagger_css_url="/docs-assets/swagger-ui.css",
                                   swagger_favicon_url="/docs-assets/favicon-32x32.png")


def _font_file(face: str) -> Path:
    from generator.render.fonts import find_font

    if face not in ("regular", "bold"):
        raise NotFoundError("no font {face!r}", face=face)
    found = find_font()
    return found.regular if face == "regular" else found.bold
