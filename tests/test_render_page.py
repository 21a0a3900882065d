"""The lesson web page: well-formed (a strict XML parse and an HTML tag-balance check), accessible
basics, every lesson text escaped, and the quiz wired to its answers."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from lxml import etree

from generator.render import render_page_html
from generator.render.labels import labels
from tests.lesson_samples import en_lesson, sample_group, script_lesson, vi_lesson

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class StrictHTML(HTMLParser):
    """Fails on unbalanced or misnested tags and duplicate ids; records what a check needs."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.ids: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.errors: list[str] = []
        self.data: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append((tag, a))
        if a.get("id"):
            self.ids.append(str(a["id"]))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID:
            self.errors.append(f"<{tag}/> is not a void element")

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1] if self.stack else 'nothing'}")
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.data.append(data)


def check_page(html: str) -> StrictHTML:
    """Parse ``html`` both ways and return the HTML parser's findings."""
    assert html.startswith("<!DOCTYPE html>\n")
    etree.fromstring(html.split("\n", 1)[1].encode("utf-8"))  # raises on any well-formedness error
    p = StrictHTML()
    p.feed(html)
    p.close()
    assert not p.errors, p.errors
    assert not p.stack, f"unclosed: {p.stack}"
    assert len(p.ids) == len(set(p.ids)), "duplicate ids"
    return p


@pytest.fixture
def files() -> dict[str, str]:
    return {
        "handout": "handout.docx",
        "guide": "guide.docx",
        "slides": "slides.pptx",
        "audio": "narration.mp3",
    }


def test_page_is_well_formed_and_accessible(files: dict[str, str]) -> None:
    lesson = vi_lesson()
    html = render_page_html(lesson, sample_group(), files)
    p = check_page(html)
    tags = p.tags
    assert tags[0] == (
        "html",
        {"lang": "vi-VN", "xml:lang": "vi-VN", "xmlns": "http://www.w3.org/1999/xhtml"},
    )
    assert ("meta", {"charset": "utf-8"}) in tags
    assert any(t == "meta" and a.get("name") == "viewport" for t, a in tags)
    assert [a for t, a in tags if t == "h1"] == [{}] and lesson.title in p.data
    for t, a in tags:
        if t == "input":  # every radio sits inside its label
            assert a["type"] == "radio"
    assert sum(1 for t, _ in tags if t == "label") == sum(len(q.options) for q in lesson.quiz)
    assert [a["src"] for t, a in tags if t == "audio"] == ["narration.mp3"]
    hrefs = [a["href"] for t, a in tags if t == "a"]
    cites = ["#source-1"] * sum(1 for c in [*lesson.key_points, *lesson.steps] if c.sources)  # [1] marks
    assert hrefs == ["#main", *cites, *files.values()]
    assert sum(1 for t, _ in tags if t == "script") == 1


def test_quiz_forms_carry_their_answers() -> None:
    lesson, w = vi_lesson(), labels("vi")
    p = check_page(render_page_html(lesson, sample_group()))
    forms = [a for t, a in p.tags if t == "form"]
    assert [f["data-answer"] for f in forms] == [str(q.answer) for q in lesson.quiz]
    assert forms[0]["data-wrong"] == w["wrong"].format(letter="B")
    assert lesson.quiz[0].explanation in " ".join(p.data)  # readable without JavaScript too


def test_lesson_text_is_escaped() -> None:
    lesson = script_lesson()
    html = render_page_html(lesson, sample_group(), None, "narration.mp3")
    p = check_page(html)
    assert "<script>alert" not in html and "onerror=alert(1)>" not in html
    imgs = [a for t, a in p.tags if t == "img"]  # only the drawn step screens, as data: URLs with alt text
    assert all(a["src"].startswith("data:image/png;base64,") and
               ((a.get("class") == "screen" and a.get("alt")) or (a.get("class") == "icon" and a.get("alt") == ""))
               for a in imgs)  # step screens described, icons decorative
    assert sum(1 for t, _ in p.tags if t == "script") == 1  # only our own
    text = "".join(p.data)
    assert "Scam <script>alert('x')</script> & friends" in text
    assert "</label><script>alert(2)</script>" in text
    assert 'Say "no" <b>firmly</b> & hang up.' in [
        a["content"] for t, a in p.tags if a.get("name") == "description"
    ]


def test_page_follows_the_profile() -> None:
    lesson = en_lesson()
    hc = render_page_html(lesson, sample_group(high_contrast=True, font_scale=1.5), None, "a.mp3")
    assert '<body class="hc">' in hc and "font-size: 150%" in hc
    plain = render_page_html(lesson, sample_group(high_contrast=False, font_scale=1.0))
    assert "<body>" in plain and "font-size: 100%" in plain
    assert "<audio" not in plain  # no audio URL, no player
    # audio-first profiles put the player before the objectives
    assert hc.index('id="h-listen"') < hc.index('id="h-objectives"')


def _chromium() -> str | None:
    import shutil

    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.browser
@pytest.mark.skipif(_chromium() is None, reason="Chromium is not installed")
def test_quiz_answers_in_chromium(tmp_path) -> None:  # type: ignore[no-untyped-def]
    playwright = pytest.importorskip("playwright.sync_api")
    lesson, w = vi_lesson(), labels("vi")
    page_file = tmp_path / "index.html"
    page_file.write_text(render_page_html(lesson, sample_group(high_contrast=True)), "utf-8")
    q = lesson.quiz[0]
    wrong = next(i for i in range(len(q.options)) if i != q.answer)
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=_chromium(), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 412, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(page_file.as_uri())
            page.click("#q1 button")
            assert page.inner_text("#q1 .feedback") == w["choose"]
            page.check(f"#q1 input[value='{wrong}']")
            page.click("#q1 button")
            assert page.inner_text("#q1 .feedback") == w["wrong"].format(letter="B")
            page.check(f"#q1 input[value='{q.answer}']")
            page.click("#q1 button")
            assert page.inner_text("#q1 .feedback") == w["correct"]
            assert page.get_attribute("#q1 details", "open") is not None  # the explanation is shown
            assert page.evaluate("document.documentElement.scrollWidth") <= 412  # no sideways scrolling
            assert not errors
        finally:
            browser.close()
