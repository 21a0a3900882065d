"""A lesson's narration spoken once per render: the MP3 (``audio``) and the video both take their sentences
from here, so the engine speaks the lesson once, not once for the file and again sentence by sentence for
the video.

Only a backend that returns raw speech (``SentenceSpeaker``: espeak-ng) is shared this way; gTTS returns
MP3, so the audio renderer keeps its MP3 and the video asks it sentence by sentence, as before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from generator.render.tts import SentenceSpeaker, Speech

if TYPE_CHECKING:
    from generator.lesson import Lesson
    from generator.render.tts import TTSBackend

SpeechCache = dict[tuple[str, str, int], Speech]


def narration_sentences(lesson: Lesson) -> list[str]:
    """The narration's sentences as written (what captions show), in order."""
    from generator.lesson import sentences

    return sentences(lesson.narration)


def lesson_speech(lesson: Lesson, rate_wpm: int, tts: TTSBackend | None,
                  cache: SpeechCache | None = None) -> Speech | None:
    """Every narration sentence spoken (after ``speech.spoken``), once per ``cache``; None when ``tts``
    cannot return raw speech."""
    if not isinstance(tts, SentenceSpeaker):
        return None
    key = (lesson.narration, lesson.language, rate_wpm)
    if cache is not None and key in cache:
        return cache[key]
    from generator.render.speech import spoken

    said = [spoken(s, lesson.language) for s in narration_sentences(lesson)]
    result = tts.speak(said, lesson.language, rate_wpm)
    if cache is not None:
        cache[key] = result
    return result


def clips_by_sentence(lesson: Lesson, speech: Speech) -> dict[str, list[bytes]]:
    """Each written sentence -> its clips in narration order (a sentence said twice has two)."""
    out: dict[str, list[bytes]] = {}
    for sentence, clip in zip(narration_sentences(lesson), speech.clips, strict=True):
        out.setdefault(sentence, []).append(clip)
    return out
