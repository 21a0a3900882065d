"""The stdlib settings reader gives the same values as ``Settings`` or stands aside (None) — never another
value, and never an answer where ``Settings`` raises."""

from __future__ import annotations

import typing

import pytest
from annotated_types import Ge, Gt, Le

from generator.config import Settings, load_settings
from generator.config_light import ALIASES, FIELDS, read_light
from generator.errors import ConfigError

# (environment, hocvu.toml text, must the light reader answer?)
CASES: list[tuple[dict[str, str], str, bool]] = [
    ({}, "", True),
    ({"HOCVU_DATABASE_URL": "sqlite:///x.db", "HOCVU_UI_LANG": "vi", "HOCVU_USER": "an"}, "", True),
    ({"hocvu_model": "lower-case"}, "", True),
    ({"Hocvu_Model": "mixed"}, 'model = "file"\n', True),
    ({}, 'model = "file"\ntimeout = 12\nfour_eyes = false\nui_lang = "en"\nconcurrency = 64\n', True),
    ({}, '[prices."m1"]\ninput = 1.5\noutput = 3\n', True),
    ({}, 'link_allow = ["gov.vn"]\n', True),
    ({"HOCVU_LINK_ALLOW": '["edu.vn", "gov.vn"]'}, 'link_allow = ["x.vn"]\n', True),
    ({"HOCVU_LINK_ALLOW": "gov.vn"}, "", False),
    ({"HOCVU_PRICES": '{"m": {"input": 1}}'}, '[prices."m1"]\ninput = 1.5\n', False),
    ({"OPENAI_API_KEY": "sk-x", "OPENAI_BASE_URL": "http://127.0.0.1:1/v1"}, "", True),
    ({"HOCVU_OPENAI_API_KEY": "sk-y"}, "", True),
    ({"OPENAI_API_KEY": ""}, "", True),
    ({"OPENAI_API_KEY": "sk-a", "HOCVU_OPENAI_API_KEY": "sk-b"}, "", False),
    ({}, 'OPENAI_API_KEY = "sk-file"\n', True),
    ({}, 'HOCVU_OPENAI_API_KEY = "sk-file"\n', False),
    ({}, 'model = "a"\nMODEL = "b"\n', False),
    ({}, 'openai_api_key = "sk-file"\n', True),
    ({}, 'secret_key = "s3"\nuser = "ed"\n', True),
    ({"HOCVU_TIMEOUT": "12.5", "HOCVU_TEMPERATURE": "0", "HOCVU_TTS_TIMEOUT": "-1.5"}, "", True),
    ({"HOCVU_TIMEOUT": "-3"}, "", False),
    ({"HOCVU_TIMEOUT": "0"}, "", False),
    ({"HOCVU_TIMEOUT": "1e3"}, "", False),
    ({"HOCVU_TIMEOUT": "nan"}, "", False),
    ({"HOCVU_MAX_RETRIES": "10", "HOCVU_MAX_REASKS": "0", "HOCVU_MODEL_RPM": "600"}, "", True),
    ({"HOCVU_MAX_RETRIES": "11"}, "", False),
    ({"HOCVU_MAX_RETRIES": "007"}, "", False),
    ({"HOCVU_MAX_RETRIES": " 3"}, "", False),
    ({"HOCVU_CONCURRENCY": "abc"}, "", False),
    ({}, "concurrency = 65\n", False),
    ({}, "concurrency = 8.0\n", False),
    ({}, "timeout = true\n", False),
    ({}, 'model = 5\n', False),
    ({"HOCVU_FOUR_EYES": "no", "HOCVU_TTS_FALLBACK": "TRUE"}, "", True),
    ({"HOCVU_FOUR_EYES": "On", "HOCVU_TTS_FALLBACK": "f"}, "", True),
    ({"HOCVU_FOUR_EYES": "maybe"}, "", False),
    ({}, "four_eyes = 0\n", False),
    ({"HOCVU_STRUCTURED_OUTPUT": "json_schema"}, "", True),
    ({"HOCVU_STRUCTURED_OUTPUT": "xml"}, "", False),
    ({"HOCVU_UI_LANG": "fr"}, "", False),
    ({"HOCVU_BACKEND": "offline", "HOCVU_TTS": "gtts", "HOCVU_EMBEDDER": "hashing"}, "", True),
    ({}, 'backend = "openai"\n', True),
    ({"HOCVU_BACKEND": "nonesuch"}, "", False),
    ({}, 'tts = "nonesuch"\n', False),
    ({}, "model = [unclosed", False),
    ({}, 'unknown_key = 1\nMODEL = "upper"\n[web]\nport = 1\n', True),
    ({"HOCVU_UNKNOWN": "x", "HOCVU_DATABASE_URL": ""}, "", True),
    ({"HOCVU_WORKSPACE_X": "1"}, 'workspace = "/elsewhere"\n', True),
    ({"HOCVU_SIGNIN_WINDOW_SECONDS": "59"}, "", False),
    ({}, "image_price_usd = 0\nsession_hours = 168\n", True),
]


def _plain(value: object) -> object:
    return value.get_secret_value() if hasattr(value, "get_secret_value") else value


@pytest.mark.parametrize(("env", "toml", "answers"), CASES)
def test_same_values_as_settings_or_none(workspace, monkeypatch, env, toml, answers):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    if toml:
        (workspace / "hocvu.toml").write_text(toml, encoding="utf-8")
    light = read_light(workspace)
    try:
        full = load_settings(workspace)
    except ConfigError:
        assert light is None, "the light reader answered where Settings raises"
        assert not answers
        return
    if light is None:
        assert not answers, "the light reader stood aside on a plain case"
        return
    assert answers, "expected the light reader to stand aside"
    for name in Settings.model_fields:
        assert _plain(getattr(light, name)) == _plain(getattr(full, name)), name
        assert type(_plain(getattr(light, name))) is type(_plain(getattr(full, name))), name
        assert bool(getattr(light, name)) == bool(getattr(full, name)), name  # an empty secret is falsy
    assert (light.state_dir, light.outputs_dir) == (full.state_dir, full.outputs_dir)


def test_every_field_and_its_rules_are_known():
    """A field added to Settings, or a bound or choice changed, must be taught to the light reader."""
    assert set(FIELDS) == set(Settings.model_fields)
    for name, info in Settings.model_fields.items():
        kind, details, default = FIELDS[name]
        if name != "workspace":
            assert _plain(info.get_default(call_default_factory=True)) == default, name
        if kind in ("int", "float"):
            gt = next((m.gt for m in info.metadata if isinstance(m, Gt)), None)
            ge = next((m.ge for m in info.metadata if isinstance(m, Ge)), None)
            le = next((m.le for m in info.metadata if isinstance(m, Le)), None)
            assert (gt, ge, le) == details, name
        else:
            assert not [m for m in info.metadata if isinstance(m, (Gt, Ge, Le))], name
        if kind in ("choice", "opt_choice"):
            args = [a for a in typing.get_args(info.annotation) if a is not type(None)]
            literal = args[0] if kind == "opt_choice" else info.annotation
            assert typing.get_args(literal) == details, name
        alias = info.validation_alias
        assert (tuple(alias.choices) if alias is not None else ()) == ALIASES.get(name, ()), name  # type: ignore[union-attr]
