"""The offline drafter: composes a lesson from the content library, no model at all.

The composition itself (choosing the task and what comes with it for the group, the narration, fitting
to the limits) lives in ``compose.py``; this module is the backend: which content entry serves a request
— the framework's own, or through ``equivalences.yaml`` the national framework's for DigComp — and
revising one section.
"""

from __future__ import annotations

import hashlib
import inspect
import re
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING

from generator.drafting.backend import Backend, DraftRequest, DraftResult, RevisionRequest
from generator.drafting.compose import Audience, compose, fit
from generator.drafting.content import CompetenceContent, ContentObjective
from generator.errors import NotFoundError
from generator.lesson import LessonDraft
from generator.schema import Descriptor

if TYPE_CHECKING:
    from pathlib import Path

    from generator.config import Settings
    from generator.frameworks import Library


@cache
def composer_hash() -> str:
    """Identifies the composition logic, recorded as the 'prompt' hash of offline drafts (the source
    does not change while a process runs, so it is read once)."""
    import generator.drafting.compose as composer
    import generator.drafting.offline as me

    blob = "".join(inspect.getsource(m) for m in (me, composer))
    return "offline-" + hashlib.sha256(blob.encode()).hexdigest()[:12]


def _matcher(descriptors: list[Descriptor], english: dict[str, str]) -> Callable[[ContentObjective], list[str]]:
    """For a lesson drafted through an equivalence: each objective cites the other framework's descriptor
    (or learning outcome) whose words it shares most, by its English wording."""
    def words(text: str) -> set[str]:
        return {w for w in re.findall(r"[a-z]{4,}", text.lower()) if w not in _STOP}

    def cite(o: ContentObjective) -> list[str]:
        mine = words(english.get(o.key, ""))
        best = max(descriptors, key=lambda d: (len(mine & words(d.text.get("en"))), -descriptors.index(d)))
        return [best.id]

    return cite


_STOP = {"with", "that", "this", "from", "their", "your", "what", "when", "into", "them", "they", "about", "using",
         "able", "such", "which", "these", "those", "other", "others", "more", "most", "some", "also", "make"}


class OfflineBackend(Backend):
    """Composes lessons from ``frameworks/content/<framework>/<code>.yaml``."""

    name = "offline"
    uses_content_library = True
    prompt_source = "the offline composer"

    def __init__(self, library: Library) -> None:
        self.library = library
        self.model = "content-library"

    @classmethod
    def create(cls, settings: Settings, library: Library, model: str | None) -> OfflineBackend:
        """The offline drafter over ``library`` (it has no model to choose)."""
        return cls(library)

    @classmethod
    def model_for(cls, settings: Settings, model: str | None) -> str:
        """Always 'content-library'."""
        return "content-library"

    @classmethod
    def prompt_hash(cls, workspace: Path | None, task: str = "lesson") -> str:
        """The composer's hash, for drafts and revisions alike."""
        return composer_hash()

    def _entry(self, req: DraftRequest) -> tuple[CompetenceContent, Callable[[ContentObjective], list[str]] | None]:
        """The content entry for the request, and how its objectives cite descriptors when the entry
        comes from another framework through an equivalence (DigComp → the national framework)."""
        fid, code = req.framework.id, req.competence.code
        if code in self.library.content_codes(fid):
            return self.library.content(fid, code), None
        for other in sorted(self.library.content_frameworks()):
            eq = self.library.equivalent(fid, code, other)
            if eq and eq in self.library.content_codes(other):
                entry = self.library.content(other, eq)
                english = {o.key: o.wording(req.level) for o in entry.en.objectives}
                return entry, _matcher(req.descriptors, english)
        have = ", ".join(f"{f} ({len(self.library.content_codes(f))} competences)"
                         for f in sorted(self.library.content_frameworks())) or "none"
        raise NotFoundError(
            "the offline drafter has no content for {fid} {code} and no equivalent competence with content "
            "(offline content: {have}); draft another competence, or use --backend openai",
            fid=fid, code=code, have=have,
        )

    def _compose(self, req: DraftRequest) -> LessonDraft:
        entry, cite = self._entry(req)
        data = compose(entry.lang(req.lang), req, cite)
        return fit(data, req.lang, req.limits, req.group)

    async def adraft(self, request: DraftRequest) -> DraftResult:
        """Compose a lesson for ``request``."""
        draft = self._compose(request)
        return DraftResult(draft=draft, backend=self.name, model=self.model, prompt_hash=composer_hash())

    async def arevise(self, request: RevisionRequest) -> DraftResult:
        """Recompose the asked section from the library for the same group and level. For the example, the
        next story written for this group; free-text comments cannot be applied without a model, and the
        note says so plainly."""
        req = request.request
        fresh = self._compose(req)
        old = request.lesson.draft_part()
        section = request.section
        data = fresh.draft_part() if section == "all" else dict(old, **{section: fresh.draft_part()[section]})
        if section == "example":
            entry, _ = self._entry(req)
            aud = Audience.of(req.group, req.lang)
            lc = entry.lang(req.lang)
            stories = [aud.speak(e.text) for t in aud.rank(lc.tasks, req.level, lambda t: [t.title])
                       for e in t.stories() if e.suits(req.level) and aud.clean(e.text)]
            stories += [aud.speak(e.story) for e in aud.rank(lc.examples, req.level, lambda e: [e.story])]
            for story in stories:
                if story != old["example"]:
                    candidate = dict(data, example=story)
                    if not LessonDraft.model_validate(candidate).limit_problems(req.limits):
                        data = candidate
                        break
        draft = LessonDraft.model_validate(data, context=req.limits.context())
        changed = section == "all" or draft.draft_part()[section] != old[section]
        notes = [_revise_note(req.lang, section, changed, len(request.comments))]
        return DraftResult(draft=draft, backend=self.name, model=self.model, prompt_hash=composer_hash(),
                           notes=notes)


#: Section names as the review app shows them, for notes written in the lesson's language.
SECTION_NAMES = {
    "vi": {"title": "Tiêu đề", "summary": "Tóm tắt", "objectives": "Mục tiêu", "key_points": "Điều cần nhớ",
           "steps": "Các bước", "example": "Ví dụ", "tips": "Lời khuyên", "practice": "Thực hành",
           "quiz": "Câu hỏi ôn tập", "glossary": "Từ ngữ", "facilitator": "Ghi chú cho người dạy",
           "narration": "Lời đọc", "all": "Cả bài"},
    "en": {"key_points": "key points", "all": "the whole lesson"},
}


def _revise_note(lang: str, section: str, changed: bool, comments: int) -> str:
    """What the offline reviser did and could not do, in the lesson's language."""
    section = SECTION_NAMES.get(lang, {}).get(section, section)
    if lang == "vi":
        did = (f"đã soạn lại phần “{section}” từ thư viện nội dung, cho đúng nhóm và bậc của bài" if changed
               else f"thư viện nội dung không có phiên bản khác của phần “{section}” cho nhóm và bậc này")
        return (f"Soạn offline: {did}. Không tự áp dụng được {comments} góp ý viết tay — "
                "hãy sửa bài (Chỉnh sửa) để áp dụng.")
    did = (f"recomposed '{section}' from the content library for the same group and level" if changed
           else f"the content library has no other version of '{section}' for this group and level")
    return f"Offline revision: {did}. It cannot apply {comments} written comment(s) — edit the lesson to apply them."
