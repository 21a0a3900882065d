"""Batch benchmarks (issues 8 and 16):

0. Concurrency (issue 16): 96 and 1,000 lessons at concurrency 8 and 64 against the loopback server (in a
   process of its own) at 1 s latency; build time ÷ the ideal (lessons × latency ÷ concurrency), with the
   `hocvu build` command's start-up beside it.
0b. Input tokens a lesson (issue 16): what the server received, messages and the schema beside them, with
   the method decided before the batch (json_schema), forced to JSON mode, and found by fallback.

1. LLM-bound: a loopback OpenAI-compatible server with a fixed 1.0 s latency per call; a 48-lesson batch at
   concurrency 8 vs. a plain sequential langchain loop over the same prompts.
2. No-change rebuild of the same batch: LLM calls and time relative to the first build.
3. Offline end-to-end lesson (draft, checks, all renders, store): median and per-stage breakdown.
4. Peak memory (sum of PSS over the whole process tree) of a 120-lesson offline batch with all formats.

    .venv/bin/python bench/bench_batch.py [--only concurrency,tokens,llm,rebuild,e2e,memory] [--no-write]
        [--sizes 96,1000] [--concurrency 8,64]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from common import REPO, write_section

from generator.batch.run import render_workers_default

LATENCY = 1.0
LLM_SPEC = """\
name: bench-llm
framework: vn-dcf-2025
groups: [elderly, farmers]
competences: ["*"]
levels: [1]
languages: [vi]
formats: [handout, slides, page]
backend: openai
concurrency: 8
"""


def _templates():  # type: ignore[no-untyped-def]
    from generator.config import load_settings
    from generator.drafting.backend import make_backend, run_sync
    from generator.drafting.service import adraft_lesson, build_request
    from generator.frameworks import Library

    lib, s = Library(None), load_settings()
    off = make_backend(s, lib, "offline")
    return {lang: run_sync(adraft_lesson(lib, s, off, build_request(lib, "vn-dcf-2025", "4.2", 1, "elderly", lang)))
            .lesson.draft_part() for lang in ("vi", "en")}


def _build(ws: Path, spec: str, env: dict[str, str]) -> tuple[float, str]:
    (ws / "spec.yaml").write_text(spec, encoding="utf-8")
    hocvu = str(Path(sys.executable).parent / "hocvu")
    t = time.perf_counter()
    r = subprocess.run([hocvu, "build", "spec.yaml"], cwd=ws, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - t
    if r.returncode != 0:
        raise SystemExit(f"build failed:\n{r.stdout}\n{r.stderr}")
    return elapsed, r.stdout


def _report(ws: Path) -> dict:  # type: ignore[type-arg]
    import json

    path = sorted((ws / "outputs/builds").glob("*.json"))[-1]
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _inprocess_build(ws: Path, spec_text: str) -> tuple[float, dict]:  # type: ignore[type-arg]
    """Plan and run the batch through the library (imports done, like the loop), timed."""
    from generator.batch.build import plan_build, run_build
    from generator.batch.spec import load_spec
    from generator.config import load_settings
    from generator.frameworks import Library
    from generator.review.store import ReviewStore

    (ws / "spec.yaml").write_text(spec_text, encoding="utf-8")
    settings, library = load_settings(ws), Library(ws)
    spec = load_spec(ws / "spec.yaml")
    with ReviewStore.open(settings) as store:
        t, cpu = time.perf_counter(), time.thread_time()
        me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        plan = plan_build(spec, library, settings, store)
        report = run_build(plan, library, settings, store, "bench", spec.concurrency,
                           render_workers=render_workers_default())
        elapsed = time.perf_counter() - t
        loop_cpu = time.thread_time() - cpu  # the event loop runs on this thread
        me2, kids2 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    # every thread of this process, and the render workers (reaped when the build's pool shut down)
    main_cpu = me2.ru_utime + me2.ru_stime - me.ru_utime - me.ru_stime
    workers_cpu = kids2.ru_utime + kids2.ru_stime - kids.ru_utime - kids.ru_stime
    return elapsed, {**report.totals(), "loop_cpu": loop_cpu, "main_cpu": main_cpu, "workers_cpu": workers_cpu}


# -- 0. concurrency: the model client at 8 and 64 calls in flight --------------------------------------
CONC_SPEC = """\
name: bench-conc
framework: vn-dcf-2025
groups: [{groups}]
competences: [{competences}]
levels: [{levels}]
languages: [vi]
formats: [page]
backend: openai
concurrency: {concurrency}
stop_after: 0
"""


def _shape(n: int) -> tuple[list[str], list[str], list[int]]:
    """Competences, groups and levels whose product is ``n`` lessons (or the nearest above)."""
    from generator.frameworks import Library

    lib = Library(None)
    codes = [c.code for c in lib.framework("vn-dcf-2025").competences]
    groups = sorted(lib.groups)
    best: tuple[int, int, int, int] | None = None
    for lv in range(1, 7):
        for g in range(1, len(groups) + 1):
            c = -(-n // (lv * g))
            if c <= len(codes):
                total = c * g * lv
                if best is None or (total, lv) < (best[0], best[3]):
                    best = (total, c, g, lv)
    assert best is not None, f"no shape for {n} lessons"
    _, c, g, lv = best
    return codes[:c], groups[:g], list(range(1, lv + 1))


def _conc_spec(n: int, concurrency: int) -> str:
    codes, groups, levels = _shape(n)
    return CONC_SPEC.format(groups=", ".join(groups), competences=", ".join(f'"{c}"' for c in codes),
                            levels=", ".join(map(str, levels)), concurrency=concurrency)


class _Server:
    """The loopback server in a process of its own, with every reply composed beforehand."""

    def __init__(self, latency: float, lessons: list[tuple[str, str, int, str, str]]) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.openai_server", "--latency", str(latency)],
                                     cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                     env={**os.environ, "PYTHONPATH": str(REPO)})
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write("".join("|".join(map(str, x)) + "\n" for x in lessons) + "\n")
        self.proc.stdin.flush()
        self.base_url = self.proc.stdout.readline().strip()
        if not self.base_url.startswith("http"):
            raise SystemExit("the loopback server did not start")

    def stats(self) -> dict:  # type: ignore[type-arg]
        import json
        import urllib.request

        with urllib.request.urlopen(self.base_url + "/stats") as r:
            return json.loads(r.read())  # type: ignore[no-any-return]

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def _planned(n: int) -> list[tuple[str, str, int, str, str]]:
    from generator.frameworks import Library

    lib = Library(None)
    codes, groups, levels = _shape(n)
    return [("vn-dcf-2025", c, lv, lib.group(g).names.get("vi"), "vi") for g in groups for c in codes
            for lv in levels]


def bench_concurrency(sizes: list[int], concurrencies: list[int], cli: bool = True) -> str:
    """Build time ÷ ideal at each size and concurrency; the command's start-up beside it."""
    lessons = sorted({x for n in sizes for x in _planned(n)})
    server = _Server(LATENCY, lessons)
    rows, cli_rows = [], []
    os.environ.update({"OPENAI_API_KEY": "sk-bench", "OPENAI_BASE_URL": server.base_url,
                       "HOCVU_MODEL": "bench-model"})
    try:
        warm = Path(tempfile.mkdtemp(prefix="bench-conc-warm-"))
        _inprocess_build(warm, _conc_spec(2, 2))  # imports; the workspace learns the structured-output method
        memory = warm / ".hocvu/cache/structured-output.json"
        # Each size and concurrency in a workspace that remembers the method; the largest concurrency also
        # as a workspace's first build, which finds the method on its first call while the others wait.
        runs = [(n, c, known) for n in sizes for c in concurrencies
                for known in ((True, False) if c == max(concurrencies) else (True,))]
        for i, (n, c, known) in enumerate(runs):
            ws = Path(tempfile.mkdtemp(prefix="bench-conc-"))
            if known:  # as in a workspace that built against this server before
                (ws / ".hocvu/cache").mkdir(parents=True)
                shutil.copy(memory, ws / ".hocvu/cache")
            stats = server.stats()
            before, billed_before = stats["calls"], len(stats["billed"])
            seconds, totals = _inprocess_build(ws, _conc_spec(n, c))
            stats = server.stats()
            calls = stats["calls"] - before
            tokens = sum(b[0] for b in stats["billed"][billed_before:]) / max(1, totals["generated"])
            beside = sum(stats["schema"][before:]) / max(1, totals["generated"])
            arrivals = stats["arrivals"][before:]
            first_second = sum(1 for a in arrivals if a - arrivals[0] < LATENCY) if arrivals else 0
            render = sum(sum(v for k, v in x["timings"].items() if k.startswith("render."))
                         for x in _report(ws)["lessons"])
            shutil.rmtree(ws, ignore_errors=True)
            ideal = totals["generated"] * LATENCY / c
            bound = max(ideal, render / render_workers_default())  # the renders' own time, spread
            cpu_ms = totals["loop_cpu"] / max(1, totals["generated"]) * 1000
            rows.append((n, c, totals["generated"], calls, seconds, ideal, totals.get("failed", 0), cpu_ms,
                         bound, tokens, beside, known, first_second,
                         (totals["main_cpu"], totals["workers_cpu"])))
            print(f"  {n} lessons at concurrency {c}: {seconds:.2f} s, {seconds / ideal:.2f}× ideal, "
                  f"event loop {cpu_ms:.1f} ms CPU a lesson", flush=True)
            if cli and (i + 1 == len(runs) or runs[i + 1][0] != n):  # after the last run of a size
                c = max(concurrencies)
                ws = Path(tempfile.mkdtemp(prefix="bench-conc-cli-"))
                env = {**os.environ, "HOCVU_WORKSPACE": str(ws), "HOME": str(ws)}
                before = server.stats()["calls"]
                launched = time.time()
                wall, _ = _build(ws, _conc_spec(n, c), env)
                first = server.stats()["arrivals"][before] - launched
                cli_rows.append((n, c, wall, first))
                shutil.rmtree(ws, ignore_errors=True)
        shutil.rmtree(warm, ignore_errors=True)
    finally:
        server.close()
    load = os.getloadavg()
    cores = os.cpu_count() or 1
    table = "\n".join(
        f"| {n} ({made} made, {calls} calls) | {c} | {'remembered' if known else 'first build'} | "
        f"{early} | {s:.2f} s | {ideal:.2f} s | {s / ideal:.2f}× | "
        f"{'met' if s / ideal <= 1.25 else 'MISSED'}{f', {failed} failed' if failed else ''} | {cpu:.1f} ms | "
        f"{bound:.2f} s | {s / bound:.2f}× | {sum(cpus) / cores:.2f} s ({cpus[0]:.1f} + {cpus[1]:.1f} s) | "
        f"{tokens:,.0f} + {beside:,.0f} |"
        for n, c, made, calls, s, ideal, failed, cpu, bound, tokens, beside, known, early, cpus in rows)
    cli_table = "\n".join(f"| {n} | {c} | {first:.2f} s | {wall:.2f} s |" for n, c, wall, first in cli_rows)
    codes, groups, levels = _shape(max(sizes))
    return (
        f"### Model client at concurrency (issue 16)\n\n"
        f"Server: tests/openai_server.py in a process of its own (`python -m tests.openai_server`; its replies "
        f"composed beforehand, so the server's work shares no GIL with the build), {LATENCY:.1f} s per call. "
        f"Lessons: vn-dcf-2025 × groups × levels × vi (the largest: {len(codes)} competences × {len(groups)} "
        f"groups × levels {levels[0]}–{levels[-1]}), formats [page] — the cheapest real format, so each "
        f"lesson is still drafted, checked, assembled, rendered (in the render workers), written, recorded in "
        f"the store and reported, and the figure is the build itself rather than document rendering. "
        f"Build: `plan_build` + `run_build` in the benchmark process, timed from the plan to the report, "
        f"after a warm-up build (imports done). Ideal: lessons × {LATENCY:.0f} s ÷ concurrency. Event-loop CPU: "
        f"the CPU time of the thread running the event loop (plan included) ÷ lessons — what must stay "
        f"≪ {LATENCY * 1000 / max(concurrencies):.0f} ms for {max(concurrencies)} calls in flight, and a "
        f"figure the machine's load does not inflate as it does wall time. Render bound: the lessons' "
        f"render times (each new lesson's step pictures are drawn, ~0.15–0.2 s of CPU for a page) ÷ "
        f"{render_workers_default()} render workers — on a 2-core machine rendering, not the model client, "
        f"bounds a 64-call build, so the column after it says how close the build comes to the tighter bound. "
        f"Structured-output method: 'remembered' — the build's workspace remembers the method the warm-up "
        f"build found (as any workspace does after its first build against a server), so every lesson's call "
        f"may leave at once; 'first build' — a fresh workspace, whose first call finds the method while the "
        f"other lessons wait (the `hocvu build` rows below are such first builds too). Calls out in the first "
        f"second: requests that reached the server within {LATENCY:.0f} s of the first. CPU bound: the CPU "
        f"time the build spent (every thread of the benchmark process, and the render workers) ÷ the "
        f"machine's cores — the shortest the build could take on these cores. Input tokens: what the server "
        f"received, counted by its tokenizer (words and punctuation), ÷ lessons made: the messages, and the "
        f"schema sent beside them in `response_format` (which providers bill as input too). "
        f"Load average when done: {load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f}.\n\n"
        f"| lessons | concurrency | structured-output method | calls out in the first second | build | ideal "
        f"| build ÷ ideal | goal ≤ 1.25× | event-loop CPU a lesson | "
        f"render bound | build ÷ max(ideal, render bound) | CPU bound: CPU ÷ {cores} cores (main + render "
        f"workers) | input tokens a lesson (messages + schema beside) |"
        f"\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n"
        f"{table}\n\n"
        f"The `hocvu build` command for the same batch, as a user runs it: start-up is from the launch to the "
        f"first request at the server (imports, settings, plan, store).\n\n"
        f"| lessons | concurrency | start-up (launch → first call) | whole command |\n|---|---|---|---|\n"
        f"{cli_table}\n"
    )


