"""Batch builds: spec errors, dry runs, caching, fault injection, and resume after SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from generator.batch.build import plan_build, run_build
from generator.batch.spec import BatchSpec, expand_competences, load_spec
from generator.config import load_settings
from generator.errors import DataError, NotFoundError
from generator.frameworks import Library
from generator.review.store import ReviewStore

REPO = Path(__file__).resolve().parent.parent

SPEC = """\
name: t1
framework: vn-dcf-2025
groups: [elderly, farmers]
competences: ["4.2", "6.*"]
levels: [1]
languages: [vi]
formats: [page]
backend: {backend}
concurrency: 4
"""


def _spec(workspace: Path, backend: str = "offline", text: str | None = None) -> Path:
    path = workspace / "spec.yaml"
    path.write_text(text or SPEC.format(backend=backend), encoding="utf-8")
    return path


def _build(workspace: Path, spec_path: Path, force: bool = False, concurrency: int = 4):  # type: ignore[no-untyped-def]
    settings = load_settings(workspace)
    library = Library(workspace)
    spec = load_spec(spec_path)
    with ReviewStore.open(settings) as store:
        plan = plan_build(spec, library, settings, store, force=force)
        report = run_build(plan, library, settings, store, "batch-bot", concurrency, force=force)
        states = {x.id: _status(store, x.id) for x in plan.lessons}
    return plan, report, states


def _status(store: ReviewStore, lesson_id: str) -> str:
    try:
        return store.lesson_state(lesson_id).status
    except NotFoundError:
        return "absent"


# -- the spec ------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: x\nframework: vn-dcf-2025\n", r"spec.yaml:1: groups: required field is missing"),
        (SPEC.format(backend="offline").replace("levels: [1]", "levels: [0, 9]"), r"levels: .*outside 1-8"),
        (SPEC.format(backend="magic"), r"spec.yaml:8: backend: Input should be 'auto', 'offline' or 'openai'"),
        (SPEC.format(backend="offline").replace("name: t1", "name: ../evil"), r"name must be letters"),
        ("name: [unclosed\n", r"malformed YAML"),
    ],
)
def test_spec_errors(workspace, text, message):
    with pytest.raises(DataError, match=message):
        load_spec(_spec(workspace, text=text))


def test_spec_names_are_checked(workspace, library):
    spec = load_spec(_spec(workspace))
    assert expand_competences(spec, library) == ["4.2", "6.1", "6.2", "6.3"]
    bad = BatchSpec.model_validate(spec.model_dump() | {"competences": ["9.*"]})
    with pytest.raises(NotFoundError, match=r"unknown competence or pattern in vn-dcf-2025 '9\.\*'"):
        expand_competences(bad, library)
    with pytest.raises(NotFoundError, match="unknown group 'aliens'"):
        plan_build(BatchSpec.model_validate(spec.model_dump() | {"groups": ["aliens"]}), library,
                   load_settings(), None)


# -- dry run, caching ----------------------------------------------------------------------------

def test_dry_run_calls_nothing_and_writes_nothing(cli, workspace, openai_env):
    result = cli("build", str(_spec(workspace, "openai")), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "to generate" in result.output and "│ total   │ 8 " in result.output
    assert "input" in result.output and "$" in result.output
    assert openai_env.calls == 0
    assert not (workspace / "outputs").exists() and not (workspace / ".hocvu").exists()


def test_second_run_is_cached_and_a_changed_group_regenerates_only_its_lessons(workspace, openai_env):
    spec = _spec(workspace, "openai")
    plan, report, states = _build(workspace, spec)
    assert report.count("generated") == 8 and report.count("failed") == 0
    assert openai_env.calls == 8
    assert set(states.values()) == {"in_review"}
    for x in report.lessons:
        assert (Path(x.version_dir) / "index.html").exists()

    _, again, _ = _build(workspace, spec)
    assert again.count("cached") == 8 and again.llm_calls == 0
    assert openai_env.calls == 8

    groups = workspace / "frameworks" / "groups"
    groups.mkdir(parents=True)
    text = (REPO / "frameworks/groups/farmers.yaml").read_text(encoding="utf-8")
    (groups / "farmers.yaml").write_text(text.replace("session_minutes:", "session_minutes: 40 #"), encoding="utf-8")
    _, third, _ = _build(workspace, spec)
    regenerated = {x.id for x in third.lessons if x.status == "generated"}
    assert regenerated == {x.id for x in third.lessons if ".farmers." in x.id} and len(regenerated) == 4
    assert openai_env.calls == 12
    report_file = sorted((workspace / "outputs/builds").glob("t1-*.json"))[-1]
    data = json.loads(report_file.read_text(encoding="utf-8"))
    assert data["totals"]["generated"] == 4 and data["totals"]["cached"] == 4


def test_a_new_format_is_rendered_without_a_new_llm_call(workspace, openai_env):
    one = SPEC.format(backend="openai").replace("[elderly, farmers]", "[elderly]").replace('["4.2", "6.*"]', '["4.2"]')
    _, first, _ = _build(workspace, _spec(workspace, text=one))
    assert first.count("generated") == 1 and openai_env.calls == 1
    # Before: the key ignored formats, so this said "cached" and never made the handout.
    _, more, _ = _build(workspace, _spec(workspace, text=one.replace("[page]", "[handout, page]")))
    assert more.count("generated") == 1 and more.llm_calls == 0 and openai_env.calls == 1
    assert (Path(more.lessons[0].version_dir) / "handout.docx").exists()
    _, same, _ = _build(workspace, _spec(workspace, text=one.replace("[page]", "[page, handout]")))
    assert same.count("cached") == 1 and openai_env.calls == 1


def test_a_full_disk_at_the_report_keeps_the_results(workspace, monkeypatch):
    import errno

    from generator.batch import run

    def full(path, text, mode=None):  # type: ignore[no-untyped-def]
        if "builds" in str(path) and "cache" not in str(path):
            raise OSError(errno.ENOSPC, "No space left on device")
        return orig(path, text, mode)

    orig = run.write_text_atomic
    monkeypatch.setattr(run, "write_text_atomic", full)
    one = SPEC.format(backend="offline").replace("[elderly, farmers]", "[elderly]").replace('["4.2", "6.*"]', '["4.2"]')
    _, report, states = _build(workspace, _spec(workspace, text=one))
    assert report.count("generated") == 1 and report.path is None and set(states.values()) == {"in_review"}
    assert report.write_error.startswith("No space left on device")


def test_offline_build_and_force(workspace):
    spec = _spec(workspace)
    _, report, states = _build(workspace, spec)
    assert report.count("generated") == 8 and report.llm_calls == 0
    _, forced, _ = _build(workspace, spec, force=True)
    assert forced.count("generated") == 8
    settings = load_settings(workspace)
    with ReviewStore.open(settings) as store:
        assert len(store.versions("vn-dcf-2025.4.2.L1.elderly.vi")) == 2


# -- faults --------------------------------------------------------------------------------------

def test_faults_are_retried_or_recorded_while_the_rest_complete(workspace, openai_env, monkeypatch):
    monkeypatch.setenv("HOCVU_MAX_RETRIES", "1")
    monkeypatch.setenv("HOCVU_MAX_REASKS", "1")
    monkeypatch.setenv("HOCVU_TIMEOUT", "1")
    # 429 then success; 500 then success; malformed then success (re-ask); and a lesson whose every
    # attempt times out (fails with its reason). Concurrency 1 keeps the script in lesson order.
    openai_env.hang_seconds = 3
    openai_env.queue("429", "ok", "500", "ok", "malformed", "ok", "hang", "hang")
    _, report, states = _build(workspace, _spec(workspace, "openai"), concurrency=1)
    failed = [x for x in report.lessons if x.status == "failed"]
    assert len(failed) == 1, [(x.id, x.error) for x in failed]
    assert failed[0].stage == "draft" and "did not answer within 1 s" in failed[0].error
    assert report.count("generated") == 7
    assert states[failed[0].id] != "in_review"


# -- resume after SIGKILL ------------------------------------------------------------------------

def _lesson_of(body: dict) -> str:  # type: ignore[type-arg]
    prompt = "\n".join(m.get("content") or "" for m in body["messages"])
    comp = prompt.split("Competence ", 1)[1].split(":", 1)[0]
    group = prompt.split("## Learners: ", 1)[1].split("\n", 1)[0]
    return f"{comp}/{group}"


@pytest.mark.slow
def test_resume_after_sigkill(workspace, openai_env):
    openai_env.latency = 0.4
    spec = _spec(workspace, "openai", SPEC.format(backend="openai").replace('["4.2", "6.*"]', '["4.*", "6.*"]'))
    env = {**os.environ, "HOCVU_WORKSPACE": str(workspace), "COLUMNS": "120"}
    hocvu = str(Path(sys.executable).parent / "hocvu")
    proc = subprocess.Popen([hocvu, "build", str(spec), "--concurrency", "2", "--workers", "0"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    cache = workspace / "outputs/builds/cache"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list(cache.glob("*.json"))) < 5:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    finished_drafts = len(list(cache.glob("*.json")))
    first_calls = openai_env.calls
    assert 5 <= finished_drafts < 14, "the kill should land part-way"

    result = subprocess.run([hocvu, "build", str(spec), "--concurrency", "4", "--workers", "0"], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    rerun_calls = openai_env.calls - first_calls
    assert rerun_calls == 14 - finished_drafts  # no finished lesson's call repeated
    drafted = [_lesson_of(b) for b in openai_env.requests]
    assert len(set(drafted)) == 14

    # no half-written files: every version folder is whole, no staging folder is left
    assert not list((workspace / "outputs/drafts").glob("*/.incoming-*"))
    for folder in (workspace / "outputs/drafts").glob("*/v*"):
        json.loads((folder / "lesson.json").read_text(encoding="utf-8"))
        assert (folder / "index.html").stat().st_size > 0
    settings = load_settings(workspace)
    with ReviewStore.open(settings) as store:
        ids = {p.name for p in (workspace / "outputs/drafts").iterdir()}
        assert len(ids) == 14
        assert {store.lesson_state(i).status for i in ids} == {"in_review"}


def test_batch_grounded_in_a_source_collection(workspace, monkeypatch):
    from generator.retrieval.store import make_store

    monkeypatch.setenv("HOCVU_EMBEDDER", "hashing")
    corpus = REPO / "tests" / "corpus"
    make_store(load_settings(workspace)).add(sorted(p for p in corpus.iterdir() if p.is_file()), collection="guides")
    text = SPEC.format(backend="offline").replace("concurrency: 4", "concurrency: 4\nsources: guides")
    spec = _spec(workspace, text=text)
    _, report, _ = _build(workspace, spec)
    assert report.count("generated") == 8 and report.count("failed") == 0
    for x in report.lessons:
        lesson = json.loads((Path(x.version_dir) / "lesson.json").read_text(encoding="utf-8"))
        assert len(lesson["provenance"]["retrieved"]) == 5 and lesson["provenance"]["sources_hash"]
        assert set(s["id"] for s in lesson["sources"]) <= set(lesson["provenance"]["retrieved"])
    _, again, _ = _build(workspace, spec)
    assert again.count("cached") == 8


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_and_a_rerun_finishes(workspace):
    text = SPEC.format(backend="offline").replace('["4.2", "6.*"]', '["*"]').replace("[page]", "[page, audio]")
    spec = _spec(workspace, text=text)
    env = {**os.environ, "HOCVU_WORKSPACE": str(workspace), "COLUMNS": "120"}
    hocvu = str(Path(sys.executable).parent / "hocvu")
    proc = subprocess.Popen([hocvu, "build", str(spec), "--workers", "2"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    drafts = workspace / "outputs/drafts"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list(drafts.glob("*/v1"))) < 3:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "interrupted; finished work is kept" in out
    assert not list(drafts.glob("*/.incoming-*"))  # nothing half-made, even from busy workers
    report = json.loads(sorted((workspace / "outputs/builds").glob("t1-*.json"))[-1].read_text(encoding="utf-8"))
    done = len(list(drafts.glob("*/v1")))
    assert report["interrupted"] is True and 3 <= done < 48
    result = subprocess.run([hocvu, "build", str(spec), "--workers", "0"], env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(list(drafts.glob("*/v1"))) == 48 and not list(drafts.glob("*/v2"))
