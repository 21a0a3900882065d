"""Narration that sounds right: addresses, acronyms, dates and phone numbers read the Vietnamese way."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from generator.render.speech import spoken


@pytest.mark.parametrize(("text", "said"), [
    ("Vào dichvucong.gov.vn để nộp hồ sơ.", "Vào dịch vụ công chấm gov chấm vê en để nộp hồ sơ."),
    ("Đừng đưa mã OTP, kể cả cho người xưng công an.", "Đừng đưa mã ô tê pê, kể cả cho người xưng công an."),
    ("Mở VNeID, quét mã QR.", "Mở vê en e ai đi, quét mã quy a."),
    ("Gọi 113 ngay.", "Gọi một một ba ngay."),
    ("Từ 01/07/2024, thẻ CCCD đổi tên.", "Từ ngày 1 tháng 7 năm 2024, thẻ căn cước công dân đổi tên."),
    ("Số của con: 0912 345 678.", "Số của con: không chín một hai ba bốn năm sáu bảy tám."),
    ("Giá 5 triệu đồng năm 2025.", "Giá 5 triệu đồng năm 2025."),  # amounts and years are left to the voice
])
def test_vietnamese_readings(text, said):
    assert spoken(text, "vi") == said


def test_the_longest_acronym_wins_and_parts_of_words_are_left_alone():
    assert spoken("Trả bằng ZaloPay hoặc Zalo; mã OTPX và VNeID-2 giữ nguyên.", "vi") == \
        "Trả bằng da lô pây hoặc da lô; mã OTPX và VNeID-2 giữ nguyên."


def test_an_acronym_a_province_adds_is_read(monkeypatch):
    from generator.render import speech

    assert spoken("Đến bộ phận HCC.", "vi") == "Đến bộ phận HCC."
    monkeypatch.setitem(speech.ACRONYMS["vi"], "HCC", "hành chính công")
    assert spoken("Đến bộ phận HCC.", "vi") == "Đến bộ phận hành chính công."


def test_english_readings():
    assert spoken("Open https://dichvucong.gov.vn/p/home, never share your OTP, call 113.", "en") == \
        "Open dich vu cong dot gov dot V N slash p home, never share your O T P, call 1 1 3."


def test_the_text_learners_read_is_not_changed(library):
    from tests.support.drafts import offline_lesson

    lesson = offline_lesson(library, "2.3", 1, "elderly", "vi").lesson
    assert "ô tê pê" not in lesson.narration  # only what is spoken is rewritten


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_espeak_says_the_address_and_otp_the_vietnamese_way():
    def phonemes(text: str) -> str:
        out = subprocess.run(["espeak-ng", "-v", "vi", "-q", "-x", text], capture_output=True, check=True)
        return out.stdout.decode().strip()

    assert phonemes(spoken("Vào dichvucong.gov.vn, đừng đưa mã OTP.", "vi")) == \
        phonemes("Vào dịch vụ công chấm gov chấm vê en, đừng đưa mã ô tê pê.")
    assert phonemes(spoken("mã OTP", "vi")) != phonemes("mã OTP")  # espeak alone reads it otherwise
