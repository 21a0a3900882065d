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

The CLI prints ``str(error)`` and exits with ``error.exit_code``; the web app maps them to 4xx/5xx.
"""

from __future__ import annotations

from collections.abc import Iterable


class HocvuError(Exception):
    """Base of every error hocvu raises on purpose."""

    exit_code = 1


class ConfigError(HocvuError):
    """Settings or the workspace cannot be used as they are."""


class MissingKeyError(ConfigError):
    """A backend needs an API key that is not configured."""


class DiskFullError(ConfigError, OSError):
    """The disk (or quota) is full where hocvu writes; nothing was half-written. Also an OSError (ENOSPC),
    so code that handles a failed write keeps handling this one."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.errno = 28  # ENOSPC


class DataError(HocvuError):
    """A data file is malformed or fails validation."""

    exit_code = 2


class NotFoundError(HocvuError):
    """Something named by the user does not exist; the message lists valid choices."""

    exit_code = 2

    @classmethod
    def unknown(cls, kind: str, name: object, choices: Iterable[object]) -> NotFoundError:
        """Build 'unknown <kind> X; choose one of: a, b, c'."""
        listed = ", ".join(str(c) for c in choices) or "(none available)"
        return cls(f"unknown {kind} {name!r}; choose one of: {listed}")


class BackendError(HocvuError):
    """The LLM backend failed."""


class BackendUnavailableError(BackendError):
    """The model server could not be reached or did not answer in time."""


class InvalidOutputError(BackendError):
    """The model's reply failed validation after every re-ask."""

    def __init__(self, message: str, attempts: list[dict[str, object]] | None = None) -> None:
        super().__init__(message)
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
