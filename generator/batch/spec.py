"""The batch spec: a YAML file naming what to build."""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator

from generator import registry
from generator.errors import DataError, NotFoundError
from generator.frameworks import Library
from generator.i18n import Message
from generator.schema import LANGS, Format, Lang, Strict
from generator.yamlio import load_model


class BatchSpec(Strict):
    """What a batch builds: every combination of its groups, competences, levels and languages."""

    name: str
    framework: str
    groups: list[str] = Field(min_length=1)
    competences: list[str] = Field(min_length=1, description="codes like 4.2 or patterns like 4.*")
    levels: list[int] = Field(min_length=1)
    languages: list[Lang] = Field(default_factory=lambda: list[Lang](["vi"]), min_length=1)
    formats: list[Format] | Literal["group"] = Field(default="group", min_length=1)
    backend: Annotated[str, AfterValidator(registry.backends.validator("auto"))] = "auto"
    model: str | None = None
    sources: str | None = None
    concurrency: int = Field(default=4, ge=1, le=64)
    stop_after: int = Field(default=5, ge=0, description="stop sending after this many lessons in a row "
                            "failed with the same connection, timeout or server error (0: never)")

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", v):
            raise ValueError(f"name must be letters, digits, '.', '_' or '-' (it names files): {v!r}")
        return v

    @field_validator("levels")
    @classmethod
    def _levels(cls, v: list[int]) -> list[int]:
        bad = [n for n in v if not 1 <= n <= 8]
        if bad:
            raise ValueError(f"levels {bad} are outside 1-8")
        return sorted(set(v))

    def formats_for(self, group_formats: list[str]) -> list[str]:
        """Formats to render for a group: the spec's, or the group's defaults."""
        chosen = group_formats if self.formats == "group" else list(self.formats)
        return [f for f in registry.formats.names() if f in chosen]


def load_spec(path: Path) -> BatchSpec:
    """Read and validate a batch spec; DataError naming file, line and field."""
    if not path.is_file():
        raise DataError("{path}: no such batch spec; give the path of a .yaml file", path=path)
    return load_model(path, BatchSpec)


def expand_competences(spec: BatchSpec, library: Library) -> list[str]:
    """Codes matching the spec's codes and patterns, in framework order; unknown codes are an error."""
    fw = library.framework(spec.framework)
    codes = [c.code for c in fw.competences]
    out: list[str] = []
    for pattern in spec.competences:
        matched = [c for c in codes if fnmatch.fnmatchcase(c, pattern)]
        if not matched:
            raise NotFoundError.unknown(Message("competence or pattern in {framework}", framework=spec.framework),
                                        pattern, codes)
        out += [c for c in matched if c not in out]
    return sorted(out, key=codes.index)


def validate_names(spec: BatchSpec, library: Library) -> None:
    """Check that the framework, groups and levels exist (NotFoundError listing valid choices)."""
    fw = library.framework(spec.framework)
    for g in spec.groups:
        library.group(g)
    for n in spec.levels:
        fw.level(n)
    for lang in spec.languages:
        if lang not in LANGS:  # pragma: no cover - the model already restricts it
            raise NotFoundError.unknown("language", lang, LANGS)