def bench_tokens(n: int = 16) -> str:
    """Input tokens a lesson as the server received them, for each way the schema can travel."""
    sys.path.insert(0, str(REPO))
    from tests.openai_server import OpenAIServer, lesson_factory

    rows = []
    cases = [("json_schema server, `auto`", "auto", False),
             ("json_schema server, `HOCVU_STRUCTURED_OUTPUT=json_mode`", "json_mode", False),
             ("server ignoring `response_format` and tools, `auto`", "auto", True)]
    with OpenAIServer(lesson_factory()) as srv:
        os.environ.update({"OPENAI_API_KEY": "sk-bench", "OPENAI_BASE_URL": srv.base_url,
                           "HOCVU_MODEL": "bench-model"})
        try:
            for label, method, ignores in cases:
                os.environ["HOCVU_STRUCTURED_OUTPUT"] = method
                srv.ignore_format = ignores
                ws = Path(tempfile.mkdtemp(prefix="bench-tokens-"))
                before, billed_before = srv.calls, len(srv.billed)
                _, totals = _inprocess_build(ws, _conc_spec(n, 8))
                made = max(1, totals["generated"])
                messages = sum(b[0] for b in srv.billed[billed_before:]) / made
                beside = sum(srv.schema_tokens[before:]) / made
                rows.append((label, totals["generated"], srv.calls - before, messages, beside,
                             _report(ws).get("structured_output", "")))
                shutil.rmtree(ws, ignore_errors=True)
        finally:
            os.environ.pop("HOCVU_STRUCTURED_OUTPUT", None)
    table = "\n".join(f"| {label} | {method} | {made} | {calls} | {m:,.0f} | {b:,.0f} | {m + b:,.0f} |"
                      for label, made, calls, m, b, method in rows)
    return (
        f"### Input tokens a lesson (issue 16)\n\n"
        f"{n} lessons (vn-dcf-2025, vi, formats [page]) built at concurrency 8 in a fresh workspace against "
        f"tests/openai_server.py in the benchmark process (no latency), once per case. Tokens are what the "
        f"server received, counted by its tokenizer (words and punctuation, not a model's BPE) ÷ lessons "
        f"made: in the messages (what it bills as prompt tokens) and in the schema sent beside them "
        f"(`response_format`'s JSON schema or the tool). Requests include the first call's detection.\n\n"
        f"| case | method used | lessons | requests | messages | schema beside | total |\n"
        f"|---|---|---|---|---|---|---|\n{table}\n"
    )


