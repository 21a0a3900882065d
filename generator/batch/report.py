"""A build's report: one outcome per lesson, written as the build goes.

While a build runs, ``outputs/builds/<name>-<time>.jsonl`` grows by one JSON line per finished lesson,
after a first line naming the build and every lesson it set out to make, so a build killed by any
means still leaves what it finished (and, by difference, what it did not). At the end the whole report
is written atomically to ``outputs/builds/<name>-<time>.json``: totals, and every lesson — those an
interrupted build did not finish are listed as 'unfinished'.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from generator.fsutil import write_text_atomic

#: Outcomes that make a build exit 3.
FAILURES = ("failed", "failed_checks", "not_attempted", "unfinished")


@dataclass
class LessonOutcome:
    """What happened to one planned lesson."""

    id: str
    group: str
    status: str  # generated | cached | failed | failed_checks | not_attempted | skipped | unfinished
    stage: str = ""
    error: str = ""
    version_dir: str = ""
    llm_call: bool = False
    requests: int = 0  # HTTP requests to the model server, SDK retries and failed attempts included
    attempts: int = 0  # replies asked for (1 + re-asks)
    failed_checks: list[str] = field(default_factory=list)
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)


@dataclass
class BuildReport:
    """A batch run's results."""

    name: str
    backend: str
    model: str
    started_at: str
    seconds: float = 0.0
    interrupted: bool = False
    stopped: str = ""  # why the circuit breaker stopped the build ("" when it did not)
    lessons: list[LessonOutcome] = field(default_factory=list)
    path: Path | None = None
    write_error: str = ""  # why the JSON report could not be written (the results are still reported)
    method: str = ""  # the structured-output method the model was asked with, and how it was chosen

    def count(self, status: str) -> int:
        """Lessons with ``status``."""
        return sum(1 for x in self.lessons if x.status == status)

    @property
    def llm_calls(self) -> int:
        """Requests sent to the model server in this run (retries, re-asks and failed ones included)."""
        return sum(x.requests for x in self.lessons)

    @property
    def ok(self) -> bool:
        """True when every planned lesson was generated or cached and passed its checks."""
        return not any(x.status in FAILURES for x in self.lessons)

    @property
    def stamp(self) -> str:
        """The start time as it appears in the report's file names."""
        return self.started_at.replace(":", "").replace("-", "")

    def totals(self) -> dict[str, Any]:
        """Summary figures."""
        return {
            "planned": len(self.lessons), "generated": self.count("generated"), "cached": self.count("cached"),
            "failed": self.count("failed"), "failed_checks": self.count("failed_checks"),
            "not_attempted": self.count("not_attempted"), "skipped": self.count("skipped"),
            "unfinished": self.count("unfinished"),
            "llm_calls": self.llm_calls,
            "reasks": sum(max(0, x.attempts - 1) for x in self.lessons),
            "input_tokens": sum(x.input_tokens for x in self.lessons),
            "output_tokens": sum(x.output_tokens for x in self.lessons),
            "cost_usd": round(sum(x.cost_usd for x in self.lessons), 6), "seconds": round(self.seconds, 3),
        }

    def header(self) -> dict[str, Any]:
        """What names the build: its name, backend, model and start."""
        return {"name": self.name, "backend": self.backend, "model": self.model, "started_at": self.started_at}

    def to_json(self) -> str:
        """The JSON report."""
        return json.dumps({**self.header(), "interrupted": self.interrupted, "stopped": self.stopped,
                           **({"structured_output": self.method} if self.method else {}),
                           "totals": self.totals(), "lessons": [asdict(x) for x in self.lessons]},
                          ensure_ascii=False, indent=2)

    def write(self, folder: Path) -> Path:
        """Write the JSON report to ``<folder>/<name>-<time>.json`` (atomically)."""
        path = folder / f"{self.name}-{self.stamp}.json"
        write_text_atomic(path, self.to_json())
        self.path = path
        return path


class ReportStream:
    """The build's live report: a JSON line per finished lesson, flushed as soon as it is known.

    A failure to write (a full disk) never stops the build: it is kept in ``error`` and the stream goes
    quiet; the finished versions and the final report do not depend on it."""

    def __init__(self, report: BuildReport, folder: Path | None, planned: list[str]) -> None:
        """``folder`` None: a stream to nowhere (the report is kept elsewhere, e.g. by a job's coordinator)."""
        self.path = folder / f"{report.name}-{report.stamp}.jsonl" if folder is not None else None
        self.error = ""
        self._file: IO[str] | None = None
        try:
            if folder is not None and self.path is not None:
                folder.mkdir(parents=True, exist_ok=True)
                self._file = self.path.open("a", encoding="utf-8")
        except OSError as exc:
            self.error = str(exc)
        self._line({"build": report.header(), "planned": planned})

    def _line(self, data: dict[str, Any]) -> None:
        if self._file is None:
            return
        try:
            self._file.write(json.dumps(data, ensure_ascii=False) + "\n")
            self._file.flush()
        except OSError as exc:
            self.error = str(exc)
            self.close()

    def lesson(self, outcome: LessonOutcome) -> None:
        """Add one finished lesson."""
        self._line({"lesson": asdict(outcome), "at": round(time.time(), 3)})

    def end(self, report: BuildReport) -> None:
        """The last line: the totals, and whether the build was interrupted or stopped."""
        self._line({"end": {"interrupted": report.interrupted, "stopped": report.stopped,
                            **({"structured_output": report.method} if report.method else {}),
                            "totals": report.totals()}})
        self.close()

    def close(self) -> None:
        """Close the file (idempotent)."""
        f, self._file = self._file, None
        if f is not None:
            try:
                f.close()
            except OSError:
                pass
