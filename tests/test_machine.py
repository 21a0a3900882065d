"""Render workers default to the processors this process may use (``--workers`` overrides it: the batch
tests build with ``--workers 0``)."""

from __future__ import annotations

import os

import pytest

from generator.batch.run import render_workers_default
from generator.machine import cpu_count


def test_workers_follow_the_cpus_this_process_may_use(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(os, "process_cpu_count", raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 2, 5}, raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    assert cpu_count() == 3
    assert render_workers_default() == 3

