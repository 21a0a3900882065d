"""The fitness checks (register, modality, new-actions, taught, narration, distractors): each passes a
lesson a trainer would hand out and fails a crafted bad one, quoting the offending text."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from generator.drafting.checks import CHECKS, CheckContext
from generator.lesson import Lesson, Provenance

PROV = Provenance(backend="offline", model="none", prompt_hash="x", framework_hash="x", group_hash="x")

GOOD_VI: dict[str, Any] = {
    "title": "Không cho người lạ tìm thấy mình trên Zalo",
    "summary": "Ông bà tắt tìm kiếm qua số điện thoại để người lạ không nhắn tin làm phiền.",
    "objectives": [
        {"id": "O1", "text": "Làm theo được cách tắt tìm kiếm Zalo qua số điện thoại.", "descriptors": ["4.2-L1-a"]},
        {"id": "O2", "text": "Nhận ra mã OTP là thông tin không đưa cho ai.", "descriptors": ["4.2-L1-b"]},
    ],
    "key_points": [
        {"text": "Kẻ gian dò số điện thoại để tìm Zalo, rồi giả làm người quen."},
        {"text": "Tắt tìm kiếm qua số điện thoại thì người lạ khó nhắn tin làm phiền."},
        {"text": "Mã OTP là chìa khóa tài khoản: không đưa cho ai, kể cả người xưng công an."},
    ],
    "steps": [
        {"action": "Mở Zalo, chạm “Cá nhân”, rồi chạm “Cài đặt”.", "expect": "Hiện danh sách cài đặt."},
        {"action": "Chạm “Quyền riêng tư”, rồi “Quản lý nguồn tìm kiếm”.",
         "expect": "Hiện cách người khác tìm thấy ông bà."},
        {"action": "Tắt “Qua số điện thoại”.", "expect": "Người lạ có số của ông bà không tìm ra Zalo nữa."},
    ],
    "example": "Bà Sáu hay nhận tin nhắn lạ hỏi vay tiền. Cháu chỉ bà tắt tìm kiếm qua số điện thoại. "
               "Từ đó bà yên tâm.",
    "tips": [{"kind": "mistake", "text": "Đừng đọc mã OTP cho ai qua điện thoại, kể cả người xưng công an."},
             {"kind": "safety", "text": "Khi nghi ngờ, gọi ngay cho con cháu hoặc công an xã."}],
    "practice": {"task": "Ông bà tự tắt tìm kiếm qua số điện thoại trên máy mình.",
                 "expected": "Mục “Qua số điện thoại” đã tắt."},
    "quiz": [
        {"question": "Muốn người lạ không tìm ra Zalo của mình bằng số điện thoại, làm gì?",
         "options": ["Tắt “Qua số điện thoại” trong Quyền riêng tư", "Đổi ảnh đại diện trên Zalo",
                     "Xóa tin nhắn cũ trên Zalo"], "answer": 0,
         "explanation": "Mục này quyết định ai tìm được ông bà bằng số điện thoại.", "objective": "O1"},
        {"question": "Người xưng công an gọi xin mã OTP. Ông bà làm gì?",
         "options": ["Đọc mã OTP cho họ", "Không đọc mã OTP, gọi con cháu", "Đọc nửa mã OTP thôi"], "answer": 1,
         "explanation": "Công an không bao giờ hỏi mã OTP.", "objective": "O2"},
        {"question": "Ai được biết mã OTP của ông bà?",
         "options": ["Chỉ ông bà", "Nhân viên ngân hàng gọi đến", "Người xưng công an gọi đến"], "answer": 0,
         "explanation": "Mã OTP chỉ mình ông bà biết.", "objective": "O2"},
    ],
    "glossary": [{"term": "Mã OTP", "definition": "Mã số dùng một lần, gửi qua tin nhắn để xác nhận."}],
    "facilitator": {"duration_minutes": 45, "materials": ["Điện thoại có Zalo"], "how_to_run": "Làm mẫu ba bước.",
                    "warm_up": "Hỏi ai từng nhận tin nhắn lạ.", "discussion": ["Ông bà đã gặp tin nhắn lạ chưa?"]},
    "narration": "Kính chào ông bà.\nĐiều cần tránh: Đừng đọc mã OTP cho ai qua điện thoại, kể cả người xưng công an.",
}


def lesson(data: dict[str, Any], group: str = "elderly", lang: str = "vi") -> Lesson:
    """A lesson from crafted data."""
    from generator.lesson import LessonDraft

    return Lesson.assemble(LessonDraft.model_validate(data), framework="vn-dcf-2025", competence="4.2", level=1,
                           group=group, language=lang, provenance=PROV)


def run(library, name: str, data: dict[str, Any], group: str = "elderly", lang: str = "vi"):  # type: ignore[no-untyped-def]
    ctx = CheckContext(library.framework("vn-dcf-2025"), library.group(group), ["gov.vn"], [])
    return CHECKS[name](lesson(data, group, lang), ctx)


def bad(**changes: Any) -> dict[str, Any]:
    """GOOD_VI with some fields replaced."""
    data = copy.deepcopy(GOOD_VI)
    data.update(changes)
    return data


@pytest.mark.parametrize("name", ["register", "modality", "new-actions", "taught", "narration", "distractors"])
def test_a_lesson_a_trainer_would_use_passes(library, name: str) -> None:
    result = run(library, name, GOOD_VI)
    assert result.passed, result.message


def test_register_fails_when_older_people_are_called_ban(library) -> None:
    data = bad(summary="Bạn tắt tìm kiếm qua số điện thoại để người lạ không nhắn tin làm phiền.")
    r = run(library, "register", data)
    assert not r.passed and "'bạn'" in r.message and "Bạn tắt tìm kiếm" in r.message and "ông bà" in r.message


def test_register_allows_ban_be_but_not_words_to_avoid(library) -> None:
    ok = bad(example="Bà Sáu chỉ cho bạn bè của mình cách tắt tìm kiếm. Cả nhóm ông bà đều làm được.")
    assert run(library, "register", ok).passed
    avoid = bad(example="Bà Sáu che tên trường của con trước khi đăng ảnh giấy báo trúng tuyển.")
    r = run(library, "register", avoid)
    assert not r.passed and "giấy báo trúng tuyển" in r.message


def test_register_fails_when_the_learner_is_never_addressed(library) -> None:
    data = bad(summary="Tắt tìm kiếm qua số điện thoại.", steps=[
        {"action": "Mở Zalo.", "expect": "Hiện Zalo."}, {"action": "Chạm “Cài đặt”.", "expect": "Hiện cài đặt."},
        {"action": "Tắt “Qua số điện thoại”.", "expect": "Đã tắt."}],
        practice={"task": "Tự làm lại.", "expected": "Đã tắt."})
    r = run(library, "register", data)
    assert not r.passed and "never addresses" in r.message


def test_modality_fails_a_voice_call_for_deaf_learners_and_speaking_in_the_guide(library) -> None:
    deaf = "deaf-hard-of-hearing"
    good = bad(summary="Bạn tắt tìm kiếm qua số điện thoại để người lạ không nhắn tin làm phiền.",
               tips=[{"kind": "mistake", "text": "Đừng gửi mã OTP cho ai qua tin nhắn, kể cả người xưng công an."}],
               narration="Chào các bạn.\nĐừng gửi mã OTP cho ai qua tin nhắn.")
    assert run(library, "modality", good, deaf).passed
    call = copy.deepcopy(good)
    call["example"] = ("Bà Sáu nhận cuộc gọi thoại lạ. Bà nghe giọng người lạ rồi cúp máy.")
    r = run(library, "modality", call, deaf)
    assert not r.passed and "cuộc gọi thoại" in r.message and "hearing" in r.message
    guide = copy.deepcopy(good)
    guide["facilitator"]["how_to_run"] = "Nói chậm và đọc to từng bước."
    r = run(library, "modality", guide, deaf)
    assert not r.passed and ("Nói chậm" in r.message or "đọc to" in r.message)


def test_modality_fails_look_at_the_picture_for_blind_learners(library) -> None:
    data = bad(steps=[*GOOD_VI["steps"][:2], {"action": "Nhìn vào hình bên, chạm nút màu đỏ.", "expect": "Đã tắt."}])
    r = run(library, "modality", data, "blind-low-vision")
    assert not r.passed and ("nhìn vào hình" in r.message.lower() or "màu đỏ" in r.message)


def test_new_actions_fails_five_steps_for_older_people(library) -> None:
    steps = GOOD_VI["steps"] + [{"action": "Mở Facebook.", "expect": "Hiện Facebook."},
                                {"action": "Chạm “Menu”.", "expect": "Hiện menu."}]
    r = run(library, "new-actions", bad(steps=steps))
    assert not r.passed and "5 steps" in r.message and "3" in r.message and "Chạm “Menu”" in r.message


def test_taught_fails_an_objective_nothing_teaches(library) -> None:
    objectives = [*GOOD_VI["objectives"][:1],
                  {"id": "O2", "text": "Lập kế hoạch dùng AI cho dự án nhỏ.", "descriptors": ["4.2-L1-b"]}]
    r = run(library, "taught", bad(objectives=objectives))
    assert not r.passed and "O2" in r.message and "Lập kế hoạch dùng AI" in r.message


def test_narration_fails_a_mistake_voiced_as_advice(library) -> None:
    said = bad(narration="Kính chào ông bà.\nHãy nhớ. Đọc mã OTP cho ai qua điện thoại, kể cả người xưng công an.")
    r = run(library, "narration", said)
    assert not r.passed and "voices a mistake as advice" in r.message and "Đọc mã OTP cho ai" in r.message


def test_narration_fails_a_mistake_written_as_an_instruction(library) -> None:
    tips = [{"kind": "mistake", "text": "Đăng ảnh thẻ căn cước lên mạng."}]
    r = run(library, "narration", bad(tips=tips))
    assert not r.passed and "does not say what not to do" in r.message and "Đăng ảnh thẻ căn cước" in r.message


def test_distractors_fail_jokes_off_topic_options_and_length_tells(library) -> None:
    def with_options(options: list[str], answer: int = 0) -> dict[str, Any]:
        quiz = copy.deepcopy(GOOD_VI["quiz"])
        quiz[0]["options"], quiz[0]["answer"] = options, answer
        return bad(quiz=quiz)

    joke = run(library, "distractors", with_options(["Tắt “Qua số điện thoại” trong Quyền riêng tư",
                                                    "Món ăn yêu thích", "Xóa tin nhắn cũ trên Zalo"]))
    assert not joke.passed and "Món ăn yêu thích" in joke.message and "joke" in joke.message
    off = run(library, "distractors", with_options(["Tắt “Qua số điện thoại” trong Quyền riêng tư",
                                                   "Trồng thêm cây cam", "Xóa tin nhắn cũ trên Zalo"]))
    assert not off.passed and "Trồng thêm cây cam" in off.message
    long = run(library, "distractors", with_options(
        ["Vào Cá nhân, chọn Cài đặt, rồi Quyền riêng tư, rồi Quản lý nguồn tìm kiếm và tắt mục qua số điện thoại",
         "Zalo", "Xóa tin nhắn cũ trên Zalo"]))
    assert not long.passed and "length" in long.message


def test_every_fitness_check_is_registered() -> None:
    assert {"register", "modality", "new-actions", "taught", "narration", "distractors"} <= set(CHECKS)
