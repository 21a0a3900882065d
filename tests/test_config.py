"""Settings: defaults < hocvu.toml < environment < command line; workspace prompts override shipped ones."""

from __future__ import annotations

import pytest

from generator.config import load_settings
from generator.drafting.prompts import PromptSet
from generator.errors import ConfigError


def test_defaults(workspace):
    s = load_settings()
    assert s.workspace == workspace.resolve()
    assert s.state_dir == workspace.resolve() / ".hocvu"
    assert s.effective_backend() == "offline" and s.openai_api_key is None


def test_toml_then_env_then_overrides(workspace, monkeypatch):
    (workspace / "hocvu.toml").write_text('model = "from-toml"\ntimeout = 12\n[prices."m1"]\ninput = 1.5\noutput = 3\n',
                                          encoding="utf-8")
    s = load_settings()
    assert (s.model, s.timeout, s.price("m1")) == ("from-toml", 12, {"input": 1.5, "output": 3.0})
    monkeypatch.setenv("HOCVU_MODEL", "from-env")
    assert load_settings().model == "from-env"
    assert load_settings(model="from-cli").model == "from-cli"


def test_openai_variables_choose_the_backend(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-x")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:11434/v1")
    s = load_settings()
    assert s.effective_backend() == "openai" and s.openai_base_url.endswith("/v1")
    assert "sk-x" not in repr(s)  # the key never shows in logs or reprs


def test_workspace_from_environment_or_argument(tmp_path, monkeypatch):
    other = tmp_path / "other"
    other.mkdir()
    monkeypatch.setenv("HOCVU_WORKSPACE", str(other))
    assert load_settings().workspace == other.resolve()
    assert load_settings(tmp_path).workspace == tmp_path.resolve()


def test_invalid_setting_is_one_clear_error(workspace, monkeypatch):
    monkeypatch.setenv("HOCVU_TIMEOUT", "-3")
    with pytest.raises(ConfigError, match="setting 'timeout' is invalid"):
        load_settings()
    monkeypatch.delenv("HOCVU_TIMEOUT")
    (workspace / "hocvu.toml").write_text("model = [unclosed", encoding="utf-8")
    with pytest.raises(ConfigError, match="hocvu.toml"):
        load_settings()


def test_workspace_prompt_overrides_the_shipped_one(workspace):
    shipped = PromptSet.load(None)
    (workspace / "prompts").mkdir()
    (workspace / "prompts" / "system.j2").write_text("Viết bài học ngắn bằng {{ language_name }}.", encoding="utf-8")
    custom = PromptSet.load(workspace)
    assert custom.texts["lesson"] == shipped.texts["lesson"]
    assert custom.hash("system", "lesson") != shipped.hash("system", "lesson")
    assert custom.render("system", language_name="tiếng Việt") == "Viết bài học ngắn bằng tiếng Việt."
