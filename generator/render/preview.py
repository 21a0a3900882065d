"""A readable Markdown preview of a lesson, in the lesson's language."""

from __future__ import annotations

from generator.drafting.checks import CheckResult
from generator.lesson import Lesson

LABELS = {
    "vi": {"objectives": "Mục tiêu", "key_points": "Điều cần nhớ", "steps": "Các bước thực hành",
           "see": "Kết quả", "example": "Ví dụ", "tips": "Lưu ý an toàn và lỗi thường gặp",
           "practice": "Luyện tập", "expected": "Kết quả mong đợi", "quiz": "Câu hỏi ôn tập",
           "answer": "Đáp án", "glossary": "Giải thích từ ngữ", "facilitator": "Ghi chú cho người hướng dẫn",
           "minutes": "phút", "materials": "Chuẩn bị", "narration": "Lời đọc", "sources": "Nguồn",
           "checks": "Kết quả kiểm tra", "mistake": "Cần tránh", "safety": "An toàn",
           "access": "Trợ năng"},
    "en": {"objectives": "Objectives", "key_points": "Key points", "steps": "Hands-on steps",
           "see": "Result", "example": "Example", "tips": "Safety tips and common mistakes",
           "practice": "Practice", "expected": "Expected result", "quiz": "Quiz", "answer": "Answer",
           "glossary": "Glossary", "facilitator": "Facilitator notes", "minutes": "minutes",
           "materials": "Materials", "narration": "Narration", "sources": "Sources", "checks": "Checks",
           "mistake": "Avoid", "safety": "Safety",
           "access": "Accessibility"},
}


def to_markdown(lesson: Lesson, checks: list[CheckResult] | None = None) -> str:
    """Render ``lesson`` as Markdown (with check results when given)."""
    t = LABELS[lesson.language]
    out = [f"# {lesson.title}", "", f"*{lesson.summary}*", "", f"## {t['objectives']}"]
    out += [f"- {o.text} ({', '.join(o.descriptors)})" for o in lesson.objectives]
    out += ["", f"## {t['key_points']}"]
    out += [f"- {k.text}" + (f" [{', '.join(k.sources)}]" if k.sources else "") for k in lesson.key_points]
    out += ["", f"## {t['steps']}"]
    out += [f"{i}. {s.action}  \n   *{t['see']}:* {s.expect}" for i, s in enumerate(lesson.steps, 1)]
    out += ["", f"## {t['example']}", lesson.example, ""]
    if lesson.tips:
        out += [f"## {t['tips']}"] + [f"- **{t[tip.kind]}:** {tip.text}" for tip in lesson.tips] + [""]
    out += [f"## {t['practice']}", lesson.practice.task, "", f"*{t['expected']}:* {lesson.practice.expected}", ""]
    out += [f"## {t['quiz']}"]
    for i, q in enumerate(lesson.quiz, 1):
        out.append(f"{i}. {q.question}")
        out += [f"   {'ABCD'[j]}. {o}" for j, o in enumerate(q.options)]
        out.append(f"   *{t['answer']}: {'ABCD'[q.answer]}* — {q.explanation} ({q.objective})")
    if lesson.glossary:
        out += ["", f"## {t['glossary']}"] + [f"- **{g.term}**: {g.definition}" for g in lesson.glossary]
    f = lesson.facilitator
    out += ["", f"## {t['facilitator']}", f"{f.duration_minutes} {t['minutes']}. {f.how_to_run}",
            f"{t['materials']}: {', '.join(f.materials)}"]
    out += ["", f"## {t['narration']}", lesson.narration]
    if lesson.sources:
        out += ["", f"## {t['sources']}"]
        out += [f"- [{s.id}] {s.title or s.file}" + (f", p. {s.page}" if s.page else "") for s in lesson.sources]
    if checks:
        out += ["", f"## {t['checks']}"]
        out += [f"- {'✓' if c.passed else '✗'} {c.name}: {c.message}" for c in checks]
    return "\n".join(out) + "\n"
