"""Hand-written lessons and a group profile for the render tests and the benchmark (the silent TTS is
``tests.support.fakes.FakeTTS``).

Import as ``tests.lesson_samples`` (from the repository root, as pytest and ``bench/`` do).
"""

from __future__ import annotations

import copy
from typing import Any

from generator.lesson import Lesson, LessonDraft, Provenance, SourceCitation
from generator.schema import TargetGroup

PROVENANCE = Provenance(backend="offline", model="none", prompt_hash="x", framework_hash="x", group_hash="x")

VI_DRAFT: dict[str, Any] = {
    "title": "Giữ an toàn mã OTP và thông tin cá nhân",
    "summary": "Mã OTP là chìa khóa tài khoản của bạn, không đưa cho bất kỳ ai.",
    "objectives": [
        {
            "id": "O1",
            "text": "Nhận ra cuộc gọi, tin nhắn xin mã OTP là lừa đảo.",
            "descriptors": ["4.2-L1-b"],
        },
        {
            "id": "O2",
            "text": "Biết từ chối và gọi số tổng đài chính thức khi nghi ngờ.",
            "descriptors": ["4.2-L1-a"],
        },
    ],
    "key_points": [
        {"text": "Mã OTP chỉ dùng một lần và chỉ dành cho chính bạn.", "sources": ["src-1"]},
        {
            "text": "Ngân hàng, công an, bưu điện không bao giờ hỏi mã OTP qua điện thoại.",
            "sources": ["src-1"],
        },
        {"text": "Không bấm vào đường link lạ trong tin nhắn."},
        {"text": "Khi nghi ngờ, hãy gác máy và hỏi con cháu hoặc tổng đài chính thức."},
    ],
    "steps": [
        {
            "action": "Đọc kỹ tin nhắn có mã OTP.",
            "expect": "Bạn thấy dòng chữ: Không cung cấp mã này cho bất kỳ ai.",
        },
        {
            "action": "Nếu có người gọi điện xin mã, hãy nói: Tôi không cho mã.",
            "expect": "Bạn kết thúc cuộc gọi, mã vẫn an toàn.",
        },
        {
            "action": "Gọi lại số tổng đài in trên thẻ ngân hàng.",
            "expect": "Nhân viên ngân hàng thật trả lời bạn.",
        },
        {
            "action": "Xóa tin nhắn lạ và chặn số điện thoại đó.",
            "expect": "Số lạ không gọi được cho bạn nữa.",
        },
    ],
    "example": (
        "Bà Lan, 68 tuổi, nhận cuộc gọi tự xưng là nhân viên ngân hàng. "
        "Người đó nói tài khoản của bà bị khóa và xin mã OTP. "
        "Bà nhớ lời cháu dặn nên không đọc mã. "
        "Bà gác máy và gọi tổng đài ngân hàng. Tài khoản của bà vẫn an toàn."
    ),
    "tips": [
        {"kind": "safety", "text": "Dán mẩu giấy ghi số tổng đài ngân hàng cạnh điện thoại."},
        {"kind": "mistake", "text": "Đọc mã OTP cho người tự xưng là công an hay nhân viên ngân hàng."},
    ],
    "practice": {
        "task": "Đọc ba tin nhắn mẫu và chỉ ra tin nhắn lừa đảo.",
        "expected": "Bạn chỉ đúng tin nhắn xin mã OTP hoặc có đường link lạ.",
    },
    "quiz": [
        {
            "question": "Người tự xưng nhân viên ngân hàng gọi điện xin mã OTP. Bạn làm gì?",
            "options": ["Đọc mã cho họ ngay", "Từ chối và gác máy", "Gửi mã qua Zalo"],
            "answer": 1,
            "explanation": "Ngân hàng không bao giờ xin mã OTP. Người xin mã là kẻ lừa đảo.",
            "objective": "O1",
        },
        {
            "question": "Mã OTP dùng để làm gì?",
            "options": ["Xác nhận giao dịch của chính bạn", "Tặng cho người thân", "Đăng lên Facebook"],
            "answer": 0,
            "explanation": "Mã OTP chỉ để chính bạn xác nhận giao dịch.",
            "objective": "O1",
        },
        {
            "question": "Khi nghi ngờ một cuộc gọi, bạn gọi cho ai?",
            "options": ["Số vừa gọi đến", "Tổng đài in trên thẻ ngân hàng", "Số trong tin nhắn lạ"],
            "answer": 1,
            "explanation": "Số in trên thẻ là số thật của ngân hàng.",
            "objective": "O2",
        },
    ],
    "glossary": [
        {"term": "OTP", "definition": "Mã số gửi qua tin nhắn, chỉ dùng một lần để xác nhận."},
        {"term": "Tổng đài", "definition": "Số điện thoại chính thức của ngân hàng hay cơ quan."},
    ],
    "facilitator": {
        "duration_minutes": 45,
        "materials": ["Điện thoại của học viên", "Ba tin nhắn mẫu in trên giấy", "Bảng và bút dạ"],
        "how_to_run": "Làm mẫu từng bước trên điện thoại. Học viên làm theo từng cặp. Đi quanh lớp để giúp.",
        "warm_up": "Hỏi: Đã ai từng nhận cuộc gọi lạ xin mã số chưa?",
        "discussion": ["Bác đã từng nhận tin nhắn lạ nào?", "Bác sẽ nói gì khi người lạ xin mã OTP?"],
    },
    "narration": (
        "Xin chào các bác. Hôm nay chúng ta học cách giữ an toàn mã OTP. "
        "Mã OTP chỉ dùng một lần và chỉ dành cho chính bác. "
        "Ngân hàng, công an, bưu điện không bao giờ hỏi mã OTP qua điện thoại. "
        "Bác đừng bấm vào đường link lạ trong tin nhắn. "
        "Khi có người gọi xin mã, bác hãy nói: Tôi không cho mã. "
        "Rồi bác gác máy và gọi tổng đài in trên thẻ ngân hàng. "
        "Bà Lan đã làm như vậy và giữ được tiền của mình. "
        "Các bác hãy nhớ: mã OTP là của riêng mình."
    ),
}

