"""Plain option values read without pydantic (generator/cli/params.py) come out exactly as typer's own
pydantic adapter gives them; everything else goes to the adapter, errors included."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import pytest
import typer
from typer import _adapters
from typer.models import ArgumentInfo, OptionInfo
from typer.testing import CliRunner

from generator.cli import params

VALUES = ["", "x", "Hà Nội", "0", "5", "-0", "-7", "007", "+3", " 4", "4 ", "1_000", "٣", "3.0", "1e3",
          "99999999999999999999", "true", "no", "-", 0, 1, 5, -3, 500, True, False, 2.5, None, b"bytes"]
INFOS = [OptionInfo(), OptionInfo(min=1), OptionInfo(min=0, max=10), OptionInfo(clamp=True, min=1, max=3),
         ArgumentInfo()]


def _adapter(annotation, info, value):  # type: ignore[no-untyped-def]
    """What typer gives for ``value``: ('ok', result) or ('error', None)."""
    try:
        return "ok", _adapters.build_adapter(annotation, info).validate_python(value)
    except Exception:
        return "error", None


def _answered(annotation, infos, values):  # type: ignore[no-untyped-def]
    """(info, value, plain value) for every pair the plain path answers (not handed to typer's adapter)."""
    for info in infos:
        for value in values:
            plain = params.plain_value(annotation, info, value)
            if plain is not params._UNSURE:
                yield info, value, plain


@pytest.mark.parametrize("annotation", [str, int, bool])
def test_plain_values_are_typers_values(annotation):
    answered = 0
    for info, value, plain in _answered(annotation, INFOS, VALUES):
        answered += 1
        outcome, expected = _adapter(annotation, info, value)
        assert outcome == "ok", (annotation, info, value)
        assert plain == expected and type(plain) is type(expected), (annotation, info, value)
    assert answered >= 10  # the plain path is taken, not always handed over


def test_plain_paths_are_typers_paths(tmp_path):
    (tmp_path / "f.txt").write_text("x", encoding="utf-8")
    values = [str(tmp_path), str(tmp_path / "f.txt"), str(tmp_path / "missing"), "rel/dir", "~/x", "a/../b", ".",
              "", tmp_path]
    infos = [OptionInfo(), OptionInfo(file_okay=False), OptionInfo(dir_okay=False), OptionInfo(exists=True),
             OptionInfo(resolve_path=True), OptionInfo(path_type=str)]
    answered = 0
    for info, value, plain in _answered(Path, infos, values):
        answered += 1
        assert isinstance(plain, Path)
        outcome, expected = _adapter(Path, info, value)
        try:
            mine = ("ok", params.finish_path(plain, info))
        except Exception:
            mine = ("error", None)
        assert mine == (outcome, expected), (info, value)
    assert answered >= 20


app = typer.Typer(add_completion=False)


@app.command()
def cmd(
    name: Annotated[str, typer.Argument()],
    limit: Annotated[int, typer.Option("--limit", "-n", min=1)] = 500,
    level: Annotated[Optional[int], typer.Option("--level")] = None,  # noqa: UP045 - typer needs Optional here
    where: Annotated[Optional[Path], typer.Option("--where", file_okay=False,  # noqa: UP045
                                                  envvar="CLI_PARAMS_WHERE")] = None,
    flag: Annotated[bool, typer.Option("--flag")] = False,
) -> None:
    typer.echo(repr((name, limit, level, where, flag)))


@pytest.mark.parametrize("args", [
    ["a"], ["Hà Nội", "-n", "3", "--level", "-2", "--flag"], ["a", "--limit", "0"], ["a", "--limit", "x"],
    ["a", "--level", "+4"], ["a", "--level", " 5"], ["a", "--where", "here"], ["a", "--where", "FILE"], [],
])
def test_a_command_runs_and_fails_the_same_with_and_without(monkeypatch, tmp_path, args):
    (tmp_path / "file").write_text("x", encoding="utf-8")
    results = []
    for plain in (False, True):
        with monkeypatch.context() as m:
            if not plain:  # typer's own coercion: every value through its adapter
                from typer import _coercion
                from typer.core import _TyperParameter

                def stock(self):  # type: ignore[no-untyped-def]
                    if self._runtime_param is None:
                        self._runtime_param = _coercion.build_runtime_param(self.type_descriptor)
                    return self._runtime_param
                m.setattr(_TyperParameter, "get_runtime_param", stock)
            else:
                assert params.install()
            args = [str(tmp_path / "file") if a == "FILE" else a for a in args]
            r = CliRunner().invoke(app, args, env={"CLI_PARAMS_WHERE": str(tmp_path)})
            results.append((r.exit_code, r.output))
    assert results[0] == results[1]
