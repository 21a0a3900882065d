"""Whole list pages kept, gzipped, while nothing they show has changed; ETag and 304 for browsers.

A list page (the dashboard, the queue, coverage, ``/api/lessons``) is a function of a few things: the
path and query, the interface language, who asks (name and role, and the session's CSRF token, which
every page's sign-out form carries), the app's library, and the store's lists as they are now — the
*list token* (the newest event's id and the sources stamp; see ``generator.review.store.lists``). With
all of them in the key, an answer can be sent again without rendering or compressing it, and a browser
that sends the ETag back gets ``304 Not Modified``. A page is kept at most ``LIST_TTL`` seconds, the
bound the store's own list caches have (on PostgreSQL an event id can become visible after a larger
one), and its ETag is the hash of its bytes, so a page rendered anew never reuses a stale ETag.

Pages that carry a one-time message (a flash) or set a cookie (``?lang=``) are never kept. The user is
still looked up on every request (before this cache is asked), so a session signed out or a user
disabled elsewhere counts at once.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.responses import Response

from generator.review.store.lists import LIST_TTL

if TYPE_CHECKING:
    from starlette.requests import Request

    from generator.review.records import User

#: Below this size a page is sent as it is (as the app's GZip middleware does).
GZIP_MIN = 1024
#: Level 6: within a few per cent of level 9's size for HTML and JSON, at a third of the time.
GZIP_LEVEL = 6
#: Headers of a kept page that are sent again (the body's own headers are made anew).
_KEPT_HEADERS = ("x-total-count", "link")
CACHE_CONTROL = "private, no-cache"  # the browser may keep it, but asks (with the ETag) before reuse


@dataclass(frozen=True)
class KeptPage:
    """One answer as it is sent again: status, type, extra headers, the gzipped body and its ETag."""

    at: float
    status: int
    media_type: str
    headers: tuple[tuple[str, str], ...]
    body: bytes  # gzipped when ``gzipped``
    gzipped: bool
    etag: str


class PageCache:
    """The newest pages by key, at most ``size`` of them and ``budget`` bytes in all (thread-safe)."""

    def __init__(self, size: int = 512, budget: int = 32 * 1024 * 1024) -> None:
        self._items: OrderedDict[tuple[Any, ...], KeptPage] = OrderedDict()
        self._lock = threading.Lock()
        self._size, self._budget, self._bytes = size, budget, 0

    def get(self, key: tuple[Any, ...], now: float) -> KeptPage | None:
        """The page kept under ``key`` if it is younger than ``LIST_TTL``, else None."""
        with self._lock:
            page = self._items.get(key)
            if page is None or now - page.at >= LIST_TTL:
                return None
            self._items.move_to_end(key)
            return page

    def put(self, key: tuple[Any, ...], page: KeptPage) -> None:
        """Keep ``page`` under ``key``, dropping the oldest pages beyond the size or the byte budget."""
        with self._lock:
            old = self._items.pop(key, None)
            self._bytes += len(page.body) - (len(old.body) if old else 0)
            self._items[key] = page
            while self._items and (len(self._items) > self._size or self._bytes > self._budget):
                _, dropped = self._items.popitem(last=False)
                self._bytes -= len(dropped.body)


def page_key(request: Request, user: User | None, *parts: Any) -> tuple[Any, ...] | None:
    """The key of the page ``request`` asks for, as ``user`` sees it now (None: an answer that is the same
    for every user, such as the API's lists); None when it must not be kept."""
    from generator.web.context import ui_lang, web
    from generator.web.security import csrf_token

    if request.method != "GET" or "lang" in request.query_params:
        return None
    session = request.scope.get("session")
    if session is not None and session.get("flash"):
        return None
    ctx = web(request)
    who = (user.name, user.role) if user is not None else None
    csrf = csrf_token(request) if user is not None and session is not None else ""  # made now if new: shown
    return (request.url.path, request.url.query, ui_lang(request), who, csrf, ctx.library_generation,
            ctx.store.list_token(ctx.library), *parts)


def cached_page(request: Request, key: tuple[Any, ...] | None, build: Callable[[], Response]) -> Response:
    """The page under ``key`` from the cache (or 304 when the browser has it), else ``build()`` kept."""
    from generator.web.context import web

    if key is None:
        return build()
    cache, now = web(request).pages, time.monotonic()
    page = cache.get(key, now)
    if page is None:
        response = build()
        page = _keep(response, now)
        if page is None:  # not a plain 200 answer (an error, a redirect): sent as it is, not kept
            return response
        cache.put(key, page)
    return _answer(request, page)


def _keep(response: Response, now: float) -> KeptPage | None:
    if response.status_code != 200 or "set-cookie" in response.headers or not isinstance(response.body, bytes):
        return None
    raw = response.body
    gzipped = len(raw) >= GZIP_MIN
    body = gzip.compress(raw, compresslevel=GZIP_LEVEL, mtime=0) if gzipped else raw
    etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
    headers = tuple((k, v) for k, v in response.headers.items() if k in _KEPT_HEADERS)
    return KeptPage(now, response.status_code, response.headers.get("content-type", "text/html"), headers, body,
                    gzipped, etag)


def _answer(request: Request, page: KeptPage) -> Response:
    headers = {"ETag": page.etag, "Cache-Control": CACHE_CONTROL, "Vary": "Accept-Encoding"}
    if page.etag in (request.headers.get("if-none-match") or ""):
        return Response(status_code=304, headers=headers)
    headers.update(page.headers)
    body = page.body
    if page.gzipped:
        if "gzip" in request.headers.get("accept-encoding", ""):
            headers["Content-Encoding"] = "gzip"  # the GZip middleware leaves an encoded body alone
        else:
            body = gzip.decompress(body)
    return Response(body, status_code=page.status, headers=headers, media_type=page.media_type)
