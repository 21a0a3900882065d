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
import threading
import time
from collections import deque
from collections.abc import Callable
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
        raise ConfigError(f"cannot read or create the session secret {path}: {exc.strerror or exc}; "
                          f"set HOCVU_SECRET_KEY or make {path.parent} writable") from exc


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
        raise ConfigError(f"the session secret in {path} is too short; delete the file to make a new one")
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


# -- sign-in limit --------------------------------------------------------------------------------
class SignInLimiter:
    """At most ``max_failures`` failed sign-ins per (user, address) and ``max_per_address`` per address
    within ``window`` seconds. In memory: one server process, forgotten on restart."""

    def __init__(self, max_failures: int = 5, window: float = 15 * 60, max_per_address: int = 30,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_failures, self.window, self.max_per_address = max_failures, window, max_per_address
        self.clock = clock
        self._fails: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        q = self._fails.get(key)
        if q is None:
            return deque()
        while q and q[0] <= now - self.window:
            q.popleft()
        if not q:
            del self._fails[key]
        return q

    def retry_after(self, user: str, address: str) -> float:
        """Seconds until ``user`` may try again from ``address`` (0: now)."""
        now = self.clock()
        with self._lock:
            waits = []
            for key, limit in (((user.strip().lower(), address), self.max_failures),
                               (("", address), self.max_per_address)):
                q = self._recent(key, now)
                if len(q) >= limit:
                    waits.append(q[len(q) - limit] + self.window - now)
            return max(waits, default=0.0)

    def failed(self, user: str, address: str) -> None:
        """Count a failed sign-in."""
        now = self.clock()
        with self._lock:
            if len(self._fails) > 10_000:  # keep memory bounded under a flood of names
                for key in list(self._fails):
                    self._recent(key, now)
            for key in ((user.strip().lower(), address), ("", address)):
                self._fails.setdefault(key, deque()).append(now)

    def succeeded(self, user: str, address: str) -> None:
        """Forget the user's failures from this address after a good sign-in."""
        with self._lock:
            self._fails.pop((user.strip().lower(), address), None)


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
    """The caller's address as the server sees it (uvicorn's --proxy-headers sets it behind a proxy)."""
    return request.client.host if request.client else "unknown"
