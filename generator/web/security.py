"""The web app's guards: the session secret, CSRF tokens, the sign-in limit and security headers.

* Sessions are Starlette's signed cookies (itsdangerous), HttpOnly and SameSite=Lax; the secret comes
  from ``settings.secret_key`` or is generated once into ``<state_dir>/secret_key`` (mode 0600).
* Every form carries the session's CSRF token; every POST of the HTML app is refused (403) without it.
  The JSON API takes no cookies, only bearer tokens, so it needs no CSRF token.
* Failed sign-ins are limited per user name and address (and per address overall): past the limit the
  sign-in page answers 429 without checking the password, until the window has passed.
"""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from starlette.requests import Request

from generator.errors import ConfigError

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from generator.config import Settings

SECRET_FILE = "secret_key"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


def load_secret_key(settings: Settings) -> str:
    """The session-signing secret: the configured one, else ``<state_dir>/secret_key`` (made once, 0600)."""
    if settings.secret_key is not None and settings.secret_key.get_secret_value():
        return settings.secret_key.get_secret_value()
    path = settings.state_dir / SECRET_FILE
    try:
        return _read_or_create(path)
    except OSError as exc:
        raise ConfigError("cannot read or create the session secret {path}: {value}; "
                          "set HOCVU_SECRET_KEY or make {parent} writable",
                          path=path, value=exc.strerror or exc, parent=path.parent) from exc


def _read_or_create(path: Path) -> str:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first: use theirs
            pass
        else:
            with os.fdopen(fd, "w", encoding="ascii") as f:
                f.write(secrets.token_urlsafe(48) + "\n")
    value = path.read_text(encoding="ascii").strip()
    if len(value) < 32:
        raise ConfigError("the session secret in {path} is too short; delete the file to make a new one", path=path)
    return value


# -- CSRF -----------------------------------------------------------------------------------------
class CSRFError(Exception):
    """A form was posted without the session's CSRF token."""


def csrf_token(request: Request) -> str:
    """This session's CSRF token (made on first use)."""
    token = request.session.get("csrf")
    if not isinstance(token, str) or len(token) < 32:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


async def verify_csrf(request: Request) -> None:
    """Router dependency: every POST must carry the session's token (form field or X-CSRF-Token header)."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    expected = request.session.get("csrf")
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        ctype = request.headers.get("content-type", "")
        if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
    if not isinstance(expected, str) or not sent or not hmac.compare_digest(expected, sent):
        raise CSRFError("the form has expired or did not come from this site")


# -- headers --------------------------------------------------------------------------------------
APP_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; "
           "font-src 'self'; frame-src 'self'; form-action 'self'; frame-ancestors 'self'; base-uri 'none'; "
           "object-src 'none'")
#: The API docs page: Swagger UI served by this app (swagger-ui-py), started by FastAPI's inline script.
DOCS_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
#: A lesson page shown inside the review page: its own opaque origin, its quiz script and nothing else.
SANDBOX_CSP = ("sandbox allow-scripts; default-src 'none'; style-src 'unsafe-inline'; "
               "script-src 'unsafe-inline'; img-src data:; font-src 'self'; frame-ancestors 'self'; "
               "base-uri 'none'; form-action 'none'")
#: Downloaded files never run as a page of this site.
FILE_CSP = "sandbox; default-src 'none'"


class SecurityHeaders:
    """ASGI middleware: CSP, nosniff, referrer and framing headers on every response (a route may set
    its own CSP)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        csp = DOCS_CSP if path.startswith(("/docs", "/openapi")) else APP_CSP

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                from starlette.datastructures import MutableHeaders

                headers = MutableHeaders(scope=message)
                if "content-security-policy" not in headers:
                    headers["Content-Security-Policy"] = csp
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "same-origin")
                headers.setdefault("X-Frame-Options", "SAMEORIGIN")
                headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
            await send(message)

        await self.app(scope, receive, send_with_headers)


def client_address(request: Request) -> str:
    """The caller's address as the server sees it (behind a proxy, uvicorn sets it from X-Forwarded-For
    only when that proxy is named in ``forwarded_allow_ips``)."""
    return request.client.host if request.client else "unknown"
