"""Load and validate frameworks, target groups, equivalences and the offline content library.

Data comes from the shipped ``frameworks/`` folder (inside the wheel, or the repository in a checkout),
then from the workspace's own ``frameworks/``, whose files add to or override shipped ones by id.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from generator.errors import DataError, NotFoundError
from generator.i18n import Message
from generator.yamlio import load_model

if TYPE_CHECKING:  # the pydantic models load with the first framework or group read, not with the Library
    from pydantic import BaseModel

    from generator.schema import Competence, Equivalence, Framework, TargetGroup

PACKAGE_DIR = Path(__file__).resolve().parent


def shipped_dir(kind: str) -> Path:
    """The shipped data folder ``kind`` ('frameworks' or 'prompts'): wheel copy first, else the checkout."""
    inside = PACKAGE_DIR / "_shipped" / kind
    if inside.is_dir():
        return inside
    return PACKAGE_DIR.parent / kind


def data_dirs(kind: str, workspace: Path | None) -> list[Path]:
    """Folders to read ``kind`` from, lowest priority first, without duplicates."""
    dirs = [shipped_dir(kind)]
    if workspace is not None:
        ws = (workspace / kind).resolve()
        if ws.is_dir() and ws not in [d.resolve() for d in dirs]:
            dirs.append(ws)
    return [d for d in dirs if d.is_dir()]


def file_signature(path: Path) -> str:
    """A file's path, size and modification time: changes when the file is written."""
    st = path.stat()
    return f"{path} {st.st_size} {st.st_mtime_ns}"


