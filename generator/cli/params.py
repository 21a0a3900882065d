"""Command-line values of the plain kinds (text, whole numbers, paths) read without pydantic.

typer 0.29 coerces every parameter value through a pydantic ``TypeAdapter``, so any command that runs —
even ``review list`` with no option — imports pydantic (~70 ms of CPU on this machine, half of ``hocvu
--help``). For the plain values a command line gives, that coercion is ``str(value)``, a flag's own
``bool``, ``int(value)`` within the option's bounds, or ``Path(value)`` then typer's own path checks; this
module does exactly that, and hands every other value — anything it is not sure of: bytes, a number with
a sign or spaces, out of bounds, a choice, a parser, a list, a float, a date — to typer's adapter, which
then gives its usual answer or its usual error message. ``tests/test_cli_params.py`` compares the two on many values.

``install()`` puts this in front of typer's own lazy ``get_runtime_param``; it does nothing on a typer
whose internals differ from the ones this was written for (the commands then simply import pydantic).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_INT = re.compile(r"-?(0|[1-9][0-9]{0,17})")
#: Stands for "not sure: ask typer's adapter".
_UNSURE = object()


def plain_value(annotation: Any, parameter_info: Any, value: Any) -> Any:
    """``value`` as typer's adapter would coerce it for ``annotation``, or ``_UNSURE``."""
    if parameter_info.parser is not None or getattr(parameter_info, "click_type", None) is not None:
        return _UNSURE
    if annotation is str:
        return value if type(value) is str else _UNSURE
    if annotation is bool:
        return value if type(value) is bool else _UNSURE
    if annotation is int:
        if parameter_info.clamp:
            return _UNSURE
        if type(value) is str and _INT.fullmatch(value):
            number = int(value)
        elif type(value) is int:
            number = value
        else:
            return _UNSURE
        low, high = parameter_info.min, parameter_info.max
        if (low is not None and number < low) or (high is not None and number > high):
            return _UNSURE
        return number
    if isinstance(annotation, type) and issubclass(annotation, Path) and parameter_info.path_type is None:
        if type(value) is str and value and "\x00" not in value:
            return annotation(value)
        return value if type(value) is annotation else _UNSURE
    return _UNSURE


def finish_path(value: Path, parameter_info: Any, param: Any = None, ctx: Any = None) -> Any:
    """The adapter's own path step after the conversion: exists, file or folder, resolve (typer's code)."""
    from typer._param_types import coerce_cli_path

    return coerce_cli_path(value, parameter_info, path_type=type(value), param=param, ctx=ctx)


def install() -> bool:
    """Read plain values without pydantic in every typer command of this process; False (and nothing
    changed) when typer's internals are not the ones this was written for."""
    try:
        from typer import _coercion, _param_types
        from typer.core import _TyperParameter
    except ImportError:
        return False
    needed = (getattr(_TyperParameter, "get_runtime_param", None), getattr(_coercion, "RuntimeParam", None),
              getattr(_coercion, "build_runtime_param", None), getattr(_param_types, "coerce_cli_path", None))
    if not all(needed) or getattr(_TyperParameter, "_hocvu_plain", False):
        return bool(getattr(_TyperParameter, "_hocvu_plain", False))

    @dataclass(frozen=True)
    class PlainRuntimeParam(_coercion.RuntimeParam):
        """Plain values here; the rest through typer's adapter (built on first need)."""

        descriptor: Any = None

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            plain = plain_value(self.annotation, self.parameter_info, value)
            if plain is _UNSURE:
                full = _coercion.build_runtime_param(self.descriptor)
                param._runtime_param = full  # the adapter from now on
                return full._coerce_value(value, param=param, ctx=ctx)
            if isinstance(plain, Path):
                return finish_path(plain, self.parameter_info, param=param, ctx=ctx)
            return plain

    def get_runtime_param(self: Any) -> Any:
        if self._runtime_param is None:
            desc = self.type_descriptor
            simple = desc.file_annotation is None and (
                desc.annotation in (str, int, bool)
                or (isinstance(desc.annotation, type) and issubclass(desc.annotation, Path)))
            self._runtime_param = (
                PlainRuntimeParam(parameter_info=desc.parameter_info, annotation=desc.annotation, descriptor=desc)
                if simple else _coercion.build_runtime_param(desc))
        return self._runtime_param

    _TyperParameter.get_runtime_param = get_runtime_param  # type: ignore[method-assign]
    _TyperParameter._hocvu_plain = True  # type: ignore[attr-defined]
    return True
