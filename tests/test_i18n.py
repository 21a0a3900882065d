"""Messages in the reader's language: the catalogs are complete and consistent, errors, check results,
notes and history render in Vietnamese or English, and the CLI speaks Vietnamese when asked."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from generator import i18n

ROOT = Path(__file__).resolve().parent.parent


def _catalog(lang: str):  # type: ignore[no-untyped-def]
    from babel.messages.pofile import read_po

    with i18n.catalog_path(lang).open("rb") as fh:
        return read_po(fh, locale=lang)


def _source_msgids() -> set[str]:
    """Every msgid in the code and templates, extracted as `make messages` does (babel.cfg, same keywords)."""
    from babel.messages.extract import extract_from_dir
    from babel.messages.frontend import parse_mapping_cfg

    import generator.errors as errors

    keywords = dict.fromkeys(["_", "gettext", "N_", "translate", "Message", "unknown", "UnreadableFileError",
                              *(n for n, c in vars(errors).items()
                                if isinstance(c, type) and issubclass(c, errors.HocvuError))])
    spec = {k: None for k in keywords} | {"ui_text": (2,), "ngettext": (1, 2), "pgettext": ((1, "c"), 2),
                                          "NP_": ((1, "c"), 2)}
    with (ROOT / "babel.cfg").open(encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=spec):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_msgid_has_a_vietnamese_translation_with_the_same_placeholders():
    vi = _catalog("vi")
    ids = [m.id for m in vi if m.id]
    assert len(ids) > 400
    empty = [m.id for m in vi if m.id and not m.string]
    fuzzy = [m.id for m in vi if m.id and m.fuzzy]
    assert not empty and not fuzzy
    mismatched = [(m.id, m.string) for m in vi if m.id and i18n.placeholders(m.id) != i18n.placeholders(m.string)]
    assert not mismatched
    assert {m.id for m in _catalog("en") if m.id} == set(ids)  # one set of messages in both catalogs


def test_the_catalogs_hold_every_message_of_the_code():
    """A message added without `make messages` (and its translation) fails here, not in front of a user."""
    vi = {m.id for m in _catalog("vi") if m.id}
    found = _source_msgids()
    assert len(found) > 400 and "Version {version} rejected." in found  # templates, tables and errors alike
    missing = sorted(found - vi)
    assert not missing, missing[:10]


def test_gettext_picks_the_language_and_formats_named_fields():
    assert i18n.translate("Version {version} rejected.", "vi", version=3) == "Đã từ chối phiên bản 3."
    assert i18n.translate("Version {version} rejected.", "en", version=3) == "Version 3 rejected."
    assert i18n.translate("a sentence no catalog holds", "vi") == "a sentence no catalog holds"
    with i18n.use_language("vi"):
        assert i18n.gettext("Sign in") == "Đăng nhập"
        with i18n.use_language("en"):
            assert i18n.gettext("Sign in") == "Sign in"
        assert i18n.current_language() == "vi"
    assert i18n.format_message("{a} and {b}", {"a": 1}) == "1 and {b}"  # a missing value never crashes


@pytest.mark.parametrize(("env", "lang"), [({"HOCVU_UI_LANG": "vi"}, "vi"), ({"LANG": "vi_VN.UTF-8"}, "vi"),
                                           ({"LANG": "en_US.UTF-8"}, "en"), ({"LANG": "C.UTF-8"}, "en"),
                                           ({"LANG": "vi_VN.UTF-8", "HOCVU_UI_LANG": "en"}, "en")])
def test_the_cli_language_comes_from_the_setting_or_the_locale(monkeypatch, env, lang):
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    assert i18n.environment_language() == lang


def test_errors_carry_a_message_with_named_parameters():
    from generator.errors import DataError, NotFoundError

    err = NotFoundError.unknown("section", "nope", ["title", "summary"])
    assert err.english == "unknown section 'nope'; choose one of: title, summary"
    assert err.render("vi") == "không có phần 'nope'; hãy chọn một trong: title, summary"
    with i18n.use_language("vi"):
        assert str(err) == err.render("vi")
    again = pickle.loads(pickle.dumps(err))  # batch workers send errors across processes
    assert (type(again), again.msgid, again.params["name"]) == (NotFoundError, err.msgid, "nope")
    assert again.render("vi") == err.render("vi") and again.exit_code == 2
    plain = DataError("something a library said")  # a message with no catalog entry shows as it is
    assert plain.render("vi") == "something a library said"


def test_check_results_keep_a_code_and_render_in_the_readers_language():
    from generator.drafting.checks import CheckResult
    from generator.i18n import Joined, Message

    r = CheckResult.of("length.too_long", problems=Joined([Message("sentence of {n} words (limit {limit}): "
                                                                   "{sentence!r}", n=30, limit=12, sentence="Một")]))
    assert not r.passed and r.code == "length.too_long"
    assert r.message == "too long: sentence of 30 words (limit 12): 'Một'"  # English for checks.json
    stored = CheckResult(**r.to_dict())  # as read back from checks.json or the store
    assert stored.render("vi") == "quá dài: câu có 30 từ (giới hạn 12): 'Một'"
    assert stored.label("vi") == "độ dài" and stored.label("en") == "length"
    old = CheckResult(name="links", passed=False, message="links outside the allow-list: x.com")  # before codes
    assert old.render("vi") == old.message and old.code == ""
    ok = CheckResult.of("quiz.ok", n=4)
    assert ok.passed and ok.render("vi") == "4 câu hỏi, mục tiêu nào cũng được kiểm tra"


def test_every_check_message_and_note_is_in_the_catalog():
    from generator.drafting.checks import CHECK_LABELS, CHECKS, MESSAGES
    from generator.review.notes import NOTES

    vi = {m.id: m.string for m in _catalog("vi") if m.id}
    assert set(CHECKS) <= set(CHECK_LABELS)
    assert {code.rsplit(".", 1)[0] for code in MESSAGES} <= set(CHECKS)
    for text in [*MESSAGES.values(), *CHECK_LABELS.values(), *NOTES.values()]:
        assert vi.get(text), text


def test_notes_and_history_are_read_back_into_messages():
    from generator.review.notes import describe, note

    edited = note("edited", author="ed", version=2)
    assert edited == "edited by ed from version 2"  # stored as English, readable by any tool
    assert describe(edited, "vi") == "ed sửa từ phiên bản 2"
    assert describe("edited summary, steps", "vi") == "đã sửa: summary, steps"
    both = "; ".join([note("revised", section="example", version=3, n=2), "Offline revision: did what it could"])
    assert describe(both, "vi") == "soạn lại phần example từ phiên bản 3 theo 2 góp ý đang mở; " \
                                   "Offline revision: did what it could"
    assert describe("release 2025-12-elderly", "vi") == "bản phát hành 2025-12-elderly"
    assert describe("a reviewer's own words", "vi") == "a reviewer's own words"


def test_cli_errors_speak_vietnamese_when_asked(monkeypatch):
    from typer.testing import CliRunner

    from generator.cli.main import app

    monkeypatch.setenv("HOCVU_UI_LANG", "vi")
    r = CliRunner().invoke(app, ["review", "show", "no-such-lesson"])
    assert r.exit_code == 2
    assert "lỗi:" in r.output and "không có bài 'no-such-lesson' trong kho duyệt" in r.output
    assert "error:" not in r.output and "no lesson" not in r.output
    monkeypatch.setenv("HOCVU_UI_LANG", "en")
    r = CliRunner().invoke(app, ["review", "show", "no-such-lesson"])
    assert "error:" in r.output and "no lesson 'no-such-lesson' in the review store" in r.output
    monkeypatch.delenv("HOCVU_UI_LANG")
    monkeypatch.setenv("LANG", "vi_VN.UTF-8")
    r = CliRunner().invoke(app, ["frameworks", "show", "no-such-framework"])
    assert r.exit_code == 2 and "lỗi: không có khung năng lực 'no-such-framework'" in r.output
