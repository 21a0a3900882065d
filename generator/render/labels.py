"""The words renderers add around a lesson's own text, in each lesson language."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from generator.schema import TargetGroup

_VI: Final[dict[str, str]] = {
    "summary": "Tóm tắt",
    "objectives": "Mục tiêu bài học",
    "objectives_lead": "Sau bài học này, bạn có thể:",
    "key_points": "Điều cần nhớ",
    "key_point": "Điều cần nhớ {n}",
    "steps": "Các bước thực hiện",
    "expect": "Kết quả:",
    "example": "Ví dụ",
    "tips": "Lời khuyên",
    "tip_safety": "An toàn",
    "tip_mistake": "Cần tránh",
    "tip_access": "Trợ năng",
    "practice": "Thực hành",
    "task": "Việc cần làm:",
    "expected": "Kết quả mong đợi:",
    "quiz": "Câu hỏi ôn tập",
    "question": "Câu {n}",
    "answer_key": "Đáp án",
    "answer_of": "Đáp án câu {n}",
    "answer": "Đáp án: {letter}. {option}",
    "glossary": "Từ ngữ cần biết",
    "sources": "Nguồn tham khảo",
    "page_short": "tr.",
    "page": "Trang",
    "page_of": "/",
    "level": "Bậc {n}",
    "competence": "Năng lực {code}",
    "meta": "Năng lực {code} · Bậc {level} · {framework}",
    "continued": "({i}/{n})",
    # guide
    "guide_title": "Tài liệu cho người hướng dẫn",
    "unverified_lead": "Chưa xác minh:",
    "unverified": "Dữ kiện trong bài (luật, số điện thoại, tên nút trên ứng dụng) chưa được người có chuyên môn "
                  "kiểm tra. Đối chiếu với văn bản và trang hướng dẫn chính thức trước khi dạy.",
    "duration": "Thời lượng",
    "minutes": "{n} phút",
    "materials": "Chuẩn bị",
    "how_to_run": "Cách tổ chức",
    "plan": "Kế hoạch buổi học",
    "plan_time": "Phút",
    "plan_activity": "Hoạt động",
    "plan_say": "Nói gì, làm gì",
    "seg_warm_up": "Khởi động",
    "seg_objectives": "Giới thiệu mục tiêu",
    "seg_key_points": "Điều cần nhớ",
    "seg_steps": "Làm mẫu các bước",
    "seg_example": "Ví dụ và thảo luận",
    "seg_practice": "Thực hành",
    "seg_quiz": "Câu hỏi ôn tập",
    "seg_wrap_up": "Tổng kết",
    "say_warm_up": "Hỏi cả lớp một câu gần gũi để mở đầu.",
    "say_objectives": "Hôm nay chúng ta sẽ học: {summary}",
    "say_key_points": "Nói chậm từng ý, hỏi lại sau mỗi ý.",
    "say_steps": "Làm mẫu trên điện thoại, học viên làm theo từng bước.",
    "say_example": "Kể ví dụ, rồi hỏi:",
    "say_practice": "Giao việc:",
    "say_quiz": "Đọc to từng câu hỏi, cho học viên chọn, rồi giải thích đáp án.",
    "say_wrap_up": "Nhắc lại:",
    "script": "Lời dẫn (đọc to hoặc nói theo cách của bạn)",
    "discussion": "Câu hỏi thảo luận",
    "answers_explained": "Đáp án và giải thích",
    "checks_objective": "Kiểm tra mục tiêu {id}",
    "group_tips": "Lưu ý với nhóm học viên này",
    "watch_mistakes": "Lỗi học viên hay mắc, cần để ý:",
    "tone": "Giọng điệu:",
    "access": "Hỗ trợ tiếp cận:",
    "session": "Buổi học dự kiến {n} phút.",
    # slides
    "slides_steps": "Các bước",
    "notes_title": "Giới thiệu bài học: {title}. {summary}",
    "notes_question": "Đọc to câu hỏi và các lựa chọn. Cho học viên thời gian suy nghĩ rồi mời trả lời.",
    "notes_answer": "Đáp án đúng là {letter}. {explanation}",
    "notes_read": "Đọc chậm và chỉ vào từng dòng trên màn hình.",
    # page
    "listen": "Nghe bài học",
    "watch": "Xem video bài học",
    "captions": "Phụ đề tiếng Việt",
    "no_video": "Trình duyệt không phát được video; hãy tải tệp video về máy.",
    "file_video": "Video bài học (MP4)",
    "file_card": "Thẻ hướng dẫn in ra (Word, A5)",
    "transcript": "Lời đọc",
    "downloads": "Tải tài liệu",
    "file_handout": "Tài liệu học viên (Word)",
    "file_guide": "Tài liệu cho người hướng dẫn (Word)",
    "file_slides": "Bài trình chiếu (PowerPoint)",
    "file_audio": "Bài nghe (MP3)",
    "check": "Kiểm tra",
    "correct": "Đúng rồi!",
    "wrong": "Chưa đúng. Đáp án đúng là {letter}.",
    "choose": "Hãy chọn một đáp án.",
    "show_answer": "Xem đáp án",
    "no_audio": "Trình duyệt của bạn không phát được âm thanh.",
    "skip": "Đến nội dung chính",
}

_EN: Final[dict[str, str]] = {
    "summary": "Summary",
    "objectives": "Objectives",
    "objectives_lead": "After this lesson you can:",
    "key_points": "Key points",
    "key_point": "Key point {n}",
    "steps": "Step by step",
    "expect": "Result:",
    "example": "Example",
    "tips": "Tips",
    "tip_safety": "Safety",
    "tip_mistake": "Avoid",
    "tip_access": "Accessibility",
    "practice": "Practice",
    "task": "Your task:",
    "expected": "Expected result:",
    "quiz": "Quiz",
    "question": "Question {n}",
    "answer_key": "Answer key",
    "answer_of": "Answer to question {n}",
    "answer": "Answer: {letter}. {option}",
    "glossary": "Words to know",
    "sources": "Sources",
    "page_short": "p.",
    "page": "Page",
    "page_of": "of",
    "level": "Level {n}",
    "competence": "Competence {code}",
    "meta": "Competence {code} · Level {level} · {framework}",
    "continued": "({i}/{n})",
    "guide_title": "Facilitator guide",
    "unverified_lead": "Not yet verified:",
    "unverified": "The facts in this lesson (laws, phone numbers, button names) have not been checked by a "
                  "person who knows them. Compare them with the official texts and help pages before you teach.",
    "duration": "Duration",
    "minutes": "{n} minutes",
    "materials": "Materials",
    "how_to_run": "How to run the session",
    "plan": "Session plan",
    "plan_time": "Minutes",
    "plan_activity": "Activity",
    "plan_say": "What to say and do",
    "seg_warm_up": "Warm-up",
    "seg_objectives": "Introduce the objectives",
    "seg_key_points": "Key points",
    "seg_steps": "Demonstrate the steps",
    "seg_example": "Example and discussion",
    "seg_practice": "Practice",
    "seg_quiz": "Quiz",
    "seg_wrap_up": "Wrap-up",
    "say_warm_up": "Open with a friendly question about everyday life.",
    "say_objectives": "Today we will learn: {summary}",
    "say_key_points": "Say each point slowly and check understanding after each one.",
    "say_steps": "Demonstrate on a phone; learners follow step by step.",
    "say_example": "Tell the example, then ask:",
    "say_practice": "Set the task:",
    "say_quiz": "Read each question aloud, let learners choose, then explain the answer.",
    "say_wrap_up": "Recap:",
    "script": "Script (read aloud or say it in your own words)",
    "discussion": "Discussion prompts",
    "answers_explained": "Answer key with explanations",
    "checks_objective": "Checks objective {id}",
    "group_tips": "Tips for this group",
    "watch_mistakes": "Mistakes learners often make:",
    "tone": "Tone:",
    "access": "Accessibility:",
    "session": "Planned session: {n} minutes.",
    "slides_steps": "Steps",
    "notes_title": "Introduce the lesson: {title}. {summary}",
    "notes_question": "Read the question and the options aloud. Give learners time, then ask for answers.",
    "notes_answer": "The correct answer is {letter}. {explanation}",
    "notes_read": "Read slowly and point to each line on the screen.",
    "listen": "Listen to the lesson",
    "watch": "Watch the lesson",
    "captions": "English captions",
    "no_video": "Your browser cannot play this video; download the file instead.",
    "file_video": "Lesson video (MP4)",
    "file_card": "Printable card (Word, A5)",
    "transcript": "Transcript",
    "downloads": "Downloads",
    "file_handout": "Learner handout (Word)",
    "file_guide": "Facilitator guide (Word)",
    "file_slides": "Slides (PowerPoint)",
    "file_audio": "Audio (MP3)",
    "check": "Check",
    "correct": "Correct!",
    "wrong": "Not quite. The correct answer is {letter}.",
    "choose": "Please choose an answer.",
    "show_answer": "Show the answer",
    "no_audio": "Your browser cannot play this audio.",
    "skip": "Skip to the lesson",
}

LABELS: Final[dict[str, dict[str, str]]] = {"vi": _VI, "en": _EN}

#: For learners who cannot hear or speak: the facilitator shows, captions and signs instead of reading
#: aloud, telling and asking for spoken answers.
_VISUAL: Final[dict[str, dict[str, str]]] = {
    "vi": {
        "say_warm_up": "Chiếu lên màn hình một câu hỏi gần gũi để mở đầu; học viên trả lời bằng chữ hoặc giơ tay.",
        "say_key_points": "Chiếu từng ý lên màn hình, chỉ vào từng dòng, hỏi lại bằng chữ sau mỗi ý.",
        "say_steps": "Làm mẫu trên điện thoại chiếu lên màn hình lớn; học viên làm theo từng bước.",
        "say_example": "Chiếu ví dụ cho học viên đọc, rồi hỏi (viết lên bảng):",
        "say_quiz": "Chiếu từng câu hỏi, cho học viên giơ thẻ A, B, C, rồi giải thích đáp án bằng chữ.",
        "script": "Lời dẫn (chiếu kèm phụ đề hoặc nhờ phiên dịch ngôn ngữ ký hiệu)",
        "notes_question": "Chiếu câu hỏi và các lựa chọn. Cho học viên thời gian, rồi mời giơ thẻ đáp án.",
        "notes_read": "Chỉ vào từng dòng trên màn hình và chờ học viên đọc xong.",
    },
    "en": {
        "say_warm_up": "Put a friendly everyday question on the screen; learners answer in writing or by hand.",
        "say_key_points": "Show each point on the screen, point to each line, check understanding in writing.",
        "say_steps": "Demonstrate on a phone mirrored to a big screen; learners follow step by step.",
        "say_example": "Show the example for learners to read, then ask (write it on the board):",
        "say_quiz": "Show each question, let learners hold up A, B or C cards, then explain the answer in writing.",
        "script": "Script (show it with captions or through a sign-language interpreter)",
        "notes_question": "Show the question and the options. Give learners time, then ask them to hold up a card.",
        "notes_read": "Point to each line on the screen and wait until learners have read it.",
    },
}

#: Where a label speaks to the learner: filled with the group's address form.
_ADDRESSED: Final[dict[str, dict[str, str]]] = {
    "vi": {"objectives_lead": "Sau bài học này, {you} có thể:"},
    "en": {},
}

LETTERS = "ABCD"


def labels(lang: str, group: TargetGroup | None = None) -> dict[str, str]:
    """The label table for ``lang`` (English for an unknown language); with ``group``, the labels a
    facilitator of that group says or does (shown, not read aloud, for learners who cannot hear) and
    the learner addressed the way the group is addressed."""
    base = LABELS.get(lang, _EN)
    if group is None:
        return base
    lang = lang if lang in LABELS else "en"
    out = dict(base)
    if {"hearing", "speech"} & set(group.modality.excludes):
        out.update(_VISUAL[lang])
    you = group.register(lang).address
    out.update({k: v.format(you=you) for k, v in _ADDRESSED[lang].items()})
    return out
