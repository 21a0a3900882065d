"""Which structured-output method a model server takes, remembered per server and model in the workspace.

A batch of a thousand lessons should not find out on its first call how the server wants the lesson's
schema: the answer found once (json_schema, function calling or JSON mode, see
``generator.drafting.openai_backend``) is kept in ``<workspace>/.hocvu/cache/structured-output.json``
with the date it was found, read when the next build is planned, and replaced as soon as the server
says otherwise (a 400/422 to the remembered method, or a reply that ignores it). Losing the file costs
one detection, never a lesson: it is a cache, written atomically, and an unreadable one reads as empty.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator.fsutil import write_text_atomic

if TYPE_CHECKING:
    from generator.config import Settings

#: The methods in the order they are tried: the schema sent alongside the prompt first (json_schema,
#: then as a tool), JSON mode (the schema written into the prompt) last.
METHODS = ("json_schema", "function_calling", "json_mode")

_LOCK = threading.Lock()  # one process's backends (a celery worker's) write the file one at a time


@dataclass(frozen=True)
class Remembered:
    """A method found for a server and model, and the day it was found."""

    method: str
    found: str  # ISO date

    def describe(self) -> str:
        """E.g. 'json_schema (remembered from 2026-12-03)'."""
        return f"{self.method} (remembered from {self.found})"


def server_of(settings: Settings) -> str:
    """The server a backend calls, as the memory keys it."""
    return (settings.openai_base_url or "https://api.openai.com/v1").rstrip("/")


class MethodMemory:
    """The workspace's remembered structured-output methods, one per server and model."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def of(cls, settings: Settings) -> MethodMemory:
        """The memory of the settings' workspace."""
        return cls(settings.state_dir / "cache" / "structured-output.json")

    @staticmethod
    def _key(server: str, model: str) -> str:
        return f"{server} {model}"

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def get(self, server: str, model: str) -> Remembered | None:
        """The method remembered for ``server`` and ``model`` (None: never found, or not one we know)."""
        entry = self._read().get(self._key(server, model))
        if not isinstance(entry, dict) or entry.get("method") not in METHODS:
            return None
        return Remembered(str(entry["method"]), str(entry.get("found", "")))

    def put(self, server: str, model: str, method: str) -> None:
        """Remember ``method`` for ``server`` and ``model``, dated today (a failure to write is harmless:
        the next build detects again)."""
        with _LOCK:
            data = self._read()
            key = self._key(server, model)
            entry = data.get(key)
            if isinstance(entry, dict) and entry.get("method") == method:
                return
            data[key] = {"method": method, "found": date.today().isoformat()}
            try:
                write_text_atomic(self.path, json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True))
            except OSError:
                pass

    def forget(self, server: str, model: str) -> None:
        """Drop what is remembered for ``server`` and ``model`` (the server said otherwise)."""
        with _LOCK:
            data = self._read()
            if data.pop(self._key(server, model), None) is None:
                return
            try:
                write_text_atomic(self.path, json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True))
            except OSError:
                pass
