"""A job's live progress: the batch build's stage events counted in memory, written to the job row by a
watcher thread (so the build's event loop never waits on the database)."""

from __future__ import annotations

import threading
from typing import Any

from generator.batch.plan import Plan
from generator.batch.run import STAGES

#: Failures kept in the progress (the report at the end lists every one).
MAX_FAILED = 50


def plan_summary(plan: Plan) -> dict[str, Any]:
    """The plan as the job form and the progress show it: counts per group and the estimate."""
    from generator.drafting.backend import uses_content_library

    return {
        "backend": plan.backend, "model": plan.model, "uses_library": uses_content_library(plan.backend),
        "total": plan.count("generate"), "cached": plan.count("cached"), "planned": len(plan.lessons),
        "groups": plan.by_group(),
        "est_input_tokens": plan.est_input_tokens, "est_output_tokens": plan.est_output_tokens,
        "est_cost_usd": round(plan.est_cost_usd, 4),
    }


class JobProgress:
    """Implements the batch runner's ``Progress``: per stage, how many lessons started, finished, failed."""

    def __init__(self, plan: Plan) -> None:
        self._lock = threading.Lock()
        self.summary = plan_summary(plan)
        self.stages: dict[str, dict[str, int]] = {s: {"start": 0, "done": 0, "fail": 0} for s in STAGES}
        self.failed: list[dict[str, str]] = []
        self.finished = 0
        self.version = 0  # bumped on every event: the watcher writes only when something changed

    def stage(self, name: str, lesson_id: str, event: str) -> None:
        """A stage of a lesson started, finished or failed."""
        with self._lock:
            counts = self.stages.setdefault(name, {"start": 0, "done": 0, "fail": 0})
            counts[event] = counts.get(event, 0) + 1
            if event == "fail":
                self.finished += 1
                if len(self.failed) < MAX_FAILED:
                    self.failed.append({"id": lesson_id, "stage": name})
            elif event == "done" and name == STAGES[-1]:
                self.finished += 1
            self.version += 1

    def snapshot(self) -> dict[str, Any]:
        """The progress as stored in the job row."""
        with self._lock:
            return {**self.summary, "finished": self.finished,
                    "stages": {k: dict(v) for k, v in self.stages.items()}, "failed": list(self.failed)}
