"""Read YAML data files into pydantic models, with errors that name the file, line and field."""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from generator.errors import DataError

M = TypeVar("M", bound=BaseModel)


def to_nfc(value: Any) -> Any:
    """Normalise every string inside ``value`` to Unicode NFC."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, dict):
        return {to_nfc(k): to_nfc(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_nfc(v) for v in value]
    return value


def _compose(path: Path) -> tuple[Any, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text ({exc.reason}); save the file as UTF-8") from exc
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror})") from exc
    return compose_text(text, str(path))


def compose_text(text: str, label: str) -> tuple[Any, Any]:
    """Parse YAML ``text`` into (node tree with line marks, data); DataError '<label>: line N: ...'."""
    import yaml

    # libyaml's loader when PyYAML was built with it: same nodes and line marks, several times faster.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = f" line {mark.line + 1}" if mark else ""
        raise DataError(f"{label}:{line}: malformed YAML: {exc.problem}; fix the syntax there") from exc
    except yaml.YAMLError as exc:
        raise DataError(f"{label}: malformed YAML: {exc}") from exc
    finally:
        loader.dispose()
    return node, data


def _line_of(node: Any, loc: tuple[Any, ...]) -> int | None:
    """Line (1-based) of the YAML node at pydantic location ``loc``, as deep as it can be found."""
    import yaml

    line = node.start_mark.line + 1 if node is not None else None
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            nxt = None
            for k, v in node.value:
                if str(k.value) == str(key):
                    nxt = v
                    line = k.start_mark.line + 1
                    break
            if nxt is None:
                return line
            node = nxt
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def describe_validation(path: Path | str, node: Any, exc: ValidationError) -> str:
    """One line: file, line, field path and what is wrong (first error, with a count of the rest)."""
    err = exc.errors()[0]
    loc = tuple(err["loc"])
    inner = (err.get("ctx") or {}).get("error")
    loc += tuple(getattr(inner, "loc", ()))
    line = _line_of(node, loc)
    field = ".".join(str(p) for p in loc) or "(top level)"
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "missing":
        msg = "required field is missing"
    elif err["type"] == "extra_forbidden":
        msg = "unknown field (check the spelling)"
    more = len(exc.errors()) - 1
    extra = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    where = f":{line}" if line else ""
    return f"{path}{where}: {field}: {msg}{extra}"


def load_model(path: Path, model: type[M]) -> M:
    """Parse the YAML file at ``path`` into ``model``; DataError with file:line: field: problem."""
    node, data = _compose(path)
    if data is None:
        raise DataError(f"{path}: the file is empty; it must hold a {model.__name__} mapping")
    try:
        return model.model_validate(to_nfc(data))
    except ValidationError as exc:
        raise DataError(describe_validation(path, node, exc)) from exc


def dump_yaml(data: Any) -> str:
    """YAML text for ``data``, keeping Unicode as is and key order."""
    import yaml

    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=110)
