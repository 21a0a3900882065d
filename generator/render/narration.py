"""A lesson's narration spoken once per render: the MP3 (``audio``) and the video both take their sentences
from here, so the engine speaks the lesson once, not once for the file and again sentence by sentence for
the video.

Only a backend that returns raw speech (``SentenceSpeaker``: espeak-ng) is shared this way; gTTS returns
MP3, so the audio renderer keeps its MP3 and the video asks it sentence by sentence, as before.
"""

from __future__ import annotations

from collections.abc import Callable
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


def lesson_speech(lesson: Lesson, rate_wpm: int, tts: TTSBackend | None, cache: SpeechCache | None = None,
                  on_chunk: Callable[[int, list[bytes]], None] | None = None) -> Speech | None:
    """Every narration sentence spoken (after ``speech.spoken``), once per ``cache``; None when ``tts``
    cannot return raw speech. ``on_chunk`` sees the clips as they are spoken (not when cached)."""
    if not isinstance(tts, SentenceSpeaker):
        return None
    key = (lesson.narration, lesson.language, rate_wpm)
    if cache is not None and key in cache:
        return cache[key]
    from generator.render.speech import spoken

    said = [spoken(s, lesson.language) for s in narration_sentences(lesson)]
    result = tts.speak(said, lesson.language, rate_wpm, on_chunk)
    if cache is not None:
        cache[key] = result
    return result


def lesson_mp3(lesson: Lesson, rate_wpm: int, tts: TTSBackend | None, cache: SpeechCache | None = None,
               workers: int = 1) -> bytes | None:
    """The narration as MP3 (speech settings), encoded while it is being spoken: each chunk of sentences
    goes to the encoder as soon as espeak-ng has said it. None when ``tts`` cannot return raw speech."""
    from generator.render.mp3 import SpeechEncoder, encode_speech

    if not isinstance(tts, SentenceSpeaker):
        return None
    key = (lesson.narration, lesson.language, rate_wpm)
    if cache is not None and key in cache:  # spoken already (for the video): encode it
        return encode_speech(cache[key], workers)
    encoder: SpeechEncoder | None = None

    def feed(rate: int, clips: list[bytes]) -> None:
        nonlocal encoder
        if encoder is None:
            encoder = SpeechEncoder(rate, workers)
        encoder.add(clips)

    try:
        speech = lesson_speech(lesson, rate_wpm, tts, cache, on_chunk=feed)
        if encoder is None:  # the engine said it all at once, without chunks
            return encode_speech(speech, workers) if speech is not None else None
        return encoder.finish()
    finally:
        if encoder is not None:
            encoder.__exit__(None, None, None)


def clips_by_sentence(lesson: Lesson, speech: Speech) -> dict[str, list[bytes]]:
    """Each written sentence -> its clips in narration order (a sentence said twice has two)."""
    out: dict[str, list[bytes]] = {}
    for sentence, clip in zip(narration_sentences(lesson), speech.clips, strict=True):
        out.setdefault(sentence, []).append(clip)
    return out
