"""Offline drafting time per lesson, and prompt size per lesson as reported by the loopback server."""

from __future__ import annotations

import statistics
import time

from common import REPO, write_section


def main() -> None:
    import os
    import tempfile

    os.environ.setdefault("HOCVU_WORKSPACE", tempfile.mkdtemp())
    from generator.config import load_settings
    from generator.drafting.backend import make_backend, run_sync
    from generator.drafting.service import adraft_lesson, build_request
    from generator.frameworks import Library

    lib = Library(None)
    settings = load_settings()
    offline = make_backend(settings, lib, "offline")
    codes = lib.content_codes("vn-dcf-2025")
    groups = ["elderly", "farmers", "school-students", "civil-servants"]
    run_sync(adraft_lesson(lib, settings, offline, build_request(lib, "vn-dcf-2025", "4.2", 1, "elderly", "vi")))
    times = []
    for code in codes:
        for group in groups:
            for lang in ("vi", "en"):
                req = build_request(lib, "vn-dcf-2025", code, 1, group, lang)
                t = time.perf_counter()
                run_sync(adraft_lesson(lib, settings, offline, req))
                times.append(time.perf_counter() - t)

    import sys

    sys.path.insert(0, str(REPO))
    from tests.openai_server import LessonFactory, OpenAIServer

    templates = {lang: run_sync(adraft_lesson(lib, settings, offline, build_request(
        lib, "vn-dcf-2025", "4.2", 1, "elderly", lang))).lesson.draft_part() for lang in ("vi", "en")}
    with OpenAIServer(LessonFactory(templates)) as srv:
        s = load_settings(backend="openai", openai_api_key="sk-bench", openai_base_url=srv.base_url,
                          model="bench-model")
        llm = make_backend(s, lib, "openai")
        for code in ("1.1", "2.3", "4.2", "6.2"):
            for group in ("elderly", "civil-servants"):
                for lang in ("vi", "en"):
                    run_sync(adraft_lesson(lib, s, llm, build_request(lib, "vn-dcf-2025", code, 1, group, lang)))
        tokens = srv.prompt_tokens
    body = (
        f"Offline drafting (draft + all checks), {len(times)} lessons: {len(codes)} competences × "
        f"{len(groups)} groups × vi/en, level 1.\n\n"
        f"| metric | value |\n|---|---|\n"
        f"| median per lesson | {statistics.median(times) * 1000:.1f} ms |\n"
        f"| p90 per lesson | {sorted(times)[int(len(times) * 0.9)] * 1000:.1f} ms |\n"
        f"| prompt size per lesson (openai backend; tokens counted by the loopback server, words and "
        f"punctuation), median of {len(tokens)} | {statistics.median(tokens):.0f} tokens |\n"
        f"| prompt size min / max | {min(tokens)} / {max(tokens)} tokens |\n"
    )
    write_section("Drafting", body)
    print(body)


if __name__ == "__main__":
    main()
