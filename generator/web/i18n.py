"""The web interface's words. The sentences themselves live in the gettext catalogs
(``generator/locale/<lang>/LC_MESSAGES/hocvu.po``, see generator.i18n): templates call ``_("English text",
name=value)`` and get the reader's language. Words picked by a value (a status, a role, a section, an
action) are looked up by a label key such as ``status_approved`` in ``LABELS``, so templates can write
``_("section_" ~ name)``.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from typing import Any, Final

from generator import i18n
from generator.i18n import N_, NP_

LANGS: Final = i18n.LANGS
DEFAULT: Final = i18n.DEFAULT
LANG_NAMES: Final = {"vi": "Tiếng Việt", "en": "English"}
LANG_COOKIE: Final = "hocvu_lang"

#: Label keys (prefix + a value from the core) → the English msgid they show (with a context where the
#: same English needs other Vietnamese: "rejected" in the history is what someone did, not a status).
LABELS: Final[dict[str, str | tuple[str, str]]] = {
    "role_editor": N_("editor"),
    "role_reviewer": N_("reviewer"),
    "role_admin": N_("admin"),
    "status_draft": N_("Draft"),
    "status_in_review": N_("In review"),
    "status_approved": N_("Approved"),
    "status_changes_requested": N_("Changes requested"),
    "status_rejected": N_("Rejected"),
    "status_published": N_("Published"),
    "status_superseded": N_("Superseded"),
    "lang_vi": N_("Vietnamese"),
    "lang_en": N_("English"),
    "kind_draft": N_("Drafted"),
    "kind_edit": N_("Edited"),
    "kind_revise": N_("Revised from comments"),
    "action_create": NP_("history", "made"),
    "action_submit": NP_("history", "submitted"),
    "action_approve": NP_("history", "approved"),
    "action_request_changes": NP_("history", "requested changes on"),
    "action_reject": NP_("history", "rejected"),
    "action_publish": NP_("history", "published"),
    "action_comment": NP_("history", "commented on"),
    "action_resolve": NP_("history", "resolved a comment on"),
    "file_handout": N_("Learner handout (.docx)"),
    "file_guide": N_("Facilitator guide (.docx)"),
    "file_slides": N_("Slides (.pptx)"),
    "file_audio": N_("Narration (.mp3)"),
    "file_page": N_("Lesson web page (.html)"),
    "file_lesson": N_("Lesson data (.json)"),
    "file_video": N_("Video (.mp4)"),
    "file_captions": N_("Captions (.vtt)"),
    "file_card": N_("Pocket card (.docx)"),
    "file_checks.json": N_("Check results (.json)"),
    "section_title": N_("Title"),
    "section_summary": N_("Summary"),
    "section_objectives": N_("Objectives"),
    "section_key_points": N_("Key points"),
    "section_steps": N_("Steps"),
    "section_example": N_("Example"),
    "section_tips": N_("Tips"),
    "section_practice": N_("Practice"),
    "section_quiz": N_("Quiz"),
    "section_glossary": N_("Glossary"),
    "section_facilitator": N_("Facilitator notes"),
    "section_narration": N_("Narration"),
    "section_sources": N_("Sources"),
    "section_all": N_("The whole lesson"),
    "cv_approved": N_("Approved"),
    "cv_in_review": N_("Under review"),
    "cv_changes_requested": N_("Changes requested"),
    "cv_missing": N_("Missing"),
    "done_approve": N_("Version {version} approved."),
    "done_request_changes": N_("Changes requested on version {version}."),
    "done_reject": N_("Version {version} rejected."),
    "format_handout": N_("Handout"),
    "format_guide": N_("Facilitator guide"),
    "format_slides": N_("Slides"),
    "format_audio": N_("Narration"),
    "format_page": N_("Web page"),
    "format_video": N_("Video"),
    "format_card": N_("Reminder card"),
    "backend_auto": N_("As configured"),
    "backend_offline": N_("The content library (free)"),
    "backend_openai": N_("A language model (OpenAI-compatible server)"),
    "executor_local": N_("The worker process on this machine"),
    "executor_celery": N_("The shared workers (Celery)"),
    "job_state_queued": N_("Queued"),
    "job_state_running": N_("Running"),
    "job_state_done": N_("Done"),
    "job_state_failed": N_("Failed"),
    "job_state_cancelled": N_("Cancelled"),
    "job_waiting_local": N_("Waiting for the worker to take it (hocvu serve runs one; otherwise an administrator "
                            "runs hocvu worker)."),
    "job_waiting_celery": N_("Waiting for the shared workers to take it (an administrator runs hocvu worker "
                             "--executor celery)."),
    "stage_draft": N_("Draft"),
    "stage_check": N_("Checks"),
    "stage_render": N_("Render"),
    "stage_submit": N_("Submit for review"),
    "total_planned": N_("planned"),
    "total_generated": N_("generated"),
    "total_cached": N_("already made"),
    "total_failed": N_("failed"),
    "total_failed_checks": N_("failed their checks"),
    "total_not_attempted": N_("not attempted"),
    "total_llm_calls": N_("model calls"),
    "outcome_generated": N_("generated"),
    "outcome_cached": N_("already made"),
    "outcome_failed": N_("failed"),
    "outcome_failed_checks": N_("failed its checks"),
    "outcome_not_attempted": N_("not attempted"),
    "source_added": N_("added"),
    "source_replaced": N_("replaced"),
    "source_unchanged": N_("unchanged"),
    "source_skipped": N_("not added"),
    "source_removed": N_("removed"),
    "change_added": NP_("group change", "added"),
    "change_edited": NP_("group change", "edited"),
    "error_title_400": N_("Cannot do that"),
    "error_title_401": N_("Sign-in needed"),
    "error_title_403": N_("Not allowed"),
    "error_title_404": N_("Not found"),
    "error_title_409": N_("Conflict"),
    "error_title_422": N_("Not valid"),
    "error_title_429": N_("Too many attempts"),
    "error_title_503": N_("Service unavailable"),
}


def translator(lang: str) -> Callable[..., str]:
    """``t(msgid_or_label, **values)`` in ``lang``: a label key (``status_approved``) is first turned into its
    msgid; an unknown label shows its value (the part after the prefix), never a crash."""

    def t(key: str, **values: Any) -> str:
        label = LABELS.get(key)
        if isinstance(label, tuple):
            return i18n.format_message(i18n.pgettext(*label, lang), values)
        if label is None and "_" in key and key.split("_", 1)[0] in _PREFIXES and " " not in key:
            return key.split("_", 1)[1]
        return i18n.translate(label or key, lang, **values)

    return t


_PREFIXES: Final = frozenset(k.split("_", 1)[0] for k in LABELS)
#: The sections the interface has names for ("summary", "key_points", "all", ...).
SECTION_KEYS: Final = frozenset(k.removeprefix("section_") for k in LABELS if k.startswith("section_"))


def request_language(scope: MutableMapping[str, Any]) -> str:
    """The language of one request: ?lang=, else the language cookie, else Vietnamese; the JSON API
    answers in English (for machines) unless the client's Accept-Language asks for Vietnamese."""
    from starlette.requests import HTTPConnection

    conn = HTTPConnection(scope)
    if conn.url.path == "/api" or conn.url.path.startswith("/api/"):
        asked = (conn.headers.get("accept-language") or "").split(",")[0]
        return i18n.normalize_language(asked) or "en"
    query = conn.query_params.get("lang")
    if query in LANGS:
        return str(query)
    cookie = conn.cookies.get(LANG_COOKIE)
    return cookie if cookie in LANGS else DEFAULT


class LanguageMiddleware:
    """Renders every message of a request (errors, check results, flashes) in the reader's language."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        with i18n.use_language(request_language(scope)):
            await self.app(scope, receive, send)


def ui_text(request: Any, msgid: str, **values: Any) -> str:
    """``msgid`` in the language of ``request`` (for flash messages and inline errors)."""
    return translator(request_language(request.scope))(msgid, **values)
