"""The Vietnamese interface has no English: every page of the review app, as each role, including failed
checks, the history, error pages (4xx and 5xx) and refused decisions, is read as a person sees it (text,
titles, labels, button values) and searched for English — common English words that never occur in
Vietnamese, and every sentence of the English catalog whose Vietnamese translation differs."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from generator import i18n
from tests.support.web import BACK, DONE, MAIN, XSS, row_version, sign_in

pytest_plugins = ("tests.support.web",)

#: English words that are not Vietnamese syllables (so they never occur in Vietnamese text), chosen from
#: the words the interface and the core's messages are made of. Words Vietnamese writes as loanwords in
#: lessons ("file", "link", "online", "email", "admin") are not in it.
ENGLISH = frozenset("""
the and of is are was were be been being this that these those with from for into onto than then there
their they them you your yours we our which what when where who whom why how here only also more most
some any every each both either neither other another such same very just still yet again already
should would could must shall will may might have has had having does did done doing not cannot isn't
can't don't doesn't won't it's its nothing something anything everything someone everyone
version versions lesson lessons review reviewer reviewed reviews approve approved approval reject
rejected request requested requests changes changed change comment comments commented section sections
check checks checked failed passed missing found unknown invalid valid choose chosen wrong error errors
draft drafted drafts publish published release releases user users password passwords role roles
history level levels group groups framework frameworks competence competences coverage sources source
cited words word sentence sentences question questions objective objectives narration mistake mistakes
allowed plain markup length limit limits language languages written reads previous dashboard made
edited edit revise revised resolve resolved open sign signed settings setting required please
again reload decide conflict forbidden allowed permission denied expired before after since while
learner learners group's lesson's doesn't isn't today yesterday should would
title summary steps example tips practice glossary facilitator key_points
""".split())

_WORD = re.compile(r"[A-Za-z][A-Za-z'_]+")


class VisibleText(HTMLParser):
    """What a person reads on a page: text outside <script> and <style>, and the title, aria-label,
    placeholder and alt of elements and the value of buttons. The text inside a <textarea> is the lesson
    being edited (content, with the lesson format's field names), not the interface, and is left out."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag in ("script", "style", "textarea"):
            self.skip += 1
        for name in ("title", "aria-label", "placeholder", "alt"):
            if a.get(name):
                self.parts.append(a[name] or "")
        if tag in ("input", "button") and a.get("type") in ("submit", "button") and a.get("value"):
            self.parts.append(a["value"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "textarea") and self.skip:
            self.skip -= 1

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)


def visible(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def english_sentences() -> list[str]:
    """The literal stretches (two words or more) of every English msgid whose Vietnamese differs."""
    from babel.messages.pofile import read_po

    with i18n.catalog_path("vi").open("rb") as fh:
        vi = read_po(fh, locale="vi")
    out = set()
    for m in vi:
        if not m.id or m.string == m.id:
            continue
        for part in re.split(r"\{[^}]*\}", m.id):
            part = part.strip(" ;:,.()“”'\"—-")
            if len(part.split()) >= 2 and len(part) >= 10:
                out.add(part)
    return sorted(out)


#: Identifiers, not words: a command in backticks (`hocvu review list`), a file name (lesson.json) and a
#: hyphenated id (the group deaf-hard-of-hearing).
_IDENTIFIERS = re.compile(r"`[^`]*`|\b[\w.-]+\.(?:json|mp3|mp4|docx|pptx|html|vtt|zip|pdf|yaml)\b"
                          r"|\b[a-z0-9]+(?:-[a-z0-9]+)+\b")


def english_in(html: str, sentences: list[str]) -> list[str]:
    """The English a page shows: common English words and sentences of the English catalog."""
    text = _IDENTIFIERS.sub(" ", visible(html))
    found = sorted({w for w in _WORD.findall(text) if w.lower() in ENGLISH})
    return found + [s for s in sentences if s in text]


def _decision(app, lesson_id, csrf, comment=""):  # type: ignore[no-untyped-def]
    rv, n = row_version(app, lesson_id)
    return {"csrf_token": csrf, "expected_version": rv, "version": n, "comment": comment}


def _record_failing(app) -> str:  # type: ignore[no-untyped-def]
    """A lesson that fails checks (a link outside the allow-list, markup, a 60-letter word), recorded
    with its real check results."""
    from generator.drafting.service import check_lesson
    from generator.versions import make_version
    from tests.support.drafts import offline_lesson
    from tests.support.web import page_and_audio

    ctx = app.state.web
    drafted = offline_lesson(ctx.library, competence="4.2", level=1, group="farmers")
    lesson = drafted.lesson
    lesson = lesson.model_copy(update={
        "summary": lesson.summary + " Xem thêm ở https://dangnhap-vneid.com ngay.",
        "example": "<b>" + lesson.example + "</b> " + "a" * 60})
    drafted.lesson, drafted.checks = lesson, check_lesson(lesson, ctx.library, ctx.settings)
    assert sum(not c.passed for c in drafted.checks) >= 3
    make_version(drafted, ctx.library, ctx.settings, ctx.store, author="ed", kind="draft",
                        formats=["page"], render=page_and_audio, note="drafted with offline")
    return lesson.id


def test_the_checker_sees_english(client):
    """The check itself must be able to fail: the English interface is full of what it looks for."""
    sentences = english_sentences()
    assert len(sentences) > 200
    sign_in(client, "rv1")
    shown = english_in(client.get(f"/lessons/{MAIN}?lang=en").text, sentences)
    assert {"Version", "History", "Approve"} <= set(shown)
    assert any(" " in s for s in shown)  # whole sentences too, not only words


def test_every_page_in_vietnamese_has_no_english(app, client):
    from generator.web.operations import edit_section

    sentences = english_sentences()
    store = app.state.web.store
    pages: dict[str, str] = {}

    def visit(label: str, r, status: int = 200) -> None:  # type: ignore[no-untyped-def]
        assert r.status_code == status and '<html lang="vi">' in r.text, (label, r.status_code)
        pages[label] = r.text

    client.cookies.clear()
    visit("login", client.get("/login?lang=vi"))
    visit("login refused", client.post("/login", data={"name": "rv1", "password": "sai-mat-khau",
                                                       "csrf_token": "x"}), 403)
    visit("not signed in 404", client.get("/no-such-page"), 404)
    # an admin makes a version, so a lesson has history, an edit note, and a four-eyes refusal to show
    store.add_user("sep", "admin", "mat-khau-123")
    edit_section(app.state.web, MAIN, "title", "Giữ kín thông tin cá nhân khi lên mạng", author="sep",
                 expected_version=store.lesson_state(MAIN).row_version)
    failing = _record_failing(app)
    for who in ("ed", "rv1", "boss", "sep"):
        csrf = sign_in(client, who)
        for path in ("/", "/queue", "/queue?status=in_review&group=elderly", "/coverage",
                     "/coverage?level=1&group=elderly", f"/lessons/{MAIN}", f"/lessons/{MAIN}?version=1&a=1&b=2",
                     f"/lessons/{BACK}", f"/lessons/{XSS}", f"/lessons/{DONE}", f"/lessons/{failing}", "/lessons/nope",
                     f"/lessons/{MAIN}/versions/99"):
            visit(f"{who} {path}", client.get(path), 404 if "nope" in path or "/99" in path else 200)
        if who == "ed":
            for section in ("summary", "steps"):
                visit(f"ed edit {section}", client.get(f"/lessons/{BACK}/edit?section={section}"))
            visit("ed refused edit", client.post(f"/lessons/{BACK}/edit", data={
                "csrf_token": csrf, "section": "steps", "text": "- action: [chưa đóng",
                "expected_version": row_version(app, BACK)[0]}), 422)
            visit("ed may not approve", client.post(f"/lessons/{MAIN}/approve", data=_decision(app, MAIN, csrf)), 403)
        if who == "rv1":
            visit("changes without a comment", client.post(f"/lessons/{MAIN}/request-changes",
                                                           data=_decision(app, MAIN, csrf)), 422)
            visit("approve an approved lesson", client.post(f"/lessons/{DONE}/approve",
                                                            data=_decision(app, DONE, csrf)), 409)
            stale = {**_decision(app, BACK, csrf, "Sửa lại"), "expected_version": 1}
            visit("conflict", client.post(f"/lessons/{BACK}/request-changes", data=stale), 409)
            visit("forged form", client.post(f"/lessons/{MAIN}/approve", data={"csrf_token": "forged"}), 403)
            visit("confirm reject", client.post(f"/lessons/{MAIN}/reject",
                                                data=_decision(app, MAIN, csrf, "Bài chưa đạt")))
        if who == "sep":
            visit("four-eyes", client.post(f"/lessons/{MAIN}/approve", data=_decision(app, MAIN, csrf)), 403)
        if who == "boss":
            for path in ("/users", "/releases", "/jobs", "/jobs/new", "/sources", "/groups", "/groups/new",
                         "/groups/elderly/edit"):
                visit(f"boss {path}", client.get(path))
            visit("no job", client.get("/jobs/999"), 404)
            visit("job form without a file", client.post("/jobs/upload", data={"csrf_token": csrf}), 422)
            visit("bad release name", client.post("/releases", data={"csrf_token": csrf, "name": "tên sai!"}), 409)
            visit("bad number", client.get(f"/lessons/{MAIN}/versions/99999999999999999999999/page"), 400)
    # a 5xx: a recorded file changed behind the store's back
    path = store.get_version(DONE).artifacts["lesson.json"].path
    path.write_text(path.read_text(encoding="utf-8").replace("Giữ", "Bỏ"), encoding="utf-8")
    sign_in(client, "rv1")
    r = client.get(f"/lessons/{DONE}/versions/1/files/lesson")
    visit("500", r, 500)

    statuses = {label: html for label, html in pages.items()}
    assert len(statuses) > 50
    assert any("ngôn ngữ" in visible(h) for h in pages.values())  # check results shown, in Vietnamese
    assert any("chưa đạt" in visible(h) for h in pages.values())  # a failed check among them (the XSS lesson)
    english = {label: found for label, html in pages.items() if (found := english_in(html, sentences))}
    assert not english, "\n".join(f"{k}: {v}" for k, v in english.items())