def bench_llm_and_rebuild() -> str:
    sys.path.insert(0, str(REPO))
    from tests.openai_server import LessonFactory, OpenAIServer

    templates = _templates()
    out = []
    with OpenAIServer(LessonFactory(templates), latency=LATENCY) as srv:
        # 1. The same prompts through a plain sequential langchain loop.
        from langchain_core.messages import HumanMessage, SystemMessage
        from langchain_openai import ChatOpenAI

        from generator.config import load_settings
        from generator.drafting.openai_backend import lesson_schema, prompt_values
        from generator.drafting.prompts import PromptSet
        from generator.drafting.service import build_request
        from generator.frameworks import Library

        lib, prompts = Library(None), PromptSet.load(None)
        link_allow = load_settings().link_allow
        chat = ChatOpenAI(model="bench-model", api_key="sk-bench", base_url=srv.base_url, max_retries=0)
        runnable = chat.with_structured_output(lesson_schema(), method="json_schema", include_raw=True)
        codes = [c.code for c in lib.framework("vn-dcf-2025").competences]
        t = time.perf_counter()
        for group in ("elderly", "farmers"):
            for code in codes:
                values = prompt_values(build_request(lib, "vn-dcf-2025", code, 1, group, "vi"), link_allow)
                runnable.invoke([SystemMessage(prompts.render("system", **values)),
                                 HumanMessage(prompts.render("lesson", **values))])
        loop_s = time.perf_counter() - t

        # 2. The batch through the library, in this process (libraries imported, as for the loop).
        ws = Path(tempfile.mkdtemp(prefix="bench-llm-"))
        os.environ.update({"OPENAI_API_KEY": "sk-bench", "OPENAI_BASE_URL": srv.base_url, "HOCVU_MODEL": "bench-model"})
        before = srv.calls
        batch_s, totals = _inprocess_build(ws, LLM_SPEC)
        n, calls_batch = totals["generated"], srv.calls - before
        report = _report(ws)
        render_cpu = sum(sum(v for k, v in x["timings"].items() if k.startswith("render.")) for x in report["lessons"])
        before = srv.calls
        rebuild_s, _ = _inprocess_build(ws, LLM_SPEC)
        calls_rebuild = srv.calls - before

        # 3. The same batch as a user runs it: the `hocvu build` command, start-up included.
        cli_ws = Path(tempfile.mkdtemp(prefix="bench-llm-cli-"))
        env = {**os.environ, "HOCVU_WORKSPACE": str(cli_ws), "HOME": str(cli_ws)}
        cli_s, _ = _build(cli_ws, LLM_SPEC, env)
        cli_rebuild_s, _ = _build(cli_ws, LLM_SPEC, env)

    workers = render_workers_default()
    ideal = n / 8 * LATENCY + render_cpu / workers
    out.append(
        f"### LLM-bound batch\n\nServer: loopback OpenAI-compatible (tests/openai_server.py, in the benchmark "
        f"process), fixed {LATENCY:.1f} s per call. Batch: {n} lessons (24 competences × elderly, farmers × "
        f"level 1 × vi; formats handout, slides, page; {calls_batch} calls) at concurrency 8 with {workers} render "
        f"workers, through `plan_build` + `run_build` in the benchmark process after the libraries were imported "
        f"— the same footing as the loop, which is the same {n} prompts through a plain sequential "
        f"`ChatOpenAI.with_structured_output(...).invoke` loop. The `hocvu build` command, with its process "
        f"start-up and imports (about 1.5 s), is shown too.\n\n"
        f"| measure | value | goal |\n|---|---|---|\n"
        f"| sequential loop | {loop_s:.2f} s | |\n"
        f"| batch | {batch_s:.2f} s | |\n"
        f"| speed-up (loop ÷ batch) | {loop_s / batch_s:.2f}× | "
        f"≥ 6× ({'met' if loop_s / batch_s >= 6 else 'MISSED'}) |\n"
        f"| ideal ({n} ÷ 8 × {LATENCY:.0f} s + rendering {render_cpu:.2f} s ÷ {workers} workers) "
        f"| {ideal:.2f} s | |\n"
        f"| batch ÷ ideal | {batch_s / ideal:.2f}× | ≤ 1.25× ({'met' if batch_s / ideal <= 1.25 else 'MISSED'}) |\n"
        f"| `hocvu build` command (start-up included) | {cli_s:.2f} s ({loop_s / cli_s:.2f}× faster than the loop) "
        f"| |\n"
    )
    out.append(
        f"### No-change rebuild\n\nThe same batch run again right after.\n\n"
        f"| measure | value | goal |\n|---|---|---|\n"
        f"| LLM calls | {calls_rebuild} | 0 ({'met' if calls_rebuild == 0 else 'MISSED'}) |\n"
        f"| time | {rebuild_s:.2f} s ({rebuild_s / batch_s * 100:.1f} % of the first build) | ≤ 10 % "
        f"({'met' if rebuild_s / batch_s <= 0.10 else 'MISSED'}) |\n"
        f"| `hocvu build` command again | {cli_rebuild_s:.2f} s ({cli_rebuild_s / cli_s * 100:.1f} % of its first "
        f"build) | |\n"
    )
    return "\n".join(out)


