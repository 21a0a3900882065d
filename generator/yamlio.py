"""Read YAML data files into pydantic models, with errors that name the file, line and field.

Every YAML input (data files, batch specs, edits from the web or the command line) goes through
``compose_text``, which is safe against hostile text: aliases are refused (a few hundred bytes of nested
aliases would otherwise expand to gigabytes), as are duplicate keys, nesting deeper than ``MAX_DEPTH`` and
text longer than ``MAX_BYTES`` — each a one-line error in milliseconds.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from generator.errors import DataError
from generator.i18n import N_, Joined, Message

if TYPE_CHECKING:  # pydantic loads with the first model read, not with this module (the Library imports it)
    from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound="BaseModel")

#: Largest YAML input read (bytes); the biggest shipped file is well under 1 MB.
MAX_BYTES = 8 * 1024 * 1024
#: Deepest nesting of mappings and lists accepted.
MAX_DEPTH = 40


def to_nfc(value: Any) -> Any:
    """Normalise every string inside ``value`` to Unicode NFC."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, dict):
        return {to_nfc(k): to_nfc(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_nfc(v) for v in value]
    return value


def read_limited(path: Path, limit: int = MAX_BYTES, what: str = "file") -> str:
    """The UTF-8 text of ``path``, refusing more than ``limit`` bytes (and endless files like /dev/zero)."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read(limit + 1)
    except OSError as exc:
        raise DataError("{path}: cannot read ({reason})", path=path, reason=exc.strerror or exc) from exc
    if len(raw) > limit:
        raise DataError("{path}: the {what} is larger than {mb} MB; "
                        "give a smaller file (is it the right one?)",
                        path=path, what=what, mb=limit // (1024 * 1024))
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError("{path}: not UTF-8 text ({reason}); save the file as UTF-8", path=path,
                        reason=exc.reason) from exc


def _check_tree(node: Any, label: str) -> None:
    """Refuse aliases (a node reached twice), duplicate keys and nesting deeper than MAX_DEPTH — in time
    linear in the text, without expanding anything."""
    import yaml

    seen: set[int] = set()
    stack = [(node, 1)]
    while stack:
        n, depth = stack.pop()
        if id(n) in seen:
            raise DataError("{label}: line {line}: YAML aliases (*name) are not allowed; "
                            "write the value out in full", label=label, line=n.start_mark.line + 1)
        seen.add(id(n))
        if depth > MAX_DEPTH:
            raise DataError("{label}: line {line}: nested more than {max_depth} levels deep; "
                            "flatten the data", label=label, line=n.start_mark.line + 1, max_depth=MAX_DEPTH)
        if isinstance(n, yaml.MappingNode):
            keys: set[str] = set()
            for k, v in n.value:
                if isinstance(k, yaml.ScalarNode):
                    if k.value in keys:
                        raise DataError("{label}: line {line}: the key {key!r} appears "
                                        "twice in the same mapping; keep one",
                                        label=label, line=k.start_mark.line + 1, key=k.value)
                    keys.add(k.value)
                stack += [(k, depth + 1), (v, depth + 1)]
        elif isinstance(n, yaml.SequenceNode):
            stack += [(v, depth + 1) for v in n.value]


def compose_text(text: str, label: str) -> tuple[Any, Any]:
    """Parse YAML ``text`` into (node tree with line marks, data); DataError '<label>: line N: ...'."""
    import yaml

    # libyaml's loader when PyYAML was built with it: same nodes and line marks, several times faster.
    if len(text) > MAX_BYTES:
        raise DataError("{label}: the YAML text is larger than {mb} MB; give less",
                        label=label, mb=MAX_BYTES // (1024 * 1024))
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            _check_tree(node, label)
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = f" line {mark.line + 1}" if mark else ""
        problem = _YAML_PROBLEMS.get(str(exc.problem)) or _YAML_PROBLEMS.get(str(exc.problem).split(", but ")[0])
        raise DataError("{label}:{line}: malformed YAML: {problem}; fix the syntax there", label=label, line=line,
                        problem=Message(problem) if problem else exc.problem) from exc
    except yaml.YAMLError as exc:
        raise DataError("{label}: malformed YAML: {exc}", label=label, exc=exc) from exc
    except RecursionError:
        raise DataError("{label}: nested too deeply to read; flatten the data", label=label) from None
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


#: PyYAML's commonest syntax problems, as people read them (others show PyYAML's own words).
_YAML_PROBLEMS = {
    "did not find expected ',' or ']'": N_("a list in [ ] is not closed: a ',' or ']' is missing"),
    "did not find expected ',' or '}'": N_("a mapping in { } is not closed: a ',' or '}' is missing"),
    "did not find expected key": N_("a line is not indented like the field before it"),
    "did not find expected '-' indicator": N_("an item of the list does not start with “- ”"),
    "mapping values are not allowed here": N_("a “:” where it cannot be (put the text in quotes)"),
    "could not find expected ':'": N_("a “:” is missing after a field name"),
    "found character '\\t' that cannot start any token": N_("a tab: indent with spaces"),
    "found unexpected end of stream": N_("the text ends in the middle (a quote is not closed?)"),
    "found unexpected ':'": N_("a “:” where it cannot be (put the text in quotes)"),
    "expected ',' or ']'": N_("a list in [ ] is not closed: a ',' or ']' is missing"),
    "expected ',' or '}'": N_("a mapping in { } is not closed: a ',' or '}' is missing"),
    "expected <block end>": N_("a line is not indented like the field before it"),
}

#: Pydantic's problems by type, as people read them (others show pydantic's own words).
_PROBLEMS = {
    "missing": N_("required field is missing"),
    "extra_forbidden": N_("unknown field (check the spelling)"),
    "string_too_long": N_("the text is longer than {max_length} characters"),
    "string_too_short": N_("the text is shorter than {min_length} characters"),
    "too_long": N_("more than {max_length} items"),
    "too_short": N_("fewer than {min_length} items"),
    "string_type": N_("expected text"),
    "int_parsing": N_("expected a whole number"),
    "int_type": N_("expected a whole number"),
    "list_type": N_("expected a list (each item starting with “- ”)"),
    "dict_type": N_("expected fields (“name: value”)"),
    "model_type": N_("expected fields (“name: value”)"),
    "literal_error": N_("expected one of: {expected}"),
    "greater_than_equal": N_("must be at least {ge}"),
    "less_than_equal": N_("must be at most {le}"),
}


class _Problem(Message):
    """A validation problem: pydantic's own sentence in English, the catalog's in other languages."""

    __slots__ = ("pydantic",)

    def __init__(self, msgid: str, pydantic: str, /, **params: Any) -> None:
        super().__init__(msgid, **params)
        self.pydantic = pydantic

    def render(self, lang: str | None = None) -> str:
        """The problem in ``lang``."""
        from generator.i18n import current_language

        return self.pydantic if (lang or current_language()) == "en" else super().render(lang)


def describe_validation(path: Path | str, node: Any, exc: ValidationError) -> Message:
    """One line: file, line, field path and what is wrong (first error, with a count of the rest), to
    show in the reader's language."""
    err = exc.errors()[0]
    loc = tuple(err["loc"])
    inner = (err.get("ctx") or {}).get("error")
    loc += tuple(getattr(inner, "loc", ()))
    line = _line_of(node, loc)
    field = ".".join(str(p) for p in loc) or Message("(top level)")
    problem: Any = err["msg"].removeprefix("Value error, ")
    if isinstance(getattr(inner, "message", None), Message | Joined):
        problem = inner.message  # type: ignore[union-attr]
    elif err["type"] in ("missing", "extra_forbidden"):
        problem = Message(_PROBLEMS[err["type"]])
    elif err["type"] in _PROBLEMS:  # pydantic's own words in English, ours in Vietnamese
        problem = _Problem(_PROBLEMS[err["type"]], problem, **{k: v for k, v in (err.get("ctx") or {}).items()
                                                               if isinstance(v, int | float | str)})
    more = len(exc.errors()) - 1
    if line and more:
        return Message("{path}:{line}: {field}: {problem} (and {more} more problem(s))", path=str(path),
                       line=line, field=field, problem=problem, more=more)
    if line:
        return Message("{path}:{line}: {field}: {problem}", path=str(path), line=line, field=field, problem=problem)
    if more:
        return Message("{path}: {field}: {problem} (and {more} more problem(s))", path=str(path), field=field,
                       problem=problem, more=more)
    return Message("{path}: {field}: {problem}", path=str(path), field=field, problem=problem)


def load_model(path: Path, model: type[M], *, cache: Path | None = None) -> M:
    """Parse the YAML file at ``path`` into ``model``; DataError with file:line: field: problem.

    With ``cache`` (a folder), the parsed data of the file is kept there as JSON under the sha256 of its
    text, so reading an unchanged file again skips the YAML parser (a 240 KB content entry: ~70 ms → ~3 ms).
    The model is validated every time; line numbers for an error come from parsing the text afresh.
    """
    from pydantic import ValidationError

    text = read_limited(path)
    key = _cache_key(path, text) if cache is not None else ""
    node, data = None, _cache_read(cache, key) if cache is not None else _MISS
    if data is _MISS:
        node, data = compose_text(text, str(path))
        data = to_nfc(data)
        if cache is not None and data is not None:
            _cache_write(cache, key, data)
    if data is None:
        raise DataError("{path}: the file is empty; it must hold a {name} mapping",
                        path=path, name=model.__name__)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        if node is None:
            node, _ = compose_text(text, str(path))
        raise DataError(describe_validation(path, node, exc)) from exc


#: Bumped when what ``load_model`` makes of a text changes (the checks, NFC): older cache entries are ignored.
_CACHE_FORMAT = "yamlio-1"
_MISS: Any = object()


def _cache_key(path: Path, text: str) -> str:
    """``<file>-<text>``: a short hash of the file's path, then the sha256 of what it holds now."""
    import hashlib

    where = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:16]
    what = hashlib.sha256(_CACHE_FORMAT.encode() + b"\n" + text.encode()).hexdigest()
    return f"{where}-{what}"


