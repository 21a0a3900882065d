"""Messages in the reader's language: gettext catalogs (Babel) in Vietnamese and English.

Every sentence hocvu shows a person — interface words, errors, check results, version notes, history —
is an English msgid with ``{named}`` fields, looked up in ``generator/locale/<lang>/LC_MESSAGES/hocvu.po``
and then formatted. The language is picked per request in the web app and from ``HOCVU_UI_LANG`` or
``LANG`` in the CLI, and travels in a context variable (``use_language``), so core code raising an error
never needs to know who will read it: a :class:`Message` renders when it is shown.

The catalogs are compiled from the .po at first use (Babel) and the .mo kept in the user's cache under the
.po's hash: a clean clone, an editable install and a wheel all work without a build step, and a compiled
file can never be older than its source. Regenerate the template after changing messages with ``make messages``.
"""

from __future__ import annotations

import gettext as gettext_module
import os
import re
import string
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from typing import Any, Final

LANGS: Final = ("vi", "en")
DEFAULT: Final = "vi"
DOMAIN: Final = "hocvu"
LOCALE_DIR: Final = Path(__file__).resolve().parent / "locale"

_language: ContextVar[str | None] = ContextVar("hocvu_language", default=None)


def normalize_language(value: str | None) -> str | None:
    """'vi' or 'en' for a language tag such as 'vi_VN.UTF-8' or 'en-US', else None."""
    if not value:
        return None
    code = re.split(r"[_.@-]", value.strip().lower(), maxsplit=1)[0]
    return code if code in LANGS else None


