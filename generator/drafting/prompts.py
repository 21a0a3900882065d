"""Prompt templates (Jinja2) in ``prompts/``; each draft records the content hash of those it used."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.errors import DataError
from generator.frameworks import data_dirs

TEMPLATES = ("system", "lesson", "revise")
LANGUAGE_NAMES = {"vi": "Vietnamese (tiếng Việt)", "en": "English"}


def fence(text: str) -> str:
    """Make passage text unable to close or open a SOURCE fence."""
    return text.replace("<<<", "‹‹‹").replace(">>>", "›››")


@dataclass
class PromptSet:
    """The three templates, loaded from the shipped folder and the workspace's override."""

    texts: dict[str, str]
    paths: dict[str, Path] = field(default_factory=dict)
    _compiled: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, workspace: Path | None = None) -> PromptSet:
        """Load templates; a workspace's ``prompts/<name>.j2`` overrides the shipped one."""
        texts: dict[str, str] = {}
        paths: dict[str, Path] = {}
        for folder in data_dirs("prompts", workspace):
            for name in TEMPLATES:
                p = folder / f"{name}.j2"
                if p.is_file():
                    texts[name] = p.read_text(encoding="utf-8")
                    paths[name] = p
        missing = [n for n in TEMPLATES if n not in texts]
        if missing:
            raise DataError("prompt templates missing: {missing}; reinstall hocvu or restore prompts/",
                            missing=', '.join(missing))
        return cls(texts, paths)

    def hash(self, *names: str) -> str:
        """Content hash of the named templates (all of them by default)."""
        h = hashlib.sha256()
        for name in names or TEMPLATES:
            h.update(name.encode() + b"\0" + self.texts[name].encode("utf-8") + b"\0")
        return h.hexdigest()[:16]

    def render(self, name: str, **values: Any) -> str:
        """Render template ``name`` (compiled once per PromptSet)."""
        import jinja2

        try:
            if name not in self._compiled:
                env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                                         autoescape=False)
                env.filters["fence"] = fence
                self._compiled[name] = env.from_string(self.texts[name])
            return self._compiled[name].render(**values).strip()  # type: ignore[no-any-return]
        except jinja2.TemplateError as exc:
            where = self.paths.get(name, name)
            raise DataError("{where}: template error: {exc}; fix the template", where=where, exc=exc) from exc