def bench_e2e(repeat: int = 9) -> str:
    from generator.batch.build import plan_build, run_build
    from generator.batch.spec import BatchSpec
    from generator.config import load_settings
    from generator.frameworks import Library
    from generator.review.store import ReviewStore

    ws = Path(tempfile.mkdtemp(prefix="bench-e2e-"))
    os.environ["HOCVU_WORKSPACE"] = str(ws)
    settings, lib = load_settings(ws), Library(ws)
    spec = BatchSpec(name="e2e", framework="vn-dcf-2025", groups=["elderly"], competences=["4.2"], levels=[1],
                     languages=["vi"], formats=["handout", "guide", "slides", "audio", "page"], backend="offline",
                     concurrency=1)
    rows: list[dict[str, float]] = []
    totals = []
    with ReviewStore.open(settings) as store:
        for i in range(repeat + 1):
            plan = plan_build(spec, lib, settings, store, force=True)
            t = time.perf_counter()
            report = run_build(plan, lib, settings, store, "bench", 1, render_workers=0, force=True)
            if i:  # the first run pays imports
                totals.append(time.perf_counter() - t)
                rows.append(report.lessons[0].timings)
    med = statistics.median(totals)
    keys = ["draft", "render.handout", "render.guide", "render.slides", "render.audio", "render.page", "submit"]
    lines = "\n".join(f"| {k} | {statistics.median(r.get(k, 0.0) for r in rows) * 1000:.0f} ms |" for k in keys)
    return (
        f"### Offline end-to-end lesson\n\nOne lesson (4.2, elderly, level 1, vi) through the batch runner in one "
        f"process: draft + checks, every render (narration with espeak-ng), store; median of {repeat} runs "
        f"after a warm-up run.\n\n| measure | value | goal |\n|---|---|---|\n"
        f"| total | {med * 1000:.0f} ms | ≤ 1500 ms ({'met' if med <= 1.5 else 'MISSED'}) |\n\n"
        f"| stage | median |\n|---|---|\n{lines}\n"
    )