def environment_language() -> str:
    """The CLI's language: ``HOCVU_UI_LANG``, else the locale (``LC_ALL``, ``LC_MESSAGES``, ``LANG``), else English."""
    for var in ("HOCVU_UI_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        if lang := normalize_language(os.environ.get(var)):
            return lang
    return "en"


def current_language() -> str:
    """The language messages render in now (set by ``use_language``; the environment's otherwise)."""
    return _language.get() or environment_language()


@contextmanager
def use_language(lang: str) -> Iterator[str]:
    """Render messages in ``lang`` inside the block (per request in the web app, per command in the CLI)."""
    chosen = normalize_language(lang) or DEFAULT
    token = _language.set(chosen)
    try:
        yield chosen
    finally:
        _language.reset(token)


def set_language(lang: str) -> str:
    """Render messages in ``lang`` from now on in this context (the CLI sets it once per command)."""
    chosen = normalize_language(lang) or DEFAULT
    _language.set(chosen)
    return chosen


def catalog_path(lang: str) -> Path:
    """Where the .po catalog of ``lang`` lives."""
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@lru_cache(maxsize=len(LANGS))
def translations(lang: str) -> gettext_module.GNUTranslations:
    """The compiled catalog of ``lang``: the .mo compiled from its .po, kept in the user's cache under the
    .po's sha256 (``$XDG_CACHE_HOME/hocvu/locale``), so a command pays ~5 ms to read it instead of ~90 ms
    for Babel to compile it; a changed .po has another hash and is compiled again, and a cache that cannot
    be written or read only costs the compilation."""
    import hashlib
    import struct

    po = catalog_path(lang).read_bytes()
    cached = _catalog_cache() / f"{lang}-{hashlib.sha256(po).hexdigest()[:32]}.mo"
    try:
        with cached.open("rb") as fh:
            return gettext_module.GNUTranslations(fh)
    except (OSError, ValueError, UnicodeDecodeError, struct.error):
        pass  # not compiled yet, or damaged: compile it again
    data = compile_catalog(po, lang)
    try:
        from generator.fsutil import write_bytes_atomic

        write_bytes_atomic(cached, data)
    except OSError:
        pass  # a read-only or full home: the catalog still works, compiled in memory each time
    return gettext_module.GNUTranslations(BytesIO(data))


def compile_catalog(po: bytes, lang: str) -> bytes:
    """The .mo bytes of the .po text ``po`` (Babel; fuzzy entries left out)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    catalog = read_po(BytesIO(po), locale=lang, domain=DOMAIN)
    buf = BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    return buf.getvalue()


def _catalog_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "hocvu" / "locale"


def gettext(msgid: str, lang: str | None = None) -> str:
    """``msgid`` in ``lang`` (the current language by default); the msgid itself when untranslated."""
    return translations(lang or current_language()).gettext(msgid)


def ngettext(singular: str, plural: str, n: int, lang: str | None = None) -> str:
    """The singular or plural form for ``n`` in ``lang``."""
    return translations(lang or current_language()).ngettext(singular, plural, n)


def pgettext(context: str, msgid: str, lang: str | None = None) -> str:
    """``msgid`` in ``lang`` where the same English needs different words in another ``context``."""
    return str(translations(lang or current_language()).pgettext(context, msgid))


class _Lenient(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def format_message(text: str, params: Mapping[str, Any]) -> str:
    """``text`` with its ``{named}`` fields filled; a field without a value stays as written (a stored
    row from an older version may lack one), never an exception while showing a message."""
    if not params and "{" not in text:
        return text
    try:
        return string.Formatter().vformat(text, (), _Lenient(params))
    except (ValueError, IndexError, AttributeError, TypeError, KeyError):
        return text


def translate(msgid: str, lang: str | None = None, /, **params: Any) -> str:
    """gettext then format: ``translate("Version {n} approved.", "vi", n=3)``."""
    return format_message(gettext(msgid, lang), params)


def N_(msgid: str) -> str:  # noqa: N802 - the gettext convention for "mark for extraction only"
    """Mark ``msgid`` for extraction without translating it now (tables of labels, check messages)."""
    return msgid


def NP_(context: str, msgid: str) -> tuple[str, str]:  # noqa: N802 - as N_, with a context (pgettext)
    """Mark ``msgid`` in ``context`` for extraction; translate it later with ``pgettext(*marked)``."""
    return context, msgid


def placeholders(text: str) -> set[str]:
    """The named fields of a message (``{n}``, ``{name!r}`` → {'n', 'name'})."""
    try:
        return {f.split(".")[0].split("[")[0] for _, f, _, _ in string.Formatter().parse(text) if f}
    except ValueError:
        return set()


class Message:
    """A sentence to show later, in whoever's language reads it: an English msgid and its parameters.
    ``str()`` renders it in the current language; ``english`` is the text for logs and machines."""

    __slots__ = ("msgid", "params")

    def __init__(self, msgid: str, /, **params: Any) -> None:
        self.msgid = msgid
        self.params = params

    def render(self, lang: str | None = None) -> str:
        """The message in ``lang`` (the current language by default)."""
        params = {k: v.render(lang) if isinstance(v, Message | Joined) else v for k, v in self.params.items()}
        return format_message(gettext(self.msgid, lang), params)

    @property
    def english(self) -> str:
        """The message in English."""
        return self.render("en")

    def __str__(self) -> str:
        return self.render()

    def __repr__(self) -> str:
        return f"Message({self.msgid!r}, **{self.params!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Message) and (self.msgid, self.params) == (other.msgid, other.params)

    def __hash__(self) -> int:
        return hash(self.msgid)


class MessageValueError(ValueError):
    """A ValueError (for pydantic validators) that carries a message to show in the reader's language."""

    def __init__(self, message: Message | Joined) -> None:
        super().__init__(message.render("en"))
        self.message = message


class Joined:
    """Several messages shown as one, e.g. "a; b; c", each in the reader's language."""

    __slots__ = ("items", "sep")

    def __init__(self, items: list[Any], sep: str = "; ") -> None:
        self.items = list(items)
        self.sep = sep

    def render(self, lang: str | None = None) -> str:
        """The items in ``lang``, joined."""
        return self.sep.join(i.render(lang) if isinstance(i, Message | Joined) else str(i) for i in self.items)

    def __str__(self) -> str:
        return self.render()


def to_data(value: Any) -> Any:
    """A message parameter as JSON-ready data: messages become {"msgid", "params"}, lists stay lists."""
    if isinstance(value, Message):
        return {"msgid": value.msgid, "params": {k: to_data(v) for k, v in value.params.items()}}
    if isinstance(value, Joined):
        return [to_data(i) for i in value.items]
    if isinstance(value, list | tuple):
        return [to_data(i) for i in value]
    return value if isinstance(value, int | float | str | bool) or value is None else str(value)


def from_data(value: Any) -> Any:
    """The inverse of ``to_data``: stored messages become Message (and lists Joined) again."""
    if isinstance(value, dict) and isinstance(value.get("msgid"), str):
        return Message(value["msgid"], **{k: from_data(v) for k, v in dict(value.get("params") or {}).items()})
    if isinstance(value, list):
        return Joined([from_data(i) for i in value])
    return value