def model_hash(model: BaseModel) -> str:
    """A stable short hash of a model's content (for provenance and outdated detection)."""
    blob = json.dumps(model.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


@dataclass
class Library:
    """Every framework, group and content entry visible from one workspace, loaded lazily."""

    workspace: Path | None = None
    _content: dict[tuple[str, str], object] = field(default_factory=dict, repr=False)
    _frameworks: dict[str, Framework] = field(default_factory=dict, repr=False)
    _listing: dict[tuple[str, str], dict[str, Path]] = field(default_factory=dict, repr=False)
    _hashes: dict[tuple[str, ...], str] = field(default_factory=dict, repr=False)

    def _files(self, sub: str, pattern: str = "*.yaml") -> dict[str, Path]:
        key = (sub, pattern)
        if key not in self._listing:
            self._listing[key] = self._list_files(sub, pattern)
        return self._listing[key]

    def _list_files(self, sub: str, pattern: str) -> dict[str, Path]:
        found: dict[str, Path] = {}
        for base in data_dirs("frameworks", self.workspace):
            folder = base / sub if sub else base
            if folder.is_dir():
                for p in sorted(folder.glob(pattern)):
                    found[p.stem] = p
        return found

    def _load_framework(self, fid: str, path: Path) -> Framework:
        if fid not in self._frameworks:
            from generator.schema import Framework

            self._hashes[("file", "fw", fid)] = file_signature(path)
            fw = load_model(path, Framework, cache=self._yaml_cache)
            if fw.id != fid:
                raise DataError("{path}: id {id!r} must match the file name {fid!r}", path=path, id=fw.id, fid=fid)
            self._frameworks[fid] = fw
        return self._frameworks[fid]

    @cached_property
    def _yaml_cache(self) -> Path | None:
        """Where parsed YAML is kept (``yamlio.load_model``): in a workspace that has its ``.hocvu`` folder."""
        state = self.workspace / ".hocvu" if self.workspace is not None else None
        return state / "cache" / "yaml" if state is not None and state.is_dir() else None

    @cached_property
    def _framework_paths(self) -> dict[str, Path]:
        return {stem: path for stem, path in self._files("").items() if stem != "equivalences"}

    @property
    def frameworks(self) -> dict[str, Framework]:
        """Frameworks by id (all of them loaded; ``framework(id)`` loads only the one asked for)."""
        return {fid: self._load_framework(fid, path) for fid, path in self._framework_paths.items()}

    @cached_property
    def groups(self) -> dict[str, TargetGroup]:
        """Target-group profiles by id."""
        from generator.schema import TargetGroup

        out: dict[str, TargetGroup] = {}
        for stem, path in self._files("groups").items():
            self._hashes[("file", "group", stem)] = file_signature(path)
            g = load_model(path, TargetGroup, cache=self._yaml_cache)
            if g.id != stem:
                raise DataError("{path}: id {id!r} must match the file name {stem!r}",
                                path=path, id=g.id, stem=stem)
            out[g.id] = g
        return out

    @cached_property
    def equivalence(self) -> Equivalence | None:
        """Cross-framework code equivalences, if shipped."""
        from generator.schema import Equivalence

        path = self._files("").get("equivalences")
        return load_model(path, Equivalence) if path else None

    def source_signatures(self, frameworks: Iterable[str]) -> list[str]:
        """The files the entries of ``frameworks``, their content and every group profile come from, each
        with its size and modification time — as loaded for what this library keeps loaded (frameworks,
        groups), as they are now for what it reads afresh (content). Equal lists, equal hashes: a cheap
        fingerprint (no file is parsed) of what ``competence_hash``, ``group_hash`` and ``content_hash``
        would answer."""
        out: list[str] = []
        for fid in sorted(set(frameworks)):
            path = self._framework_paths.get(fid)
            if path is None:
                out.append(f"framework {fid}: none")
                continue
            out.append(self._hashes.get(("file", "fw", fid)) or file_signature(path))
            out += [file_signature(p) for _, p in sorted(self._files(f"content/{fid}").items())]
        loaded = "groups" in self.__dict__
        for stem, path in sorted(self._files("groups").items()):
            out.append(self._hashes.get(("file", "group", stem), "") if loaded else file_signature(path))
        return out

    def framework_ids(self) -> set[str]:
        """The ids of the frameworks in the library, without loading them."""
        return set(self._framework_paths)

    def framework(self, fid: str) -> Framework:
        """The framework ``fid``; NotFoundError listing the valid ids otherwise."""
        path = self._framework_paths.get(fid)
        if path is None:
            raise NotFoundError.unknown("framework", fid, sorted(self._framework_paths))
        return self._load_framework(fid, path)

    def group(self, gid: str) -> TargetGroup:
        """The group ``gid``; NotFoundError listing the valid ids otherwise."""
        try:
            return self.groups[gid]
        except KeyError:
            raise NotFoundError.unknown("group", gid, sorted(self.groups)) from None

    def equivalent(self, fid: str, code: str, other: str) -> str | None:
        """The code in framework ``other`` that means the same as ``code`` in ``fid`` (the table is read
        both ways)."""
        eq = self.equivalence
        if eq is None:
            return None
        direct = eq.pairs.get(fid, {}).get(other, {}).get(code)
        if direct:
            return direct
        back = eq.pairs.get(other, {}).get(fid, {})
        return next((mine for mine, theirs in back.items() if theirs == code), None)

    def content_frameworks(self) -> list[str]:
        """Frameworks that have an offline content library."""
        out: list[str] = []
        for base in data_dirs("frameworks", self.workspace):
            folder = base / "content"
            if folder.is_dir():
                out += [d.name for d in folder.iterdir() if d.is_dir() and any(d.glob("*.yaml"))]
        return sorted(set(out))

    def content(self, fid: str, code: str):  # type: ignore[no-untyped-def]
        """The offline content entry for a competence (``CompetenceContent``)."""
        from generator.content import CompetenceContent

        key = (fid, code)
        if key not in self._content:
            path = self._files(f"content/{fid}").get(code)
            if path is None:
                available = sorted(self._files(f"content/{fid}"))
                raise NotFoundError.unknown(Message("offline content for {framework}", framework=fid), code, available)
            entry = load_model(path, CompetenceContent, cache=self._yaml_cache)
            if entry.competence != code or entry.framework != fid:
                raise DataError("{path}: says {framework} {competence}, expected {fid} {code}",
                                path=path, framework=entry.framework, competence=entry.competence, fid=fid, code=code)
            self._content[key] = entry
        return self._content[key]

    def content_codes(self, fid: str) -> list[str]:
        """Competences with offline content in framework ``fid``."""
        return sorted(self._files(f"content/{fid}"))

    def competence_hash(self, fid: str, code: str) -> str:
        """Hash of one framework entry (for outdated detection); kept, as the loaded framework is."""
        key = ("fw", fid, code)
        if key not in self._hashes:
            self._hashes[key] = model_hash(self.framework(fid).competence(code))
        return self._hashes[key]

    def group_hash(self, gid: str) -> str:
        """Hash of one group profile; kept, as the loaded profile is."""
        key = ("group", gid)
        if key not in self._hashes:
            self._hashes[key] = model_hash(self.group(gid))
        return self._hashes[key]

    def content_hash(self, fid: str, code: str) -> str:
        """Hash of one content library entry, or '' when there is none."""
        path = self._files(f"content/{fid}").get(code)
        if path is None:
            return ""
        # The file's bytes: as good a fingerprint as the parsed entry, without parsing it. Read again
        # only when the file's size or modification time changed (an edit counts at once).
        st = path.stat()
        key = ("content", str(path), str(st.st_size), str(st.st_mtime_ns))
        if key not in self._hashes:
            self._hashes[key] = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
        return self._hashes[key]


def check_content(lib: Library, fid: str, code: str) -> list[str]:
    """Cross-check a content entry against its framework and the groups it is written for: problems as
    readable lines (empty when the entry can serve every level and group)."""
    from generator.content import CompetenceContent, content_problems

    comp: Competence = lib.framework(fid).competence(code)
    entry: CompetenceContent = lib.content(fid, code)
    letters = {lvl: {d.id.rsplit("-", 1)[1] for d in comp.descriptors(lvl)} for lvl in range(1, 9)}
    return content_problems(entry, letters, list(lib.groups.values()))
