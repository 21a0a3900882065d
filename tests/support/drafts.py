"""The repository root and real offline drafts, for tests that need a lesson the product itself made."""

from __future__ import annotations

from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


def offline_lesson(library: Any, competence: str = "4.2", level: int = 1, group: str = "elderly",
                   lang: str = "vi", passages: Any = None, framework: str = "vn-dcf-2025") -> Any:
    """A lesson drafted by the offline backend (the product's own default), with its check results."""
    from generator.config import load_settings
    from generator.drafting.backend import make_backend, run_sync
    from generator.drafting.service import adraft_lesson, build_request

    settings = load_settings()
    backend = make_backend(settings, library, "offline")
    req = build_request(library, framework, competence, level, group, lang, passages)
    return run_sync(adraft_lesson(library, settings, backend, req))
