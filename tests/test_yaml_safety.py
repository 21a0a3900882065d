"""Hostile YAML is a one-line error in milliseconds, wherever it comes in."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from generator.errors import DataError
from generator.yamlio import MAX_DEPTH, compose_text, load_model


def bomb(levels: int = 9) -> str:
    """The classic 'billion laughs': each level refers to the one before ten times (~380 bytes)."""
    lines = ['- &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        refs = ",".join([f"*a{i - 1}"] * 10)
        lines.append(f"- &a{i} [{refs}]")
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_fast_and_small() -> None:
    tracemalloc.start()
    with pytest.raises(DataError, match=r"line \d+: YAML aliases"):
        compose_text(bomb(9), "edit")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 10 * 1024 * 1024  # expanded, 9 levels would need ~20 GB


def test_duplicate_keys_and_deep_nesting_are_refused() -> None:
    with pytest.raises(DataError, match="'name' appears twice"):
        compose_text("name: a\nname: b\n", "spec.yaml")
    deep = "x: " + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5) + "\n"
    with pytest.raises(DataError, match="nested"):
        compose_text(deep, "spec.yaml")


def test_a_bomb_in_a_batch_spec_or_a_profile_is_a_one_line_error(tmp_path: Path) -> None:
    from generator.batch.spec import BatchSpec
    from generator.schema import TargetGroup

    for model in (BatchSpec, TargetGroup):
        f = tmp_path / f"{model.__name__}.yaml"
        f.write_text("name: x\nlist:\n" + "\n".join("  " + line for line in bomb(9).splitlines()) + "\n")
        with pytest.raises(DataError, match="aliases") as err:
            load_model(f, model)
        assert "\n" not in str(err.value)


def test_endless_and_huge_files_are_refused(tmp_path: Path) -> None:
    from generator.batch.spec import BatchSpec

    with pytest.raises(DataError, match="larger than"):
        load_model(Path("/dev/zero"), BatchSpec)
    big = tmp_path / "big.yaml"
    big.write_bytes(b"#" * (9 * 1024 * 1024))
    with pytest.raises(DataError, match="larger than"):
        load_model(big, BatchSpec)


def test_the_web_edit_parser_refuses_a_bomb() -> None:
    from generator.web.operations import parse_section

    with pytest.raises(DataError, match="aliases"):
        parse_section("glossary", bomb(9))