EN_DRAFT: dict[str, Any] = {
    "title": "Keep your OTP code and personal data safe",
    "summary": "An OTP code is the key to your account, so never give it to anyone.",
    "objectives": [
        {
            "id": "O1",
            "text": "Recognise calls and messages asking for an OTP as scams.",
            "descriptors": ["4.2-L1-b"],
        },
        {
            "id": "O2",
            "text": "Refuse, hang up and call the official hotline when in doubt.",
            "descriptors": ["4.2-L1-a"],
        },
    ],
    "key_points": [
        {"text": "An OTP works once and is only for you.", "sources": ["src-1"]},
        {"text": "Banks, police and the post office never ask for an OTP by phone."},
        {"text": "Do not tap strange links in text messages."},
        {"text": "When in doubt, hang up and ask your family or the official hotline."},
    ],
    "steps": [
        {
            "action": "Read the message with the OTP carefully.",
            "expect": "You see the words: Do not share this code with anyone.",
        },
        {
            "action": "If someone calls for the code, say: I will not give it.",
            "expect": "You end the call and the code stays safe.",
        },
        {"action": "Call the hotline printed on your bank card.", "expect": "A real bank employee answers."},
        {
            "action": "Delete the strange message and block the number.",
            "expect": "The number can no longer call you.",
        },
    ],
    "example": (
        "Mrs Lan, 68, gets a call from someone who says he works at her bank. "
        "He says her account is locked and asks for the OTP. "
        "She remembers her grandson's advice and does not read the code. "
        "She hangs up and calls the bank's hotline. Her account is safe."
    ),
    "tips": [
        {"kind": "safety", "text": "Stick a note with the bank's hotline next to your phone."},
        {"kind": "mistake", "text": "Reading the OTP to someone who says he is police or bank staff."},
    ],
    "practice": {
        "task": "Read three sample messages and point to the scam.",
        "expected": "You pick the message asking for an OTP or with a strange link.",
    },
    "quiz": [
        {
            "question": "A caller says he is from your bank and asks for your OTP. What do you do?",
            "options": ["Read him the code", "Refuse and hang up", "Send the code by Zalo"],
            "answer": 1,
            "explanation": "Banks never ask for an OTP. Whoever asks is a scammer.",
            "objective": "O1",
        },
        {
            "question": "What is an OTP for?",
            "options": ["Confirming your own payment", "A gift for relatives", "Posting on Facebook"],
            "answer": 0,
            "explanation": "An OTP only lets you confirm your own payment.",
            "objective": "O1",
        },
        {
            "question": "Whom do you call when a call seems wrong?",
            "options": ["The number that just called", "The hotline on your bank card", "A number in a text"],
            "answer": 1,
            "explanation": "The number on your card is the bank's real number.",
            "objective": "O2",
        },
    ],
    "glossary": [
        {"term": "OTP", "definition": "A one-time code sent by text message to confirm a payment."},
        {"term": "Hotline", "definition": "The official phone number of a bank or an agency."},
    ],
    "facilitator": {
        "duration_minutes": 40,
        "materials": ["Learners' phones", "Three sample messages printed on paper", "A board and markers"],
        "how_to_run": "Demonstrate each step on a phone. Learners follow in pairs. Walk around and help.",
        "warm_up": "Ask: has anyone had a strange call asking for a code?",
        "discussion": ["What strange messages have you received?", "What will you say if asked for an OTP?"],
    },
    "narration": (
        "Hello everyone. Today we learn how to keep your OTP code safe. "
        "An OTP works once and is only for you. "
        "Banks, police and the post office never ask for an OTP by phone. "
        "Do not tap strange links in text messages. "
        "If someone calls for the code, say: I will not give it. "
        "Then hang up and call the hotline printed on your bank card. "
        "Mrs Lan did exactly that and kept her money. Remember: your OTP is yours alone."
    ),
}

