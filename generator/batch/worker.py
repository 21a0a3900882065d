"""Rendering for batch builds, runnable in a worker process (plain arguments in, plain data out)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

#: How often a worker checks that the build which started it still runs (seconds).
WATCH_INTERVAL = 0.5


def render_into(out_dir: str, lesson_json: str, group_json: str, formats: list[str], workspace: str,
                settings_values: dict[str, Any]) -> dict[str, Any]:
    """Render a lesson into ``out_dir``; returns {'files': {format: name}, 'notes': [...], 'timings': {...}}."""
    from generator.config import load_settings
    from generator.lesson import Lesson
    from generator.render import render_lesson
    from generator.schema import TargetGroup

    settings = load_settings(Path(workspace), **settings_values)
    lesson = Lesson.model_validate_json(lesson_json)
    group = TargetGroup.model_validate_json(group_json)
    result = render_lesson(lesson, group, Path(out_dir), formats, settings)
    return {
        "files": {fmt: path.name for fmt, path in result.files.items()},
        "notes": list(result.notes),
        "timings": dict(result.timings),
    }


def warm_up() -> bool:
    """Import the heavy rendering libraries once, so the first lesson does not pay for it."""
    import docx  # noqa: F401
    import pptx  # noqa: F401

    import generator.render  # noqa: F401

    return True


def watch_parent(parent: int) -> None:
    """Pool initializer: end this worker as soon as the build that started it is gone, however it died
    (kill -9 included), instead of rendering on for minutes with nobody to take the result."""
    import threading
    import time

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(WATCH_INTERVAL)
        os._exit(1)

    threading.Thread(target=watch, name="hocvu-watch-parent", daemon=True).start()
