"""Parsed YAML kept by the sha256 of the text (``yamlio.load_model(cache=...)``): an unchanged file skips the
parser, a changed one is parsed again, and what comes back is what the parser gives."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from pydantic import BaseModel

from generator import yamlio
from generator.errors import DataError
from generator.frameworks import Library


class Entry(BaseModel):
    """A small model with the shapes data files use: text, numbers as keys, lists, a flag."""

    id: str
    levels: dict[int, str]
    tags: list[str] = []
    draft: bool = False


class Dated(BaseModel):
    """A model with a YAML date (JSON has none: such a file is not cached)."""

    id: str
    day: dt.date


def _no_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_a: object, **_k: object) -> None:
        raise AssertionError("the YAML parser ran")

    monkeypatch.setattr(yamlio, "compose_text", refuse)


def test_an_unchanged_file_is_read_from_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src, cache = tmp_path / "e.yaml", tmp_path / "cache"
    src.write_text("id: Cà phê\nlevels:\n  1: một\n  2: hai\ntags: [a, b]\ndraft: true\n", encoding="utf-8")
    first = yamlio.load_model(src, Entry, cache=cache)
    assert len(list(cache.glob("*.json"))) == 1
    with monkeypatch.context() as m:
        _no_parser(m)
        again = yamlio.load_model(src, Entry, cache=cache)
    assert again == first and list(again.levels) == [1, 2] and again.draft is True
    src.write_text("id: Trà\nlevels: {3: ba}\n", encoding="utf-8")  # changed: parsed afresh
    assert yamlio.load_model(src, Entry, cache=cache).levels == {3: "ba"}
    assert len(list(cache.glob("*.json"))) == 1  # one entry per file: the earlier text's is gone
    other = tmp_path / "f.yaml"
    other.write_text("id: Trà\nlevels: {3: ba}\n", encoding="utf-8")  # the same text in another file
    assert yamlio.load_model(other, Entry, cache=cache).levels == {3: "ba"}
    assert len(list(cache.glob("*.json"))) == 2
    with monkeypatch.context() as m:
        _no_parser(m)
        assert yamlio.load_model(src, Entry, cache=cache).id == "Trà"


def test_a_cached_file_that_does_not_validate_still_names_its_line(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    src, cache = tmp_path / "e.yaml", tmp_path / "cache"
    src.write_text("id: x\nlevels:\n  1: one\n  two: 2\n", encoding="utf-8")
    for _ in range(2):  # parsed, then from the cache: the same one-line error with its line
        with pytest.raises(DataError, match=r"e\.yaml:4: levels\.two"):
            yamlio.load_model(src, Entry, cache=cache)
    assert list(cache.glob("*.json"))


def test_what_json_cannot_hold_is_parsed_each_time(tmp_path: Path) -> None:
    src, cache = tmp_path / "d.yaml", tmp_path / "cache"
    src.write_text("id: x\nday: 2026-12-03\n", encoding="utf-8")
    assert yamlio.load_model(src, Dated, cache=cache).day == dt.date(2026, 12, 3)
    assert not list(cache.glob("*.json"))
    src.write_text("id: x\nlevels: {1: a}\ntags: [\"\\0odd\"]\n", encoding="utf-8")
    assert yamlio.load_model(src, Entry, cache=cache).tags == ["\x00odd"]


def test_a_damaged_cache_entry_is_parsed_again(tmp_path: Path) -> None:
    src, cache = tmp_path / "e.yaml", tmp_path / "cache"
    src.write_text("id: x\nlevels: {1: a}\n", encoding="utf-8")
    yamlio.load_model(src, Entry, cache=cache)
    (entry,) = cache.glob("*.json")
    entry.write_text("{not json", encoding="utf-8")
    assert yamlio.load_model(src, Entry, cache=cache).levels == {1: "a"}


def test_the_library_caches_only_in_a_workspace_with_its_state_folder(workspace: Path) -> None:
    Library(workspace).framework("vn-dcf-2025")
    assert not (workspace / ".hocvu").exists()  # a folder that is not a workspace yet is left alone
    (workspace / ".hocvu").mkdir()
    lib = Library(workspace)
    fw, group = lib.framework("vn-dcf-2025"), lib.group("farmers")
    assert len(list((workspace / ".hocvu/cache/yaml").glob("*.json"))) >= 2
    again = Library(workspace)
    assert again.framework("vn-dcf-2025") == fw and again.group("farmers") == group
    assert again.competence_hash("vn-dcf-2025", "4.2") == lib.competence_hash("vn-dcf-2025", "4.2")