SOURCES = [
    SourceCitation(
        id="src-1", title="Cảnh báo thủ đoạn lừa đảo chiếm đoạt mã OTP", file="canh-bao-otp.pdf", page=2
    ),
]


def _lesson(draft: dict[str, Any], language: str, group: str = "elderly") -> Lesson:
    return Lesson.assemble(
        LessonDraft.model_validate(draft),
        framework="vn-dcf-2025",
        competence="4.2",
        level=1,
        group=group,
        language=language,
        provenance=PROVENANCE,
        sources=list(SOURCES),
    )


def vi_lesson() -> Lesson:
    """A short Vietnamese lesson (4.2, level 1, elderly) within elderly-like limits."""
    return _lesson(VI_DRAFT, "vi")


def en_lesson() -> Lesson:
    """The same lesson in English."""
    return _lesson(EN_DRAFT, "en")


def script_lesson() -> Lesson:
    """A lesson whose texts try to inject markup and script into the page."""
    d = copy.deepcopy(EN_DRAFT)
    d["title"] = "Scam <script>alert('x')</script> & friends"
    d["summary"] = 'Say "no" <b>firmly</b> & hang up.'
    d["key_points"][0]["text"] = "<img src=x onerror=alert(1)> is not a picture."
    d["quiz"][0]["options"][0] = "</label><script>alert(2)</script>"
    d["glossary"][0]["definition"] = "A code </dd></dl><script>alert(3)</script>"
    d["narration"] = "Hello </p><script>alert(4)</script> everyone. Keep your code safe."
    return _lesson(d, "en")


