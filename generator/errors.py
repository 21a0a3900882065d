"""One exception tree for hocvu; adapters translate library errors into these.

    HocvuError                      base; ``exit_code`` and a message that says what to do
    ├── ConfigError                 settings or workspace unusable
    │   ├── MissingKeyError         an API key is needed and not set
    │   └── DiskFullError           no space left where a file or the store is written
    ├── DataError                   a data file (YAML/JSON) is malformed or invalid   (exit 2)
    ├── NotFoundError               unknown framework, competence, level, group, language, lesson
    ├── BackendError                the LLM backend failed
    │   ├── BackendUnavailableError server unreachable, timed out, or kept refusing
    │   └── InvalidOutputError      the model's reply failed validation after every re-ask
    ├── CheckError                  a lesson failed its quality checks where passing is required
    ├── RetrievalError              the source library (chromadb, embeddings, ingestion)
    │   └── EmbedderMismatchError   a collection was built with another embedder
    ├── RenderError                 a renderer or TTS engine failed
    ├── ReviewError                 the review store or workflow refused an action
    │   ├── TransitionError         an illegal workflow transition
    │   ├── PermissionError_        a user may not do this (role, four-eyes)
    │   └── ConflictError           someone else acted on the same version first
    └── PublishError                building or verifying a release failed

Each error carries a translatable message: an English msgid with ``{named}`` fields and their values,
``raise DataError("{path} is not valid YAML: {problem}", path=p, problem=e)``. ``str(error)`` renders it in
the current language (generator.i18n: the reader's, per request or per command); ``error.english`` is the
text for logs and machines. The CLI prints ``str(error)`` and exits with ``error.exit_code``; the web app
maps them to 4xx/5xx pages in the reader's language.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def _restore(cls: type[HocvuError], msgid: str, params: dict[str, Any], state: dict[str, Any]) -> HocvuError:
    exc = cls.__new__(cls)
    HocvuError.__init__(exc, msgid, **params)
    exc.__dict__.update(state)
    return exc


class HocvuError(Exception):
    """Base of every error hocvu raises on purpose: a message (msgid + named parameters) that says what to do."""

    exit_code = 1

    def __init__(self, message: object = "", /, **params: Any) -> None:
        from generator.i18n import Message

        if isinstance(message, Message):
            params = {**message.params, **params}
            message = message.msgid
        self.msgid: str = str(message)
        self.params: dict[str, Any] = params
        super().__init__(self.msgid)

    def render(self, lang: str | None = None) -> str:
        """The message in ``lang`` (the current language by default)."""
        from generator.i18n import Message

        return Message(self.msgid, **self.params).render(lang)

    @property
    def english(self) -> str:
        """The message in English, for logs and machine-readable output."""
        return self.render("en")

    def __str__(self) -> str:
        return self.render()

    def __reduce__(self) -> tuple[Any, ...]:  # keeps the parameters across processes (batch workers)
        return (_restore, (type(self), self.msgid, self.params, dict(self.__dict__)))


class ConfigError(HocvuError):
    """Settings or the workspace cannot be used as they are."""


class MissingKeyError(ConfigError):
    """A backend needs an API key that is not configured."""


class DiskFullError(ConfigError, OSError):
    """The disk (or quota) is full where hocvu writes; nothing was half-written. Also an OSError (ENOSPC),
    so code that handles a failed write keeps handling this one."""

    def __init__(self, message: object = "", /, **params: Any) -> None:
        super().__init__(message, **params)
        self.errno = 28  # ENOSPC


class DataError(HocvuError):
    """A data file is malformed or fails validation."""

    exit_code = 2


class NotFoundError(HocvuError):
    """Something named by the user does not exist; the message lists valid choices."""

    exit_code = 2

    @classmethod
    def unknown(cls, kind: object, name: object, choices: Iterable[object]) -> NotFoundError:
        """Build 'unknown <kind> X; choose one of: a, b, c' (``kind`` a msgid such as "section", or a Message)."""
        from generator.i18n import Message

        kind = kind if isinstance(kind, Message) else Message(str(kind))
        listed = ", ".join(str(c) for c in choices)
        if not listed:
            return cls(Message("unknown {kind} {name!r}; choose one of: (none available)", kind=kind, name=name))
        return cls(Message("unknown {kind} {name!r}; choose one of: {choices}", kind=kind, name=name, choices=listed))


class BackendError(HocvuError):
    """The LLM backend failed."""


class BackendUnavailableError(BackendError):
    """The model server could not be reached or did not answer in time."""


class InvalidOutputError(BackendError):
    """The model's reply failed validation after every re-ask."""

    def __init__(self, message: object, attempts: list[dict[str, object]] | None = None, /, **params: Any) -> None:
        super().__init__(message, **params)
        self.attempts = attempts or []


class CheckError(HocvuError):
    """A lesson failed quality checks that must pass."""


class RetrievalError(HocvuError):
    """The source library failed."""


class EmbedderMismatchError(RetrievalError):
    """A collection was built with a different embedder than the one configured."""


class RenderError(HocvuError):
    """A renderer or a TTS engine failed."""


class ReviewError(HocvuError):
    """The review store or workflow refused an action."""


class TransitionError(ReviewError):
    """An illegal workflow transition."""


class PermissionError_(ReviewError):  # noqa: N801, N818 - named to avoid shadowing the builtin
    """The user may not perform this action."""


class ConflictError(ReviewError):
    """Another user acted on the same version first."""


class PublishError(HocvuError):
    """Building or verifying a release failed."""