def _cache_read(cache: Path, key: str) -> Any:
    """The data cached under ``key``, or ``_MISS`` (nothing there, or unreadable: parse the text)."""
    import json

    try:
        return json.loads((cache / f"{key}.json").read_bytes(), object_pairs_hook=_decode_keys)["data"]
    except (OSError, ValueError, KeyError, TypeError):
        return _MISS


#: A mapping key that is not text (YAML's ``1:``, as levels are keyed) is kept as this mark + its JSON.
_KEY = "\x00"


def _encode_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {(k if isinstance(k, str) else _KEY + _json_key(k)): _encode_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_encode_keys(v) for v in value]
    return value


def _decode_keys(pairs: list[tuple[str, Any]]) -> dict[Any, Any]:
    import json

    if any(k[:1] == _KEY for k, _ in pairs):
        return {(json.loads(k[1:]) if k[:1] == _KEY else k): v for k, v in pairs}
    return dict(pairs)


def _json_key(value: Any) -> str:
    """A non-text mapping key as compact JSON."""
    import json

    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _shape(value: Any) -> Any:
    """The types of ``value``'s parts (== alone takes 1 for True and 1.0 for 1)."""
    if isinstance(value, dict):
        return [(type(k), _shape(v)) for k, v in value.items()]
    if isinstance(value, list):
        return [_shape(v) for v in value]
    return type(value)


def _cache_write(cache: Path, key: str, data: Any) -> None:
    """Keep ``data`` under ``key`` when JSON gives it back unchanged (YAML's dates or number keys are not
    kept: such a file is parsed each time); a cache that cannot be written is no error."""
    import json

    from generator.errors import HocvuError
    from generator.fsutil import write_bytes_atomic

    try:
        blob = json.dumps({"data": _encode_keys(data)}, ensure_ascii=False, separators=(",", ":"))
        back = json.loads(blob, object_pairs_hook=_decode_keys)["data"]
        if back != data or _shape(back) != _shape(data):  # e.g. True read back as 1, or a key that was "\x00…"
            return
        cache.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(cache / f"{key}.json", blob.encode("utf-8"))
        for older in cache.glob(f"{key.split('-')[0]}-*.json"):  # one entry per file: its earlier texts go
            if older.name != f"{key}.json":
                older.unlink(missing_ok=True)
    except (OSError, TypeError, ValueError, HocvuError):
        return


def dump_yaml(data: Any) -> str:
    """YAML text for ``data``, keeping Unicode as is and key order."""
    import yaml

    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=110)
