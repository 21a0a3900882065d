"""Narration spoken once and encoded as speech: espeak-ng's sentences cut at the breaks, MP3 in parallel
segments that decode exactly as long as one stream, no clipping, and one synthesis shared by the MP3 and
the video of a lesson."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from generator.lesson import sentences
from generator.render.mp3 import SPEECH, Mp3Settings, encode_pcm, encode_speech
from generator.render.tts import BREAK_MS, EspeakTTS, SentenceSpeaker, Speech, split_at_breaks

needs_ffmpeg = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs Debian's ffmpeg")
needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
RATE = 22050


def tone(seconds: float, amplitude: int = 8000) -> bytes:
    """A square wave: never a zero sample, so only the silences between clips are runs of zeros."""
    import numpy as np

    n = int(RATE * seconds)
    wave = np.where((np.arange(n) // 25) % 2 == 0, amplitude, -amplitude).astype("<i2")
    return wave.tobytes()


def silence(seconds: float) -> bytes:
    return bytes(2 * int(RATE * seconds))


def decode(data: bytes) -> bytes:
    out = subprocess.run(["ffmpeg", "-v", "error", "-i", "-", "-f", "s16le", "-ac", "1", "-ar", str(RATE), "-"],
                         input=data, capture_output=True, check=True)
    return out.stdout


def test_breaks_cut_sentences_and_keep_the_engines_own_pause() -> None:
    brk = silence(BREAK_MS / 1000)
    pcm = tone(0.5) + silence(0.4) + brk + tone(0.3) + silence(0.2) + brk + brk + tone(0.2)
    clips = split_at_breaks(pcm, RATE, 4)
    assert clips is not None
    assert [round(len(c) / 2 / RATE, 2) for c in clips] == [0.9, 0.5, 0.0, 0.2]  # a silent sentence: empty
    assert clips[0].startswith(tone(0.5)) and clips[0].endswith(silence(0.4))
    assert split_at_breaks(pcm, RATE, 3) is None  # the breaks do not add up: the caller speaks one by one
    assert split_at_breaks(tone(1.0) + silence(1.0) + tone(1.0), RATE, 1) == [tone(1.0) + silence(1.0) + tone(1.0)]


def test_silent_runs_finds_exactly_the_long_runs_of_zeros() -> None:
    import random

    from generator.render.tts import _silent_runs

    def reference(pcm: bytes, min_len: int) -> list[tuple[int, int]]:
        samples = [int.from_bytes(pcm[i : i + 2], "little") for i in range(0, len(pcm), 2)] + [1]
        runs, start = [], None
        for i, x in enumerate(samples):
            if x == 0 and start is None:
                start = i
            elif x != 0 and start is not None:
                if i - start >= min_len:
                    runs.append((start, min(i, len(samples) - 1)))
                start = None
        return runs

    rng = random.Random(7)
    for _ in range(40):  # runs at the start and the end, just shorter and just longer than asked, odd places
        parts = [silence(rng.choice([0, 1, 599, 600, 601, 1300]) / RATE) + tone(rng.randint(1, 900) / RATE)
                 for _ in range(rng.randint(1, 6))]
        pcm = b"".join(parts) + silence(rng.choice([0, 5, 600, 1000]) / RATE)
        assert _silent_runs(pcm, 600) == reference(pcm, 600)
    assert _silent_runs(silence(0.1), 600) == [(0, 2205)]
    assert _silent_runs(b"", 600) == [] and _silent_runs(tone(0.1), 600) == []


@needs_ffmpeg
def test_segments_decode_exactly_as_long_as_one_stream() -> None:
    clips = tuple(tone(4.0 + i % 3) + silence(0.6) for i in range(24))  # 2.4 minutes, sentences with pauses
    speech = Speech(RATE, clips)
    one, four = encode_speech(speech, workers=1), encode_speech(speech, workers=4)
    assert one != four  # really in four streams
    assert len(decode(four)) == len(decode(one))
    assert 0 <= len(decode(one)) / 2 - sum(len(c) for c in clips) / 2 <= 0.08 * RATE  # LAME's delay + a frame


@needs_ffmpeg
def test_full_scale_speech_never_clips_after_decoding() -> None:
    import numpy as np

    loud = tone(3.0, amplitude=32767)
    raw = np.frombuffer(decode(encode_pcm(loud, RATE, Mp3Settings(SPEECH.kbps, SPEECH.quality, 1.0))), "<i2")
    ours = np.frombuffer(decode(encode_pcm(loud, RATE)), "<i2")
    assert np.abs(raw.astype(int)).max() >= 32767  # without the gain the decoded file clips
    assert np.abs(ours.astype(int)).max() < 32767


@needs_espeak
def test_espeak_speaks_every_sentence_once_in_order() -> None:
    text = ("Xin chào ông bà. Mã OTP chỉ dùng một lần! … Không đưa mã cho ai, kể cả người xưng công an. "
            "Hãy gọi 113 khi cần.")
    sents = sentences(text)
    speech = EspeakTTS(chunk_chars=60).speak(sents, "vi", 130)
    assert len(speech.clips) == len(sents) and speech.rate == RATE
    lengths = [len(c) / 2 / RATE for c in speech.clips]
    assert lengths[sents.index("…")] < 0.3  # nothing to say
    assert all(0.5 < x < 8 for i, x in enumerate(lengths) if sents[i] != "…")
    assert lengths[3] > lengths[0]  # the long sentence takes longer than the greeting


class CountingSpeaker:
    """A SentenceSpeaker that returns a tone per sentence and counts its calls."""

    name = "counting"

    def __init__(self) -> None:
        self.calls = 0

    def speak(self, sentences: Sequence[str], lang: str, rate_wpm: int,
              on_chunk: Callable[[int, list[bytes]], None] | None = None) -> Speech:
        self.calls += 1
        clips = [tone(0.2 + 0.01 * len(s)) + silence(0.3) for s in sentences]
        for i in range(0, len(clips), 7):  # in chunks, as espeak-ng gives them
            if on_chunk is not None:
                on_chunk(RATE, clips[i : i + 7])
        return Speech(RATE, tuple(clips))

    def synthesize(self, text: str, lang: str, rate_wpm: int, out_path: Path) -> None:
        raise AssertionError("a sentence speaker is never asked for an MP3")


@needs_ffmpeg
def test_audio_and_video_share_one_synthesis(library, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from generator.config import Settings
    from generator.render import render_lesson
    from tests.support.drafts import offline_lesson
    from tests.test_render_audio import mp3_duration

    lesson = offline_lesson(library, "2.3", 1, "elderly", "vi").lesson
    tts = CountingSpeaker()
    assert isinstance(tts, SentenceSpeaker)
    result = render_lesson(lesson, library.group("elderly"), tmp_path, ["audio", "video"], Settings(), tts=tts)
    assert tts.calls == 1
    from generator.lesson import PAUSE
    from generator.render.narration import PAUSE_S
    from generator.render.speech import spoken

    said = sentences(lesson.narration)
    assert PAUSE in said  # the quiz waits before its answer (older people learn by listening)
    from generator.render.narration import SENTENCE_PAUSE_S

    # each sentence: its tone, then its pause (the speaker's 0.3 s made up to a sentence's pause at 130 wpm)
    spoken_s = sum(PAUSE_S if s == PAUSE else 0.2 + 0.01 * len(spoken(s, "vi")) + SENTENCE_PAUSE_S for s in said)
    mp3 = result.files["audio"].read_bytes()
    assert abs(mp3_duration(mp3) - spoken_s) < 0.2
    # encoded while spoken, in segments, it decodes exactly as long as the speech encoded in one stream
    from generator.render.narration import for_listening, lesson_speech

    one = encode_speech(for_listening(lesson_speech(lesson, 130, tts) or Speech(RATE, ()), 130), workers=1)
    assert len(decode(mp3)) == len(decode(one))
    video_s = float(subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0",
                                    str(result.files["video"])], capture_output=True, check=True, text=True).stdout)
    assert video_s > spoken_s  # the same sentences, with the slides' pauses


@needs_espeak
def test_espeak_failure_says_what_went_wrong_and_what_to_do() -> None:
    from generator.errors import RenderError

    with pytest.raises(RenderError, match="espeak-ng failed for voice 'xx-nope'.*espeak-ng --voices"):
        EspeakTTS().speak(["Xin chào."], "xx-nope", 130)  # espeak-ng's own message comes through stderr


@needs_ffmpeg
def test_a_pause_line_is_a_silence_in_the_mp3_as_long_as_the_videos(library) -> None:  # type: ignore[no-untyped-def]
    import numpy as np

    from generator.lesson import PAUSE
    from generator.render.narration import PAUSE_S, for_listening, lesson_mp3, lesson_speech
    from tests.support.drafts import offline_lesson

    lesson = offline_lesson(library, "2.3", 1, "elderly", "vi").lesson
    said = sentences(lesson.narration)
    pauses = [i for i, s in enumerate(said) if s == PAUSE]
    assert pauses
    tts = CountingSpeaker()  # every sentence a tone, "…" too: only hocvu's pause makes it silent
    spoken_ = lesson_speech(lesson, 130, tts)
    assert spoken_ is not None and all(spoken_.clips[i] == bytes(2 * round(RATE * PAUSE_S)) for i in pauses)
    speech = for_listening(spoken_, 130)  # each sentence with its pause, as the MP3 says it
    assert all(speech.clips[i] == spoken_.clips[i] for i in pauses)  # a pause line gets no pause added
    mp3 = lesson_mp3(lesson, 130, tts, workers=4)  # encoded while spoken, in segments
    assert mp3 is not None
    pcm = np.abs(np.frombuffer(decode(mp3), "<i2").astype(int))
    starts = np.cumsum([0] + [len(c) // 2 for c in speech.clips])
    delay = 1105  # LAME's, before the first sample
    for i in pauses:  # the whole pause is there, where the sentence was (the tone before it ends in 0.3 s)
        quiet = pcm[delay + starts[i] - int(0.25 * RATE) : delay + starts[i + 1] - int(0.06 * RATE)]
        assert len(quiet) > (PAUSE_S + 0.15) * RATE and quiet.max() < 200
    assert abs(len(pcm) - starts[-1]) < 0.08 * RATE  # nothing lost: as long as the clips, to a frame


@needs_espeak
def test_a_dropped_break_speaks_that_chunk_a_sentence_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    import generator.render.tts as tts_mod

    real_split, real_run = tts_mod.split_at_breaks, EspeakTTS._run
    runs: list[str] = []

    def split(pcm: bytes, rate: int, count: int) -> list[bytes] | None:
        return None if count > 6 else real_split(pcm, rate, count)  # espeak-ng "dropped a break" in long chunks

    def run(self: EspeakTTS, args: list[str], text: str) -> tuple[int, bytes]:
        runs.append(text)
        return real_run(self, args, text)

    monkeypatch.setattr(tts_mod, "split_at_breaks", split)
    monkeypatch.setattr(EspeakTTS, "_run", run)
    sents = [f"Câu số {i}." for i in range(10)]
    speech = EspeakTTS(chunk_chars=1000).speak(sents, "vi", 130)
    assert runs[1:] == sents and len(speech.clips) == 10  # the chunk, then each sentence once, in order
    assert all(0.5 < len(c) / 2 / RATE < 3 for c in speech.clips)


@needs_espeak
@needs_ffmpeg
def test_a_real_lessons_mp3_lasts_as_long_as_its_speech_and_pauses(library, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from generator.lesson import PAUSE
    from generator.render.audio import render_audio
    from generator.render.narration import PAUSE_S, SpeechCache, lesson_speech
    from tests.support.drafts import offline_lesson

    lesson = offline_lesson(library, "4.2", 1, "elderly", "vi").lesson
    group = library.group("elderly")
    cache: SpeechCache = {}
    render_audio(lesson, group, tmp_path / "n.mp3", EspeakTTS(), cache)  # spoken and encoded chunk by chunk
    speech = lesson_speech(lesson, group.accessibility.speech_rate_wpm, EspeakTTS(), cache)
    assert speech is not None
    said = sentences(lesson.narration)
    assert len(speech.clips) == len(said) and said.count(PAUSE) == 3  # the quiz: three questions, three pauses
    assert all(len(c) == 2 * round(RATE * PAUSE_S) for c, s in zip(speech.clips, said, strict=True) if s == PAUSE)
    assert all(len(c) > RATE // 2 for c, s in zip(speech.clips, said, strict=True) if s != PAUSE)  # each said
    import numpy as np

    from generator.render.narration import for_listening, sentence_pause

    heard = for_listening(speech, group.accessibility.speech_rate_wpm)
    pcm = np.frombuffer(decode((tmp_path / "n.mp3").read_bytes()), "<i2")
    assert 0 <= len(pcm) - sum(len(c) // 2 for c in heard.clips) <= 0.08 * RATE  # LAME's delay and one frame
    # a listener gets a breath after every sentence: between each sentence said and the next, the decoded
    # file is quiet for at least most of a sentence's pause (34ec50b to here: 0.06 s)
    gap = sentence_pause(RATE, group.accessibility.speech_rate_wpm)
    assert gap > 0.6 * RATE
    pos = 0
    for clip in heard.clips[:-1]:
        pos += len(clip) // 2
        quiet = np.abs(pcm[pos - gap + int(0.1 * RATE): pos - int(0.1 * RATE)].astype(int))
        assert quiet.max() < 600, f"no pause before sample {pos}"


def test_spaced_gives_each_sentence_its_pause_once() -> None:
    from generator.render.narration import sentence_pause, spaced

    gap = sentence_pause(RATE, 130)
    said = tone(1.0) + silence(0.06)
    clips = spaced([said, b"", silence(1.4), tone(0.5) + silence(2.0)], RATE, 130)
    assert len(clips[0]) == len(tone(1.0)) + 2 * gap  # the pause completed, not added on top of what was left
    assert clips[1] == b""  # a sentence with nothing to say stays silent
    assert clips[2] == silence(1.4) and clips[3] == tone(0.5) + silence(2.0)  # long enough already
    assert sentence_pause(RATE, 170) < gap < sentence_pause(RATE, 120)  # slower groups get longer pauses


@needs_espeak
@needs_ffmpeg
def test_espeak_as_gtts_fallback_keeps_the_pause_too(tmp_path: Path) -> None:
    import numpy as np

    from generator.render.narration import PAUSE_S

    out = tmp_path / "a.mp3"
    EspeakTTS().synthesize("Mật khẩu nào an toàn hơn?\n…\nĐáp án đúng là câu B.", "vi", 130, out)
    pcm = np.abs(np.frombuffer(decode(out.read_bytes()), "<i2").astype(int))
    loud = np.flatnonzero(pcm > 200)
    assert np.diff(loud).max() > PAUSE_S * RATE  # the question, 1.4 s or more of silence, the answer