def long_lesson() -> Lesson:
    """A Vietnamese lesson whose texts are far too long for one slide each."""
    d = copy.deepcopy(VI_DRAFT)
    filler = (
        "Bạn hãy đọc thật chậm từng dòng chữ hiện ra trên màn hình điện thoại của mình. "
        "Nếu chưa hiểu, hãy hỏi con cháu hoặc cán bộ ở phường trước khi bấm bất kỳ nút nào. "
        "Đừng vội vàng, vì kẻ lừa đảo luôn muốn bạn làm thật nhanh và không kịp suy nghĩ. "
    )
    d["title"] = (
        "Giữ an toàn mã OTP, mật khẩu, số định danh cá nhân và mọi thông tin riêng tư của gia đình bạn"
    )
    d["key_points"][1]["text"] = d["key_points"][1]["text"] + " " + filler * 3
    d["steps"] = [
        {"action": f"Bước làm thứ {i}: {filler}", "expect": "Bạn thấy màn hình hiện đúng như lời hướng dẫn."}
        for i in range(1, 8)
    ]
    d["example"] = d["example"] + " " + filler * 4
    d["quiz"][0]["question"] = d["quiz"][0]["question"] + " " + filler * 2
    return _lesson(d, "vi")


def sample_group(
    font_scale: float = 1.5, high_contrast: bool = False, *, gid: str = "elderly", speech_rate_wpm: int = 130
) -> TargetGroup:
    """An elderly-like group profile built here (the shipped profiles are written elsewhere)."""
    situations = [
        {"id": f"s{i}", "text": {"vi": vi, "en": en}, "tags": [tag]}
        for i, (vi, en, tag) in enumerate(
            [
                ("Nhận cuộc gọi lạ xin mã OTP", "A stranger calls asking for an OTP", "scam"),
                ("Gọi video cho con cháu ở xa", "Video-calling grandchildren far away", "family"),
                ("Nhận lương hưu qua tài khoản", "Receiving a pension into a bank account", "banking"),
                ("Đặt lịch khám bệnh", "Booking a doctor's appointment", "health"),
                ("Dùng VNeID làm thủ tục", "Using VNeID for paperwork", "vneid"),
            ]
        )
    ]
    return TargetGroup.model_validate(
        {
            "id": gid,
            "names": {"vi": "Người cao tuổi", "en": "Older people"},
            "who": {
                "vi": "Người từ 60 tuổi, mới dùng điện thoại thông minh.",
                "en": "People over 60, new to smartphones.",
            },
            "devices": [{"vi": "Điện thoại Android màn hình lớn", "en": "Large-screen Android phone"}],
            "apps": ["Zalo", "VNeID", "YouTube"],
            "situations": situations,
            "reading": {
                "max_words_per_lesson": {"vi": 600, "en": 450},
                "max_words_per_sentence": {"vi": 18, "en": 15},
                "vocabulary": {
                    "vi": "Từ ngữ đời thường, giải thích mọi từ mới.",
                    "en": "Everyday words; explain every new term.",
                },
            },
            "tone": {"vi": "Kính trọng, ấm áp, kiên nhẫn.", "en": "Respectful, warm and patient."},
            "facilitation": {
                "vi": "Làm mẫu chậm, cho thực hành theo cặp, nhắc lại nhiều lần.",
                "en": "Demonstrate slowly, practise in pairs, repeat often.",
            },
            "session_minutes": 45,
            "family": ["elderly"],
            "register": {
                "vi": {"address": "các bác", "greeting": "Xin chào các bác.", "forbidden": ["bạn"],
                       "allow": ["bạn bè"]},
                "en": {"address": "you", "greeting": "Hello, everyone."},
            },
            "max_new_actions": 3,
            "accessibility": {
                "font_scale": font_scale,
                "high_contrast": high_contrast,
                "audio_first": True,
                "speech_rate_wpm": speech_rate_wpm,
                "notes": {
                    "vi": "Chữ to, tương phản rõ, nói chậm.",
                    "en": "Large type, clear contrast, slow speech.",
                },
            },
            "default_formats": ["handout", "slides", "audio", "page"],
            "default_language": "vi",
            "sources": [{"title": "Sample profile for tests"}],
            "source": "tests",
            "licence": "CC0-1.0",
            "verified": False,
        }
    )
