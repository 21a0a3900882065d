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


def _build(workspace: Path, spec_path: Path, force: bool = False, concurrency: int = 4,  # type: ignore[no-untyped-def]
           timeout: float = 20, **options):
    # Each request has a total deadline: the loopback server shares this process, so under a loaded
    # machine a lesson can take seconds; tests about timeouts pass a short one.
    settings = load_settings(workspace, timeout=timeout)
    library = Library(workspace)
    spec = load_spec(spec_path)
    accept_failed = options.pop("accept_failed", False)
    with ReviewStore.open(settings) as store:
        plan = plan_build(spec, library, settings, store, force=force, accept_failed=accept_failed)
        report = run_build(plan, library, settings, store, "batch-bot", concurrency, force=force,
                           accept_failed=accept_failed, **options)
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

    from generator.batch import report as run

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
    # 429 then success; 500 then success; malformed then success (re-ask); and a lesson whose every
    # attempt times out (fails with its reason). Concurrency 1 keeps the script in lesson order.
    openai_env.hang_seconds = 3
    openai_env.queue("429", "ok", "500", "ok", "malformed", "ok", "hang", "hang")
    _, report, states = _build(workspace, _spec(workspace, "openai"), concurrency=1, timeout=1)
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
    env = {**os.environ, "HOCVU_WORKSPACE": str(workspace), "COLUMNS": "120", "HOCVU_TIMEOUT": "20"}
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
    t = report["totals"]  # what did not finish is listed, so the report accounts for every lesson
    assert t["unfinished"] > 0 and t["generated"] + t["unfinished"] == 48
    assert all(x["error"] for x in report["lessons"] if x["status"] == "unfinished")
    result = subprocess.run([hocvu, "build", str(spec), "--workers", "0"], env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(list(drafts.glob("*/v1"))) == 48 and not list(drafts.glob("*/v2"))


# -- builds that tell the truth (issue 18) ----------------------------------------------------------

def _report_file(workspace: Path) -> dict:  # type: ignore[type-arg]
    return json.loads(sorted((workspace / "outputs/builds").glob("t1-*.json"))[-1].read_text(encoding="utf-8"))


def _one_lesson_spec(workspace: Path) -> Path:
    text = SPEC.format(backend="openai").replace("groups: [elderly, farmers]", "groups: [elderly]")
    return _spec(workspace, text=text.replace('["4.2", "6.*"]', '["4.2"]'))


def test_wrong_language_is_reasked_and_then_generated(workspace, openai_env):
    openai_env.queue("wrong_lang")
    _, report, states = _build(workspace, _one_lesson_spec(workspace))
    [x] = report.lessons
    assert x.status == "generated" and x.attempts == 2 and x.requests == 2 == openai_env.calls
    assert report.totals()["reasks"] == 1 and report.ok


def test_a_lesson_failing_checks_after_the_last_reask_is_reported_and_retried(workspace, openai_env, cli,
                                                                               monkeypatch):
    monkeypatch.setenv("HOCVU_MAX_REASKS", "1")
    openai_env.queue("wrong_lang", "wrong_lang")
    spec = _one_lesson_spec(workspace)
    result = cli("build", str(spec), "--workers", "0")
    assert result.exit_code == 3, result.output
    assert "failed checks (language" in result.output
    assert "hocvu review show vn-dcf-2025.4.2.L1.elderly.vi" in result.output
    data = _report_file(workspace)
    assert data["totals"]["failed_checks"] == 1 and data["totals"]["generated"] == 0
    assert data["totals"]["llm_calls"] == 2 == openai_env.calls and data["totals"]["reasks"] == 1
    [x] = data["lessons"]
    assert x["status"] == "failed_checks" and "language" in x["failed_checks"] and "reads as" in x["error"]
    # a reviewer sees it, with its failing checks
    with ReviewStore.open(load_settings(workspace)) as store:
        [v] = store.versions(x["id"])
        assert not v.checks_passed and store.lesson_state(x["id"]).status == "in_review"
    listed = cli("review", "list", "--failed-checks")
    assert listed.exit_code == 0 and x["id"] in listed.output and "checks failed" in listed.output
    # not cached as done: a rerun (no --force) asks again, and this time the model gets it right
    result = cli("build", str(spec), "--workers", "0")
    assert result.exit_code == 0, result.output
    assert openai_env.calls == 3
    assert _report_file(workspace)["totals"]["generated"] == 1
    # now it is done
    result = cli("build", str(spec), "--workers", "0")
    assert result.exit_code == 0 and openai_env.calls == 3
    assert "no lessons match" in cli("review", "list", "--failed-checks").output


def test_accept_failed_keeps_a_lesson_that_failed_its_checks(workspace, openai_env, monkeypatch):
    monkeypatch.setenv("HOCVU_MAX_REASKS", "0")
    openai_env.queue("wrong_lang")
    spec = _one_lesson_spec(workspace)
    _, report, _ = _build(workspace, spec)
    assert report.count("failed_checks") == 1 and not report.ok
    _, again, _ = _build(workspace, spec, accept_failed=True)
    assert again.count("cached") == 1 and openai_env.calls == 1


def test_token_totals_equal_what_the_server_billed_under_faults(workspace, openai_env, monkeypatch):
    import random

    monkeypatch.setenv("HOCVU_MAX_RETRIES", "2")
    monkeypatch.setenv("HOCVU_MAX_REASKS", "1")
    rng = random.Random(18)
    faults = ["429", "500", "malformed", "invalid", "wrong_lang"]
    openai_env.queue(*[rng.choice(faults) if rng.random() < 0.5 else "ok" for _ in range(60)])
    _, report, _ = _build(workspace, _spec(workspace, "openai"), stop_after=0)
    t = report.totals()
    assert (t["input_tokens"], t["output_tokens"]) == openai_env.billed_tokens
    assert t["llm_calls"] == openai_env.calls > 8
    assert t["cost_usd"] == pytest.approx((t["input_tokens"] * 1.0 + t["output_tokens"] * 2.0) / 1e6)
    assert {x.status for x in report.lessons} - {"generated", "failed", "failed_checks"} == set()
    for x in report.lessons:  # the lesson's own record agrees with the report
        if x.version_dir:
            usage = json.loads((Path(x.version_dir) / "lesson.json").read_text(encoding="utf-8"))["provenance"]["usage"]
            assert (usage["calls"], usage["input_tokens"], usage["output_tokens"]) == (
                x.requests, x.input_tokens, x.output_tokens)


def test_a_dead_server_trips_the_breaker(workspace, cli, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("HOCVU_MAX_RETRIES", "0")
    text = SPEC.format(backend="openai").replace('["4.2", "6.*"]', '["*"]').replace("concurrency: 4", "concurrency: 1")
    result = cli("build", str(_spec(workspace, text=text)), "--workers", "0", "--stop-after", "3")
    assert result.exit_code == 3, result.output
    assert "stopped after 3 lessons in a row failed with the same error" in result.output
    assert "cannot reach the model server" in result.output
    data = _report_file(workspace)
    assert data["totals"]["failed"] == 3 and data["totals"]["not_attempted"] == 45
    assert data["totals"]["llm_calls"] == 3 and data["stopped"]


def test_a_hanging_server_trips_the_breaker_within_n_lessons(workspace, openai_env, monkeypatch):
    monkeypatch.setenv("HOCVU_MAX_RETRIES", "0")
    openai_env.hang_seconds = 3
    openai_env.queue(*["hang"] * 20)
    start = time.monotonic()
    _, report, _ = _build(workspace, _spec(workspace, "openai"), concurrency=1, timeout=0.5, stop_after=2)
    assert report.count("failed") == 2 and report.count("not_attempted") == 6
    assert "did not answer within 0.5 s" in report.stopped
    assert openai_env.calls == 2 and time.monotonic() - start < 30


def test_the_plan_shows_the_limits(cli, workspace, openai_env):
    result = cli("build", str(_spec(workspace, "openai")), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "each request at most 3 s" in result.output and "3 retries" in result.output
    assert "stops after 5 lessons in a row" in result.output


@pytest.mark.parametrize("fault", ["500", "drop"])
def test_repeated_server_errors_trip_the_breaker_and_a_success_resets_it(workspace, openai_env, monkeypatch, fault):
    monkeypatch.setenv("HOCVU_MAX_RETRIES", "0")
    openai_env.queue(fault, fault, "ok", *[fault] * 20)  # two failures, a success, then failures only
    _, report, _ = _build(workspace, _spec(workspace, "openai"), concurrency=1, stop_after=3)
    assert [x.status for x in report.lessons] == ["failed", "failed", "generated", "failed", "failed", "failed",
                                                  "not_attempted", "not_attempted"]
    assert openai_env.calls == 6 == report.llm_calls
    assert report.stopped.startswith("stopped after 3 lessons in a row")


def test_retry_failed_redoes_only_the_lessons_that_failed_their_checks(workspace, openai_env, cli, monkeypatch):
    monkeypatch.setenv("HOCVU_MAX_REASKS", "0")
    text = SPEC.format(backend="openai").replace('["4.2", "6.*"]', '["4.2"]').replace("concurrency: 4",
                                                                                     "concurrency: 1")
    openai_env.queue("wrong_lang")
    assert cli("build", str(_spec(workspace, text=text)), "--workers", "0").exit_code == 3
    assert openai_env.calls == 2
    wider = _spec(workspace, text=text.replace('["4.2"]', '["4.2", "6.1"]'))
    result = cli("build", str(wider), "--workers", "0", "--retry-failed")
    assert result.exit_code == 0, result.output
    assert openai_env.calls == 3  # only the failed lesson; the new ones are left for a normal build
    t = _report_file(workspace)["totals"]
    assert (t["generated"], t["cached"], t["skipped"]) == (1, 1, 2)
    assert cli("build", str(wider), "--retry-failed", "--force").exit_code == 2


@pytest.mark.parametrize("value", ["-1", "0", "500"])
def test_concurrency_out_of_range_is_a_one_line_error(cli, workspace, value):
    result = cli("build", str(_spec(workspace)), "--dry-run", "--concurrency", value)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "Invalid value for '--concurrency'" in result.output


def test_empty_formats_are_refused_before_any_work(workspace):
    with pytest.raises(DataError, match="formats"):
        load_spec(_spec(workspace, text=SPEC.format(backend="offline").replace("[page]", "[]")))


def test_a_model_missing_from_the_price_table_is_warned_about(cli, workspace, openai_env, monkeypatch):
    monkeypatch.setenv("HOCVU_MODEL", "gpt-4o-2024-08-06")
    monkeypatch.setenv("HOCVU_PRICES", "{}")
    result = cli("build", str(_spec(workspace, "openai")), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "not in the price table" in result.output and 'prices."gpt-4o-2024-08-06"' in result.output


def _children(pid: int) -> set[int]:
    """Processes whose parent is ``pid`` (from the process table)."""
    out = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.add(int(stat.parent.name))
    return out


@pytest.mark.slow
def test_sigterm_stops_like_ctrl_c(workspace):
    text = SPEC.format(backend="offline").replace('["4.2", "6.*"]', '["*"]').replace("[page]", "[page, audio]")
    spec = _spec(workspace, text=text)
    env = {**os.environ, "HOCVU_WORKSPACE": str(workspace), "COLUMNS": "120"}
    hocvu = str(Path(sys.executable).parent / "hocvu")
    proc = subprocess.Popen([hocvu, "build", str(spec), "--workers", "2"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    drafts = workspace / "outputs/drafts"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list(drafts.glob("*/v1"))) < 3:
        time.sleep(0.05)
    workers = _children(proc.pid)
    assert workers, "the render workers should be running"
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "interrupted; finished work is kept" in out
    assert not list(drafts.glob("*/.incoming-*"))
    report = json.loads(sorted((workspace / "outputs/builds").glob("t1-*.json"))[-1].read_text(encoding="utf-8"))
    assert report["interrupted"] is True
    time.sleep(0.5)
    assert not {pid for pid in workers if Path(f"/proc/{pid}").exists()
                and "Z" not in Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[:1]}
