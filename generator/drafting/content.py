"""The offline content library's schema now lives in ``generator.content`` (the data layer, beside
``generator.frameworks``, which loads it): drafting depends on the library's data, never the other way.

This module keeps the old import path working for the drafting modules that compose lessons from it.
"""

from __future__ import annotations

from generator.content import (
    ALL_LEVELS,
    BANDS,
    Attached,
    CompetenceContent,
    ContentObjective,
    ContentStep,
    Example,
    FacilitatorNotes,
    GlossaryEntry,
    KeyPoint,
    LanguageContent,
    Practice,
    QuizItem,
    SourceNote,
    Targeted,
    Task,
    TaskExample,
    TaskPoint,
    TaskQuiz,
    TaskTip,
    Tip,
    content_problems,
    coverage,
    raw_address,
)

__all__ = [
    "ALL_LEVELS", "BANDS", "Attached", "CompetenceContent", "ContentObjective", "ContentStep", "Example",
    "FacilitatorNotes", "GlossaryEntry", "KeyPoint", "LanguageContent", "Practice", "QuizItem", "SourceNote",
    "Targeted", "Task", "TaskExample", "TaskPoint", "TaskQuiz", "TaskTip", "Tip", "content_problems",
    "coverage", "raw_address",
]
