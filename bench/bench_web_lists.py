"""Review lists at scale: dashboard, queue, coverage and ``/api/lessons?limit=50`` over 2,500 and 25,000
lessons, with 1 and 20 concurrent clients (goal: p95 ≤ 200 ms at 20 clients and 25,000 lessons, server
RSS growth ≤ 100 MB after the load).

The store is filled directly (no drafting, no rendering): every lesson gets one version carrying a real
offline lesson's JSON (so a list that read bodies would pay for them), review events for its status, and
the hashes of the library as it is (3 % made outdated on purpose). Lessons beyond the shipped frameworks'
keys go to copies of vn-dcf-2025 under other ids in the workspace. The server is ``hocvu serve`` (uvicorn,
one process) on loopback; clients are threads with their own HTTP connection, signed in as an admin (the
dashboard's largest view) or holding an API token.

    PYTHONPATH=. .venv/bin/python bench/bench_web_lists.py [--sizes 2500,25000] [--database-url URL]

With ``--database-url`` (a PostgreSQL database it may empty, e.g. the one ``bash .ci/postgres start``
makes) the store lives there instead of in the workspace's SQLite file.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from common import REPO, write_section

PASSWORD = "bench-password-1"
ENDPOINTS = {"dashboard": "/", "queue": "/queue", "coverage": "/coverage", "api": "/api/lessons?limit=50"}
STATUSES = [("in_review", 40), ("approved", 30), ("published", 15), ("changes_requested", 10), ("draft", 5)]
GOAL_P95_MS, GOAL_RSS_MB = 200, 100


def _keys(library, n: int):  # type: ignore[no-untyped-def]
    """The first ``n`` (framework, competence, level, group, language) keys, framework by framework."""
    for fid in sorted(library.framework_ids()):
        fw = library.framework(fid)
        for comp in fw.competences:
            for gid in sorted(library.groups):
                for lv in fw.levels:
                    for lang in ("vi", "en"):
                        yield fid, comp.code, lv.level, gid, lang
                        n -= 1
                        if n == 0:
                            return


def _empty(url: str) -> None:
    from sqlalchemy import inspect

    from generator.review.db import make_engine

    engine = make_engine(url)
    with engine.begin() as conn:
        for table in inspect(conn).get_table_names():
            conn.exec_driver_sql(f'drop table if exists "{table}" cascade')
    engine.dispose()


def fill(ws: Path, n: int) -> tuple[float, str]:
    """Fill ``ws``'s store with ``n`` lessons; returns (seconds, an API token of the admin)."""
    from sqlalchemy import insert

    from generator.config import load_settings
    from generator.drafting.backend import make_backend, run_sync
    from generator.drafting.service import adraft_lesson, build_request
    from generator.frameworks import Library, shipped_dir
    from generator.lesson import lesson_id
    from generator.review.models import EventRow, LessonRow, VersionRow, utcnow
    from generator.review.store import ReviewStore
    from generator.review.tokens import issue_token
    from generator.textfold import fold

    base = Library(ws)
    per_fw = {fid: len(base.framework(fid).competences) * len(base.groups) * 8 * 2 for fid in base.framework_ids()}
    extra, have = 0, sum(per_fw.values())
    src = (shipped_dir("frameworks") / "vn-dcf-2025.yaml").read_text(encoding="utf-8")
    while have < n:  # copies of vn-dcf-2025 under other ids, in the workspace
        extra += 1
        fid = f"bench-{extra:02d}"
        (ws / "frameworks").mkdir(exist_ok=True)
        (ws / "frameworks" / f"{fid}.yaml").write_text(re.sub(r"(?m)^id: .*$", f"id: {fid}", src, count=1),
                                                      encoding="utf-8")
        have += per_fw["vn-dcf-2025"]
    lib = Library(ws)
    os.environ["HOCVU_WORKSPACE"] = str(ws)
    settings = load_settings()
    body = run_sync(adraft_lesson(lib, settings, make_backend(settings, lib, "offline"),
                                  build_request(lib, "vn-dcf-2025", "4.2", 1, "elderly", "vi", None))).lesson
    body_json, prov = body.model_dump_json(), body.provenance
    t0 = time.perf_counter()
    store = ReviewStore.open(settings)
    store.add_user("adm", "admin", PASSWORD)
    token = issue_token(store, "adm")
    cycle = [st for st, share in STATUSES for _ in range(share)]
    now = utcnow()
    lessons, versions, events = [], [], []
    for i, (fid, code, lv, gid, lang) in enumerate(_keys(lib, n)):
        lid, status = lesson_id(fid, code, lv, gid, lang), cycle[i % len(cycle)]
        title = f"{body.title} ({fid} {code}, mức {lv})"
        author = f"ed{i % 7}"
        lessons.append(dict(id=lid, framework=fid, competence=code, level=lv, target_group=gid, language=lang,
                            title=title, search_key=fold(f"{title} {lid}")[:800], status=status, current_version=1,
                            row_version=1, created_at=now, updated_at=now, author=author,
                            checks_passed=i % 23 != 0, outdated=False, outdated_reasons="[]", outdated_stamp=""))
        stale = i % 33 == 0  # about 3 % outdated: their group profile "changed" since
        versions.append(dict(lesson_id=lid, number=1, kind="draft", parent_version=None, author=author, created_at=now,
                             content_hash="0" * 64, lesson_json=body_json, checks_json="[]",
                             checks_passed=i % 23 != 0, artifacts_json="{}", backend="offline", model=prov.model,
                             prompt_hash=prov.prompt_hash, framework_hash=lib.competence_hash(fid, code),
                             group_hash="stale" if stale else lib.group_hash(gid),
                             library_hash=lib.content_hash(fid, code), sources_hash="", folder=None, cache_key=None))
        events.append(dict(lesson_id=lid, version=1, action="create", actor=author, created_at=now, from_status=None,
                           to_status="draft" if status == "draft" else "in_review", comment=None,
                           section="draft"))
        for action, to in (("approve", "approved"), ("publish", "published")):
            if status in ("approved", "published") and (action == "approve" or status == "published"):
                events.append(dict(lesson_id=lid, version=1, action=action, actor="adm", created_at=now,
                                   from_status=None, to_status=to, comment=None, section=None))
        if status == "changes_requested":
            events.append(dict(lesson_id=lid, version=1, action="request_changes", actor="adm", created_at=now,
                               from_status="in_review", to_status=status, comment="Thêm ví dụ", section=None))
    with store.engine.begin() as conn:
        for table, rows in ((LessonRow, lessons), (VersionRow, versions), (EventRow, events)):
            for start in range(0, len(rows), 2000):
                conn.execute(insert(table.__table__), rows[start:start + 2000])  # type: ignore[arg-type]
    t1 = time.perf_counter()
    store.refresh_outdated(lib)  # what the first list after a migration or a source change pays, once
    refresh = time.perf_counter() - t1
    store.close()
    print(f"filled {n} lessons in {t1 - t0:.1f} s; first outdated refresh {refresh:.2f} s", flush=True)
    return refresh, token


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _sign_in(base: str):  # type: ignore[no-untyped-def]
    import httpx

    client = httpx.Client(base_url=base, timeout=120)
    page = client.get("/login").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    r = client.post("/login", data={"name": "adm", "password": PASSWORD, "csrf_token": csrf})
    assert r.status_code == 303, r.text[:300]
    return dict(client.cookies)


