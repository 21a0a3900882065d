"""The structured-output method is decided before a batch's lessons go out, remembered per server and
model in the workspace, and every prompt is rendered for it — over real HTTP (tests/openai_server.py),
asserting on what the server received."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from generator.batch.build import plan_build, run_build
from generator.batch.spec import load_spec
from generator.config import load_settings
from generator.drafting.openai_backend import OpenAIBackend
from generator.drafting.structured import MethodMemory, server_of
from generator.frameworks import Library
from generator.review.store import ReviewStore

SPEC = """\
name: sm
framework: vn-dcf-2025
groups: [elderly, farmers]
competences: [{competences}]
levels: [1]
languages: [vi]
formats: [page]
backend: openai
concurrency: 4
"""


def _spec(workspace: Path, competences: str = '"4.2", "6.1"') -> Path:
    path = workspace / "spec.yaml"
    path.write_text(SPEC.format(competences=competences), encoding="utf-8")
    return path


def _build(workspace: Path, spec_path: Path, force: bool = False) -> tuple[Any, Any]:
    settings = load_settings(workspace, timeout=20)
    library = Library(workspace)
    with ReviewStore.open(settings) as store:
        plan = plan_build(load_spec(spec_path), library, settings, store, force=force)
        report = run_build(plan, library, settings, store, "batch-bot", 4, force=force)
    return plan, report


def _kind(body: dict[str, Any]) -> str:
    """The method a request asked for."""
    if body.get("tools"):
        return "function_calling"
    return {"json_schema": "json_schema", "json_object": "json_mode"}.get(
        (body.get("response_format") or {}).get("type", ""), "")


def _carries_schema(body: dict[str, Any]) -> bool:
    """Whether the lesson schema is written into the messages (as text)."""
    text = "\n".join(m.get("content") or "" for m in body["messages"])
    return '"properties"' in text and '"objectives"' in text


def _remembered(workspace: Path) -> dict[str, Any]:
    return json.loads((workspace / ".hocvu/cache/structured-output.json").read_text(encoding="utf-8"))


def test_a_json_schema_server_gets_no_schema_text_and_the_second_build_does_not_probe(workspace, openai_env, cli):
    result = cli("build", str(_spec(workspace)))
    assert result.exit_code == 0, result.output
    assert "structured output: found on the first call" in result.output  # the plan says how it will be chosen
    assert "structured output: json_schema (found on the first call)" in result.output  # the report, what was
    assert openai_env.calls == 4
    assert [_kind(b) for b in openai_env.requests] == ["json_schema"] * 4
    assert not any(_carries_schema(b) for b in openai_env.requests)
    # the schema went alongside, once per request
    assert all("objectives" in b["response_format"]["json_schema"]["schema"]["properties"]
               for b in openai_env.requests)
    entry = _remembered(workspace)[f"{openai_env.base_url} test-model"]
    assert entry == {"method": "json_schema", "found": date.today().isoformat()}

    again = cli("build", str(_spec(workspace, '"6.2", "6.3"')))
    assert again.exit_code == 0, again.output
    assert f"structured output: json_schema (remembered from {date.today().isoformat()})" in again.output
    assert openai_env.calls == 8 and [_kind(b) for b in openai_env.requests[4:]] == ["json_schema"] * 4


def test_a_server_without_structured_output_falls_back_to_json_mode_with_the_schema_text(workspace, openai_env):
    openai_env.ignore_format = True  # answers in prose unless the prompt carries the schema
    plan, report = _build(workspace, _spec(workspace))
    assert report.count("generated") == 4, [x.error for x in report.lessons]
    kinds = [_kind(b) for b in openai_env.requests]
    assert kinds[:3] == ["json_schema", "function_calling", "json_mode"]  # found once, on the first call
    assert kinds[3:] == ["json_mode"] * 3 and openai_env.calls == 6
    assert [_carries_schema(b) for b in openai_env.requests] == [False, False] + [True] * 4
    assert report.method == "json_mode (found on the first call)"
    assert report.path is not None
    assert json.loads(report.path.read_text(encoding="utf-8"))["structured_output"] == report.method
    # every request counted, the two ignored replies included
    t = report.totals()
    assert t["llm_calls"] == 6 and (t["input_tokens"], t["output_tokens"]) == openai_env.billed_tokens

    _, again = _build(workspace, _spec(workspace, '"6.2", "6.3"'))  # the probe is not repeated
    assert again.count("generated") == 4 and openai_env.calls == 10
    assert [_kind(b) for b in openai_env.requests[6:]] == ["json_mode"] * 4
    assert again.method.startswith("json_mode (remembered from ")


def test_a_remembered_method_the_server_now_refuses_moves_on_without_repeating_a_lesson(workspace, openai_env):
    _build(workspace, _spec(workspace))
    assert openai_env.calls == 4
    openai_env.refuse = {"json_schema"}  # the server changed: json_schema is gone
    _, report = _build(workspace, _spec(workspace, '"6.2", "6.3"'))
    assert report.count("generated") == 4, [x.error for x in report.lessons]
    later = openai_env.requests[4:]
    refused = [b for b in later if _kind(b) == "json_schema"]
    assert 1 <= len(refused) <= 4  # the lessons already sent with it when the first refusal came back
    assert [_kind(b) for b in later if _kind(b) != "json_schema"] == ["function_calling"] * 4
    assert len(openai_env.billed) == 8  # a refused request is not billed; no lesson was asked twice
    assert not any(_carries_schema(b) for b in later)
    assert report.method == "function_calling (json_schema refused mid-build)"
    assert _remembered(workspace)[f"{openai_env.base_url} test-model"]["method"] == "function_calling"


def test_a_remembered_method_the_server_now_ignores_is_dropped(workspace, openai_env):
    _build(workspace, _spec(workspace))
    openai_env.ignore_format = True
    _, report = _build(workspace, _spec(workspace, '"6.2", "6.3"'))
    assert report.count("generated") == 4, [x.error for x in report.lessons]
    assert report.method.startswith("json_mode")
    assert _remembered(workspace)[f"{openai_env.base_url} test-model"]["method"] == "json_mode"
    t = report.totals()
    assert t["llm_calls"] == openai_env.calls - 4 and t["input_tokens"] == sum(b[0] for b in openai_env.billed[4:])


def test_a_forced_method_is_neither_remembered_nor_replaced(workspace, openai_env, monkeypatch):
    monkeypatch.setenv("HOCVU_STRUCTURED_OUTPUT", "function_calling")
    _, report = _build(workspace, _spec(workspace))
    assert report.method == "function_calling (HOCVU_STRUCTURED_OUTPUT)"
    assert [_kind(b) for b in openai_env.requests] == ["function_calling"] * 4
    assert not (workspace / ".hocvu/cache/structured-output.json").exists()


def test_the_memory_is_per_server_and_model_and_survives_a_bad_file(workspace, openai_env):
    settings = load_settings(workspace)
    memory = MethodMemory.of(settings)
    memory.path.parent.mkdir(parents=True)
    memory.path.write_text("{not json", encoding="utf-8")
    assert memory.get(server_of(settings), "test-model") is None  # a broken cache reads as empty
    memory.put(server_of(settings), "test-model", "function_calling")
    assert memory.get(server_of(settings), "other-model") is None
    assert memory.get("http://elsewhere/v1", "test-model") is None
    assert OpenAIBackend.planned_method(settings, "test-model").startswith("function_calling (remembered from ")
    memory.forget(server_of(settings), "test-model")
    assert OpenAIBackend.planned_method(settings, "test-model").startswith("found on the first call")
    memory.path.write_text(f'{{"{server_of(settings)} test-model": "json_schema"}}', encoding="utf-8")
    assert memory.get(server_of(settings), "test-model") is None  # an entry of the wrong shape is unknown
    memory.put(server_of(settings), "test-model", "json_schema")  # and is replaced, not tripped over
    assert memory.get(server_of(settings), "test-model").method == "json_schema"


@pytest.mark.parametrize("method", ["json_schema", "function_calling", "json_mode"])
def test_the_plan_names_a_configured_method_without_calling(cli, workspace, openai_env, monkeypatch, method):
    monkeypatch.setenv("HOCVU_STRUCTURED_OUTPUT", method)
    result = cli("build", str(_spec(workspace)), "--dry-run")
    assert result.exit_code == 0, result.output
    assert f"structured output: {method} (HOCVU_STRUCTURED_OUTPUT)" in result.output
    assert openai_env.calls == 0


def test_the_method_reported_is_the_one_workers_elsewhere_found(workspace, openai_env):
    settings = load_settings(workspace)
    backend = OpenAIBackend(settings)
    assert backend.method_in_use() == ""  # nothing known, nothing drafted here
    # a worker process of the same workspace (the Celery executor) finds the method, then another replaces it
    MethodMemory.of(settings).put(server_of(settings), backend.model, "function_calling")
    assert backend.method_in_use().startswith("function_calling (remembered from ")
    MethodMemory.of(settings).put(server_of(settings), backend.model, "json_mode")
    assert backend.method_in_use().startswith("json_mode (remembered from ")
