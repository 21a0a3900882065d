"""What every route needs: the objects the app was built with, the signed-in user, the language, and
the page renderer (Jinja2, autoescaped)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse

from generator.errors import PermissionError_
from generator.review import workflow as wf
from generator.review.access import Limits
from generator.review.notes import describe as describe_note
from generator.web import i18n
from generator.web.i18n import SECTION_KEYS
from generator.web.pagecache import PageCache
from generator.web.security import CSRF_FIELD, csrf_token

if TYPE_CHECKING:
    from jinja2 import Environment

    from generator.config import Settings
    from generator.drafting.backend import LLMBackend
    from generator.frameworks import Library
    from generator.review.records import User
    from generator.review.store import ReviewStore

TEMPLATES = Path(__file__).resolve().parent / "templates"
#: Seconds between two looks at the library's files (see ``WebContext.check_library``).
LIBRARY_CHECK = 1.0
LANG_COOKIE = i18n.LANG_COOKIE
_USER_KEY = "hocvu.user"


@dataclass
class WebContext:
    """The objects the app serves from, injected by ``create_app`` (tests pass fakes and small formats)."""

    settings: Settings
    store: ReviewStore
    library: Library
    make_backend: Callable[[], LLMBackend]
    formats: Sequence[str] | None = None  # formats rendered for new versions (None: the group's defaults)
    tts: Any = None
    render: Any = None
    limits: Limits = field(default_factory=Limits)
    fragments: FragmentCache = field(default_factory=lambda: FragmentCache())
    pages: PageCache = field(default_factory=lambda: PageCache())
    library_generation: int = 0  # grows when the library is replaced: kept pages and parts show the old one
    _library_seen: tuple[float, tuple[str, ...]] | None = field(default=None, repr=False)
    _library_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self._library_seen = (time.monotonic(), library_files(self.settings.workspace))

    def replace_library(self, library: Library) -> None:
        """Serve from ``library`` from now on (after a group profile was saved)."""
        with self._library_lock:
            self.library = library
            self.library_generation += 1
            self._library_seen = (time.monotonic(), library_files(self.settings.workspace))

    def check_library(self) -> None:
        """Load the library again when a framework or group file changed since it was loaded — saved by
        another ``hocvu serve`` process or machine, or edited by hand (looked at once per
        ``LIBRARY_CHECK`` seconds: a few stat calls)."""
        from generator.frameworks import Library

        seen, now = self._library_seen, time.monotonic()
        if seen is not None and now - seen[0] < LIBRARY_CHECK:
            return
        files = library_files(self.settings.workspace)
        with self._library_lock:
            if self._library_seen is not seen:  # another thread looked meanwhile
                return
            if seen is not None and files != seen[1]:
                self.library = Library(self.settings.workspace)
                self.library_generation += 1
            self._library_seen = (now, files)

    @cached_property
    def templates(self) -> Environment:
        """The Jinja2 environment: autoescape on for every template, so lesson and model text is escaped."""
        from jinja2 import Environment, FileSystemLoader, StrictUndefined

        env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined,
                          trim_blocks=True, lstrip_blocks=True)
        env.filters["when"] = lambda d: f"{d:%Y-%m-%d %H:%M}" if d else ""
        env.filters["section_label"] = lambda name, t: t(f"section_{name}")
        env.filters["pager"] = lambda params, n: urlencode({**dict(params), "page": n})
        return env


class FragmentCache:
    """Rendered page parts that every user sees alike, by a key that names what they show (including the
    store's change marker, so a change renders them anew); the newest few are kept."""

    def __init__(self, size: int = 128) -> None:
        import threading
        from collections import OrderedDict

        self._items: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._lock = threading.Lock()
        self._size = size

    def get(self, key: tuple[Any, ...]) -> Any:
        """The part kept under ``key``, or None."""
        with self._lock:
            return self._items.get(key)

    def put(self, key: tuple[Any, ...], value: Any) -> None:
        """Keep ``value`` under ``key`` (dropping the oldest beyond the size)."""
        with self._lock:
            self._items[key] = value
            while len(self._items) > self._size:
                self._items.popitem(last=False)


class NotSignedInError(Exception):
    """The request needs a signed-in user and has none."""


def web(request: Request) -> WebContext:
    """The app's WebContext (its library brought up to date first: see ``WebContext.check_library``)."""
    ctx: WebContext = request.app.state.web
    ctx.check_library()
    return ctx


def library_files(workspace: Path | None) -> tuple[str, ...]:
    """Path, size and time of every framework and group profile file the library reads."""
    from generator.frameworks import data_dirs, file_signature

    out: list[str] = []
    for base in data_dirs("frameworks", workspace):
        for folder in (base, base / "groups"):
            if folder.is_dir():
                out += [file_signature(p) for p in sorted(folder.glob("*.yaml"))]
    return tuple(out)


def current_user(request: Request) -> User | None:
    """The signed-in user, read fresh from the store (so a removed user or a new role counts at once)."""
    if _USER_KEY in request.scope:
        return request.scope[_USER_KEY]  # type: ignore[no-any-return]
    from generator.review.access import session_user

    ctx = web(request)
    sid = request.session.get("sid")
    user = session_user(ctx.store, sid, ctx.limits) if isinstance(sid, str) and sid else None
    if sid and user is None:  # signed out elsewhere, expired, or the user was disabled or removed
        request.session.clear()
    request.scope[_USER_KEY] = user
    return user


def page_user(request: Request) -> User:
    """Dependency for pages: the signed-in user, else a redirect to the sign-in page."""
    user = current_user(request)
    if user is None:
        raise NotSignedInError()
    return user


def action_user(request: Request) -> User:
    """Dependency for actions (POST): the signed-in user, else 403."""
    user = current_user(request)
    if user is None:
        raise PermissionError_("sign in first: this action needs a signed-in user")
    return user


def allow(user: User, action: wf.Action | str) -> None:
    """PermissionError_ (403) unless the workflow's rules let ``user`` do ``action``."""
    wf.check_permission(user.name, user.role, action)


def can(user: User | None, action: wf.Action | str) -> bool:
    """True when ``user`` may do ``action`` (for showing or hiding controls; the server checks again)."""
    if user is None:
        return False
    try:
        allow(user, action)
    except PermissionError_:
        return False
    return True


def ui_lang(request: Request) -> str:
    """The interface language: ?lang=, else the cookie, else Vietnamese."""
    return i18n.request_language(request.scope)


def url_with(request: Request, **params: Any) -> str:
    """The current path with query parameters replaced (None removes one)."""
    query = dict(request.query_params)
    for k, v in params.items():
        if v is None:
            query.pop(k, None)
        else:
            query[k] = str(v)
    return request.url.path + ("?" + urlencode(query) if query else "")


def flash(request: Request, kind: str, text: str) -> None:
    """A message shown once on the next page."""
    request.session.setdefault("flash", []).append([kind, text])
    request.session["flash"] = request.session["flash"]  # mark modified


def text_helpers(lang: str) -> dict[str, Any]:
    """What every template uses to speak ``lang``: ``_``, status and role names, and notes described."""
    t = i18n.translator(lang)
    return {
        "lang": lang, "_": t, "t_status": lambda s: t(f"status_{s}"), "t_role": lambda r: t(f"role_{r}"),
        "describe": lambda text, lang: describe_note(text, lang,
                                                     lambda s: t(f"section_{s}") if s in SECTION_KEYS else s),
    }


def render(request: Request, template: str, status_code: int = 200, headers: dict[str, str] | None = None,
           **context: Any) -> HTMLResponse:
    """Render ``template`` with the common context (user, language, CSRF token, messages)."""
    lang = ui_lang(request)
    context.setdefault("nav", "")
    user = current_user(request) if "session" in request.scope else None
    flashes = request.session.pop("flash", []) if "session" in request.scope else []
    other = "en" if lang == "vi" else "vi"
    body = web(request).templates.get_template(template).render(
        request=request, user=user, csrf=csrf_token(request) if "session" in request.scope else "",
        csrf_field=CSRF_FIELD, flashes=flashes, other_lang=other,
        other_lang_url=url_with(request, lang=other), other_lang_name=i18n.LANG_NAMES[other],
        can=lambda action: can(user, action), **text_helpers(lang), **context,
    )
    response = HTMLResponse(body, status_code=status_code, headers=headers)
    if request.query_params.get("lang") in i18n.LANGS:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 24 * 3600, httponly=True, samesite="lax")
    return response


def redirect(url: str) -> RedirectResponse:
    """303 See Other: after a POST, the browser GETs ``url``."""
    return RedirectResponse(url, status_code=303)


def safe_next(target: str | None) -> str:
    """A local path to return to after signing in (never another site)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
