"""What the narration says aloud: web addresses, acronyms, dates and phone numbers the way a Vietnamese
(or English) speaker reads them, before the text goes to the TTS engine.

    spoken("Vào dichvucong.gov.vn, đừng đưa mã OTP.", "vi")
    # 'Vào dịch vụ công chấm gov chấm vê en, đừng đưa mã ô tê pê.'

The lists are data, in one place: a province adds its own with ``ACRONYMS[lang][...]`` (and
``DOMAIN_WORDS``). Text shown to learners is never changed — only what is spoken.
"""

from __future__ import annotations

import functools
import re

#: Acronyms and words spoken the Vietnamese way (whole words, case as written).
ACRONYMS: dict[str, dict[str, str]] = {
    "vi": {
        "OTP": "ô tê pê", "VNeID": "vê en e ai đi", "QR": "quy a", "AI": "a i", "CCCD": "căn cước công dân",
        "CMND": "chứng minh nhân dân", "UBND": "ủy ban nhân dân", "BHYT": "bảo hiểm y tế",
        "BHXH": "bảo hiểm xã hội", "SMS": "ét em ét", "ATM": "a tê em", "PIN": "pin", "ID": "ai đi",
        "PDF": "pê đê ép", "APK": "a pê ca", "Wi-Fi": "oai phai", "WiFi": "oai phai", "VNPT": "vê en pê tê",
        "SIM": "sim", "URL": "u rờ lờ", "HTTPS": "hát tê tê pê ét", "VssID": "vê ét ét ai đi", "eTax": "i thuế",
        "ChatGPT": "chát gi pi ti", "TikTok": "tích tốc", "YouTube": "diu tiu", "Facebook": "phây búc",
        "Zalo": "da lô", "Google": "gu gồ", "Gmail": "gờ meo", "VietQR": "việt quy a", "MoMo": "mô mô",
        "ZaloPay": "da lô pây", "THCS": "trung học cơ sở", "THPT": "trung học phổ thông",
    },
    "en": {
        "OTP": "O T P", "VNeID": "V N e I D", "QR": "Q R", "AI": "A I", "CCCD": "citizen I D",
        "UBND": "people's committee", "SMS": "S M S", "PIN": "pin", "PDF": "P D F", "APK": "A P K",
        "VssID": "V S S I D", "VietQR": "Viet Q R",
    },
}

#: Parts of web addresses, read as words.
DOMAIN_WORDS: dict[str, dict[str, str]] = {
    "vi": {"dichvucong": "dịch vụ công", "vneid": "vê en e ai đi", "gov": "gov", "vn": "vê en", "com": "com",
           "edu": "e đu", "www": "vê kép vê kép vê kép", "binhdanhocvuso": "bình dân học vụ số",
           "chinhphu": "chính phủ", "baochinhphu": "báo chính phủ", "moet": "mô ét", "vbpl": "vê bê pê lờ",
           "tinnhiemmang": "tín nhiệm mạng", "khonggianmang": "không gian mạng", "google": "gu gồ",
           "myaccount": "mai ờ cao", "canhbao": "cảnh báo", "ncsc": "en xê ét xê", "thuvienphapluat":
           "thư viện pháp luật", "baohiemxahoi": "bảo hiểm xã hội", "gdt": "gê đê tê", "mic": "em ai xi"},
    "en": {"vn": "V N", "gov": "gov", "www": "W W W", "dichvucong": "dich vu cong", "vneid": "V N e I D"},
}
DOT = {"vi": "chấm", "en": "dot"}
SLASH = {"vi": "gạch chéo", "en": "slash"}
_DOMAIN = re.compile(r"(?:https?://)?((?:[a-z0-9-]+\.)+(?:vn|com|net|org|gov|edu|info|io|me))(/[^\s,;)]*)?", re.I)
_DATE = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b")
#: Emergency and hotline numbers and phone numbers are read digit by digit.
_PHONE = re.compile(r"(?<![\d.,/])(?:0\d{2,3}[ .]?\d{3}[ .]?\d{3,4}|1[89]00[ .]?\d{3,4}|11[1-5])(?![\d/%]|[.,]\d)")
_DIGITS_VI = "không một hai ba bốn năm sáu bảy tám chín".split()


def _domain(m: re.Match[str], lang: str) -> str:
    words = DOMAIN_WORDS.get(lang, {})
    host = m.group(1).lower()
    parts = [" ".join(words.get(p, p) for p in label.split("-")) for label in host.split(".")]
    said = f" {DOT[lang]} ".join(parts)
    path = (m.group(2) or "").strip("/")
    if path:
        said += f" {SLASH[lang]} " + " ".join(path.replace("-", " ").split("/"))
    return said


def _phone(m: re.Match[str], lang: str) -> str:
    digits = [d for d in m.group() if d.isdigit()]
    if lang == "vi":
        return " ".join(_DIGITS_VI[int(d)] for d in digits)
    return " ".join(digits)


def _date(m: re.Match[str], lang: str) -> str:
    d, mo, y = int(m.group(1)), int(m.group(2)), m.group(3)
    if lang == "vi":
        return f"ngày {d} tháng {mo} năm {y}"
    months = "January February March April May June July August September October November December".split()
    return f"{d} {months[mo - 1]} {y}" if 1 <= mo <= 12 else m.group()


def spoken(text: str, lang: str) -> str:
    """``text`` as it should be said: addresses, dates, phone numbers and acronyms read out."""
    text = _DOMAIN.sub(lambda m: _domain(m, lang), text)
    text = _DATE.sub(lambda m: _date(m, lang), text)
    text = _PHONE.sub(lambda m: _phone(m, lang), text)
    acronyms = ACRONYMS.get(lang, {})
    if not acronyms:
        return text
    return _acronym_pattern(tuple(acronyms)).sub(lambda m: acronyms[m.group()], text)


@functools.lru_cache(maxsize=8)
def _acronym_pattern(shorts: tuple[str, ...]) -> re.Pattern[str]:
    """One pattern for every acronym of a language, longest first (``ZaloPay`` before ``Zalo``), whole words
    only: a narration is read sentence by sentence, and one pass per acronym cost more than espeak-ng took
    to say the sentence. Keyed by the acronyms themselves, so one a province adds is picked up."""
    alternatives = "|".join(re.escape(a) for a in sorted(shorts, key=len, reverse=True))
    return re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])")
