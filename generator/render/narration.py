"""A lesson's narration spoken once per render: the MP3 (``audio``) and the video both take their sentences
from here, so the engine speaks the lesson once, not once for the file and again sentence by sentence for
the video.

Only a backend that returns raw speech (``SentenceSpeaker``: espeak-ng) is shared this way; gTTS returns
MP3, so the audio renderer keeps its MP3 and the video asks it sentence by sentence, as before.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from generator.lesson import PAUSE
from generator.render.tts import SentenceSpeaker, Speech

if TYPE_CHECKING:
    from generator.lesson import Lesson
    from generator.render.tts import TTSBackend

SpeechCache = dict[tuple[str, str, int], Speech]

#: Seconds of silence for a narration line that is only ``lesson.PAUSE`` (the time to think before a quiz
#: answer is said): the same as the video's pause (``video.GAP_S`` × 4).
PAUSE_S = 1.4


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

    written = narration_sentences(lesson)
    said = [spoken(s, lesson.language) for s in written]
    done = 0

    def chunk(rate: int, clips: list[bytes]) -> None:
        nonlocal done
        assert on_chunk is not None
        on_chunk(rate, list(with_pauses(written[done : done + len(clips)], Speech(rate, tuple(clips))).clips))
        done += len(clips)

    spoken_ = tts.speak(said, lesson.language, rate_wpm, chunk if PAUSE in written and on_chunk else on_chunk)
    result = with_pauses(written, spoken_)
    if cache is not None:
        cache[key] = result
    return result


def with_pauses(written: list[str], speech: Speech) -> Speech:
    """``speech`` with each ``PAUSE`` line's clip made the pause's silence (``written``: the sentences it says)."""
    return Speech(speech.rate, tuple(_silence(speech.rate) if s == PAUSE else c
                                     for s, c in zip(written, speech.clips, strict=True)))


#: Seconds of silence after each sentence of the MP3 at ``PAUSE_AT_WPM`` words a minute, longer for a slower
#: group and shorter for a faster one: a listener's breath between sentences (what espeak-ng leaves after a
#: sentence when it reads a text in one call: 0.69 s, median of a real lesson at 130 words a minute). The
#: breaks that cut a chunk into sentences take the place of that pause (0.06 s is left), so hocvu puts it
#: back. Only in the MP3: the video makes its own gaps between captions (``video.GAP_S``).
SENTENCE_PAUSE_S = 0.7
PAUSE_AT_WPM = 130


def sentence_pause(rate: int, rate_wpm: int) -> int:
    """Samples of silence after a sentence for a group speaking ``rate_wpm`` words a minute."""
    return round(rate * SENTENCE_PAUSE_S * PAUSE_AT_WPM / max(rate_wpm, 60))


def spaced(clips: Sequence[bytes], rate: int, rate_wpm: int) -> list[bytes]:
    """``clips`` each ending in at least a sentence's pause: silence added to a clip that ends in less (a
    ``PAUSE`` line, longer already, and an empty clip, which says nothing, are left as they are)."""
    from generator.render.mp3 import trailing_zeros

    gap = sentence_pause(rate, rate_wpm)
    out = []
    for clip in clips:
        short = gap - trailing_zeros(clip) if clip else 0
        out.append(clip + bytes(2 * short) if short > 0 else clip)
    return out


def for_listening(speech: Speech, rate_wpm: int) -> Speech:
    """``speech`` as the MP3 says it: each sentence followed by its pause (``spaced``)."""
    return Speech(speech.rate, tuple(spaced(speech.clips, speech.rate, rate_wpm)))


def _silence(rate: int) -> bytes:
    """The silence a ``PAUSE`` line leaves, as PCM: the engine says nothing for "…" (espeak-ng makes 75 ms of
    it), so hocvu makes the pause itself, as long as the video's."""
    return bytes(2 * round(rate * PAUSE_S))


def lesson_mp3(lesson: Lesson, rate_wpm: int, tts: TTSBackend | None, cache: SpeechCache | None = None,
               workers: int = 1) -> bytes | None:
    """The narration as MP3 (speech settings), encoded while it is being spoken: each chunk of sentences
    goes to the encoder as soon as espeak-ng has said it. None when ``tts`` cannot return raw speech."""
    from generator.render.mp3 import SpeechEncoder, encode_speech

    if not isinstance(tts, SentenceSpeaker):
        return None
    key = (lesson.narration, lesson.language, rate_wpm)
    if cache is not None and key in cache:  # spoken already (for the video): encode it
        return encode_speech(for_listening(cache[key], rate_wpm), workers)
    encoder: SpeechEncoder | None = None

    def feed(rate: int, clips: list[bytes]) -> None:
        nonlocal encoder
        if encoder is None:
            encoder = SpeechEncoder(rate, workers)
        encoder.add(spaced(clips, rate, rate_wpm))

    try:
        speech = lesson_speech(lesson, rate_wpm, tts, cache, on_chunk=feed)
        if encoder is None:  # the engine said it all at once, without chunks
            return encode_speech(for_listening(speech, rate_wpm), workers) if speech is not None else None
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