def _tree_pss(pid: int) -> int:
    """Memory in bytes of ``pid`` and all its descendants: the sum of their PSS (proportional set size), so
    pages shared between processes (a worker and the espeak-ng it is starting) are counted once."""
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/smaps_rollup") as fh:
                total += next(int(line.split()[1]) * 1024 for line in fh if line.startswith("Pss:"))
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    stack += [int(c) for c in fh.read().split()]
        except (OSError, StopIteration):
            continue
    return total


def bench_memory() -> str:
    ws = Path(tempfile.mkdtemp(prefix="bench-mem-"))
    spec = LLM_SPEC.replace("bench-llm", "bench-mem").replace("backend: openai", "backend: offline").replace(
        "groups: [elderly, farmers]", "groups: [elderly, farmers, school-students, civil-servants, teachers]").replace(
        "formats: [handout, slides, page]", "formats: [handout, guide, slides, audio, page]")
    (ws / "spec.yaml").write_text(spec, encoding="utf-8")
    env = {**os.environ, "HOCVU_WORKSPACE": str(ws), "HOME": str(ws)}
    env.pop("OPENAI_API_KEY", None)
    hocvu = str(Path(sys.executable).parent / "hocvu")
    t = time.perf_counter()
    proc = subprocess.Popen([hocvu, "build", "spec.yaml"], cwd=ws, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    peak = [0]

    def sample() -> None:
        while proc.poll() is None:
            peak[0] = max(peak[0], _tree_pss(proc.pid))
            time.sleep(0.05)

    th = threading.Thread(target=sample)
    th.start()
    proc.wait()
    th.join()
    elapsed = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"memory batch failed: {proc.stderr.read().decode() if proc.stderr else ''}")
    n = _report(ws)["totals"]["generated"]
    mb = peak[0] / 1e6
    return (
        f"### Peak memory\n\n`hocvu build` of {n} offline lessons (24 competences × 5 groups × level 1 × vi, all "
        f"formats, 2 render workers); memory of the whole process tree (sum of PSS, so shared pages count "
        f"once) sampled every 50 ms.\n\n"
        f"| measure | value | goal |\n|---|---|---|\n| peak memory (PSS) | {mb:.0f} MB | ≤ 600 MB "
        f"({'met' if mb <= 600 else 'MISSED'}) |\n| time | {elapsed:.1f} s ({elapsed / n:.2f} s per lesson) | |\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--only", default="concurrency,tokens,llm,rebuild,e2e,memory",
                        help="comma-separated parts to run")
    parser.add_argument("--sizes", default="96,1000", help="lesson counts for 'concurrency'")
    parser.add_argument("--concurrency", default="8,64", help="concurrencies for 'concurrency'")
    parser.add_argument("--no-cli", action="store_true", help="'concurrency' without the hocvu build command runs")
    parser.add_argument("--no-write", action="store_true", help="print only; leave BENCHMARKS.md alone")
    args = parser.parse_args()
    parts = set(args.only.split(","))
    sections = []
    if "concurrency" in parts:
        sections.append(bench_concurrency([int(x) for x in args.sizes.split(",")],
                                          [int(x) for x in args.concurrency.split(",")], not args.no_cli))
    if "tokens" in parts:
        sections.append(bench_tokens())
    if parts & {"llm", "rebuild"}:
        sections.append(bench_llm_and_rebuild())
    if "e2e" in parts:
        sections.append(bench_e2e())
    if "memory" in parts:
        sections.append(bench_memory())
    body = "Command: `.venv/bin/python bench/bench_batch.py`.\n\n" + "\n".join(sections)
    print(body)
    if not args.no_write:
        write_section("Batch builds", _kept_subsections(body))


def _kept_subsections(body: str) -> str:
    """``body`` plus the section's subsections ('### ...') of the parts not run this time, as they were."""
    import re

    from common import NOTES

    text = (REPO / "BENCHMARKS.md").read_text(encoding="utf-8") if (REPO / "BENCHMARKS.md").exists() else ""
    m = re.search(r"^## Batch builds\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    if m and NOTES in m.group(1):  # the notes after the marker are kept by write_section itself
        m = re.search(r"^## Batch builds\n(.*?)" + re.escape(NOTES), text, re.S | re.M)
    new = set(re.findall(r"^### (.+)$", body, re.M))
    kept = [part for part in re.split(r"(?=^### )", m.group(1), flags=re.M)[1:]
            if part.splitlines()[0][4:] not in new] if m else []
    return body.rstrip() + "\n\n" + "".join(kept).strip() + "\n"


if __name__ == "__main__":
    main()