def _load(base: str, path: str, clients: int, each: int, cookies: dict[str, str],
          token: str) -> list[float]:
    import httpx

    times: list[float] = []
    lock = threading.Lock()
    errors: list[str] = []

    def run() -> None:
        with httpx.Client(base_url=base, timeout=300, cookies=cookies,
                          headers={"Authorization": f"Bearer {token}"}) as c:
            for _ in range(each):
                t = time.perf_counter()
                r = c.get(path)
                dt = time.perf_counter() - t
                if r.status_code != 200:
                    errors.append(f"{path}: {r.status_code}")
                with lock:
                    times.append(dt)

    threads = [threading.Thread(target=run) for _ in range(clients)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    if errors:
        raise SystemExit(f"requests failed: {errors[:3]}")
    return times


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] * 1000


def measure(n: int) -> tuple[list[str], float, float, float]:
    """Rows of the result table for ``n`` lessons, the first refresh time, RSS before and after."""
    with tempfile.TemporaryDirectory(prefix="hocvu-bench-web-") as tmp:
        ws = Path(tmp)
        if os.environ.get("HOCVU_DATABASE_URL"):
            _empty(os.environ["HOCVU_DATABASE_URL"])
        refresh, token = fill(ws, n)
        port = _free_port()
        env = dict(os.environ, PYTHONPATH=str(REPO), HOCVU_WORKSPACE=str(ws), HOME=str(ws))
        server = subprocess.Popen(
            [sys.executable, "-c", "from generator.cli.main import run; run()", "serve", "--port", str(port)],
            env=env, cwd=ws, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        base = f"http://127.0.0.1:{port}"
        try:
            import httpx

            for _ in range(300):
                try:
                    httpx.get(base + "/login", timeout=1)
                    break
                except httpx.HTTPError:
                    time.sleep(0.1)
            cookies = _sign_in(base)
            for path in ENDPOINTS.values():  # warm-up: imports, templates, the stamp
                _load(base, path, 1, 2, cookies, token)
            rss0 = _rss_mb(server.pid)
            rows = []
            for name, path in ENDPOINTS.items():
                for clients, each in ((1, 20), (20, 10)):
                    times = _load(base, path, clients, each, cookies, token)
                    rows.append(f"| {n:,} | {name} | {clients} | {len(times)} | {_pct(times, 50):.0f} | "
                                f"{_pct(times, 95):.0f} |")
                    print(rows[-1], flush=True)
            rss1 = _rss_mb(server.pid)
        finally:
            server.terminate()
            server.wait(30)
    return rows, refresh, rss0, rss1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="2500,25000")
    parser.add_argument("--database-url", default="", help="a PostgreSQL database the benchmark may empty")
    args = parser.parse_args()
    if args.database_url:
        os.environ["HOCVU_DATABASE_URL"] = args.database_url
    table = ["| lessons | view | clients | requests | p50 ms | p95 ms |", "|---|---|---|---|---|---|"]
    notes = []
    worst_p95, worst_growth = 0.0, 0.0
    for n in (int(x) for x in args.sizes.split(",")):
        rows, refresh, rss0, rss1 = measure(n)
        table += rows
        if n >= 25_000:
            worst_p95 = max(float(r.split("|")[6]) for r in rows if "| 20 |" in r)
        worst_growth = max(worst_growth, rss1 - rss0)
        notes.append(f"- {n:,} lessons: server RSS {rss0:.0f} MB after warm-up, {rss1:.0f} MB after the load "
                     f"(+{rss1 - rss0:.0f} MB); first outdated refresh (every lesson checked once) "
                     f"{refresh:.2f} s.")
    verdict = (f"Goals: p95 at 20 clients and 25,000 lessons ≤ {GOAL_P95_MS} ms — worst {worst_p95:.0f} ms "
               f"({'met' if worst_p95 <= GOAL_P95_MS else 'MISSED'}); RSS growth ≤ {GOAL_RSS_MB} MB — worst "
               f"+{worst_growth:.0f} MB ({'met' if worst_growth <= GOAL_RSS_MB else 'MISSED'}).")
    body = (__doc__.split("\n\n", 1)[1].rsplit("\n\n", 1)[0] + "\n\nEach view: 20 requests from 1 client, then "
            "10 requests from each of 20 clients at once; latency is the client's (request sent to body read)."
            "\n\n" + "\n".join(table) + "\n\n" + "\n".join(notes) + "\n\n" + verdict)
    load = os.getloadavg()
    body += (f"\n\nThe machine's load average during the run: {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} "
             f"(1 / 5 / 15 min, {os.cpu_count()} cores shared with other work): the client threads, the server "
             "and everything else running compete for the same cores, so p95 at 20 clients is mostly queueing.")
    where = ("PostgreSQL on loopback (the same machine), through psycopg" if args.database_url
             else "SQLite (WAL) in the workspace")
    body = f"Store: {where}.\n\n" + body
    write_section("Web lists at scale" + (" (PostgreSQL)" if args.database_url else ""), body)
    print(body)


if __name__ == "__main__":
    main()
