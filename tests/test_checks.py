"""Each quality check fails on a crafted bad lesson with the right message."""

from __future__ import annotations

import pytest

from generator.drafting.checks import CheckContext, run_checks
from generator.lesson import Lesson
from tests.support.drafts import offline_lesson


@pytest.fixture(scope="module")
def good(library):  # type: ignore[no-untyped-def]
    return offline_lesson(library, "4.2", 1, "elderly", "vi").lesson


def _ctx(library, retrieved=()):  # type: ignore[no-untyped-def]
    return CheckContext(framework=library.framework("vn-dcf-2025"), group=library.group("elderly"),
                        link_allow=["gov.vn"], retrieved=list(retrieved))


def _bad(good: Lesson, **changes) -> Lesson:  # type: ignore[no-untyped-def]
    data = good.model_dump(mode="json")
    for path, value in changes.items():
        target = data
        keys = path.split("__")
        for k in keys[:-1]:
            target = target[int(k)] if k.isdigit() else target[k]
        last = keys[-1]
        target[int(last) if last.isdigit() else last] = value
    return Lesson.model_validate(data)


def _result(library, lesson, name, retrieved=()):  # type: ignore[no-untyped-def]
    return next(c for c in run_checks(lesson, _ctx(library, retrieved)) if c.name == name)


def test_good_lesson_passes_everything(library, good):
    assert all(c.passed for c in run_checks(good, _ctx(library))), run_checks(good, _ctx(library))


def test_language_check_catches_english_in_a_vietnamese_lesson(library, good, lesson_templates):
    en = lesson_templates["en"]
    bad = _bad(good, key_points=en["key_points"], steps=en["steps"], example=en["example"], summary=en["summary"],
               narration=en["narration"], practice=en["practice"], tips=en["tips"])
    result = _result(library, bad, "language")
    assert not result.passed
    assert "reads as 'en', not 'vi'" in result.message or "are not in 'vi'" in result.message


def test_unicode_check_catches_nfd_and_mojibake(library, good):
    import unicodedata

    nfd = _bad(good, example=unicodedata.normalize("NFD", good.example))
    assert "not Unicode NFC" in _result(library, nfd, "unicode").message
    moji = _bad(good, summary="BÃ i há»c vá» máº­t kháº©u.")
    r = _result(library, moji, "unicode")
    assert not r.passed and "mojibake" in r.message


def test_length_check_catches_long_lessons_and_sentences(library, good):
    long = _bad(good, example=" ".join(["Bà Lan đi chợ"] * 40) + ".")
    r = _result(library, long, "length")
    assert not r.passed and "sentence of 160 words (limit 22)" in r.message
    many = _bad(good, example=". ".join(["Bà Lan đi chợ mua rau"] * 150) + ".")
    r = _result(library, many, "length")
    assert not r.passed and "the group's limit is 650" in r.message


def test_objectives_check_catches_a_descriptor_of_another_level(library, good):
    bad = _bad(good, objectives__0__descriptors=["4.2-L3-a"])
    r = _result(library, bad, "objectives")
    assert not r.passed and "cites 4.2-L3-a" in r.message and "4.2-L1-a" in r.message


def test_quiz_check(library, good):
    q = good.quiz[0].model_dump()
    dup = _bad(good, quiz__0__options=[q["options"][0], q["options"][0].upper(), q["options"][1]])
    assert "repeated or empty options" in _result(library, dup, "quiz").message
    noexp = _bad(good, quiz__0__explanation=" ")
    assert "has no explanation" in _result(library, noexp, "quiz").message
    last = good.objectives[-1].id
    unchecked = _bad(good, quiz=[x.model_dump() | {"objective": "O1"} for x in good.quiz])
    r = _result(library, unchecked, "quiz")
    assert not r.passed and "no question checks objective(s)" in r.message and last in r.message


def test_citation_check_catches_a_forged_id(library, good):
    bad = _bad(good, key_points__0__sources=["real-1"], steps__1__sources=["forged-9"])
    r = _result(library, bad, "citations", retrieved=["real-1"])
    assert not r.passed and r.message == "cites passages that were not retrieved: forged-9"
    unlisted = _result(library, _bad(good, key_points__0__sources=["real-1"]), "citations", ["real-1"])
    assert not unlisted.passed and "missing from the Sources list: real-1" in unlisted.message


def test_links_check(library, good):
    ok = _bad(good, practice__task="Mở trang https://dichvucong.gov.vn để xem.")
    assert _result(library, ok, "links").passed
    bad = _bad(good, practice__task="Mở trang http://evil.example.com/login để xem.")
    r = _result(library, bad, "links")
    assert not r.passed and "evil.example.com" in r.message


@pytest.mark.parametrize("address", [
    "https://evil.com?.gov.vn", "https://evil.com#.gov.vn", "https://evil.com\\.gov.vn", "javascript:alert(1)",
    "https://dichvucong.gov.vn@evil.com/login", "evil-dichvucong.com", "www.dichvucong-gov.vn.top/dang-nhap",
    "data:text/html,hi", "HTTPS://EVIL.COM/gov.vn"])
def test_links_that_only_look_official_fail(library, good, address):
    bad = _bad(good, practice__task=f"Mở trang {address} để xem.")
    assert not _result(library, bad, "links").passed, address


@pytest.mark.parametrize("address", ["dichvucong.gov.vn", "https://vneid.gov.vn/", "https://dichvucong.gov.vn/p/home",
                                     "http://ThuVien.Moet.Gov.Vn/x"])
def test_official_addresses_pass_with_or_without_a_scheme(library, good, address):
    ok = _bad(good, practice__task=f"Mở trang {address} để xem.")
    assert _result(library, ok, "links").passed, address


def test_a_word_too_long_for_a_phone_fails_length(library, good):
    bad = _bad(good, example="Ông Ba gõ " + "a" * 4000 + " vào ô tìm kiếm.")
    r = _result(library, bad, "length")
    assert not r.passed and "4000 characters" in r.message


@pytest.mark.parametrize("text", ["<b>Đừng</b> đưa mã OTP.", "Đừng đưa **mã OTP** cho ai.", "Xem [trang này](x).",
                                  "Dùng &nbsp; ở đây.", "## Mẹo"])
def test_markup_fails(library, good, text):
    bad = _bad(good, example=text)
    r = _result(library, bad, "markup")
    assert not r.passed and "plain text" in r.message


def test_plain_text_with_arrows_and_comparisons_is_not_markup(library, good):
    ok = _bad(good, example="Vào Cài đặt > Hỗ trợ tiếp cận; số tiền < 5 triệu thì bấm “Tiếp tục”.")
    assert _result(library, ok, "markup").passed


def test_search_operators_are_not_links_and_a_quiz_may_show_a_fake_address(library, good):
    ok = _bad(good, practice__task="Gõ “học bổng site:gov.vn filetype:pdf” vào ô tìm kiếm.")
    assert _result(library, ok, "links").passed
    quiz = good.model_dump(mode="json")["quiz"]
    quiz[0]["options"][1] = "dichvucong-vn.com"
    assert _result(library, _bad(good, quiz=quiz), "links").passed
    quiz[0]["options"][1] = "https://dichvucong-vn.com/dang-nhap"
    assert not _result(library, _bad(good, quiz=quiz), "links").passed  # never a full link
