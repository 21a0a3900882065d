"""MP3 the way speech is encoded: mono, at the engine's own sample rate (no resampling), a speech bit
rate and LAME's fast preset, in parallel segments cut in the pauses between sentences.

The settings were chosen with ``bench/bench_narration.py``, which encodes a real lesson's narration with
each candidate, decodes it again and checks what a listener would notice (duration kept, no clipped
samples, the speech band kept); its table is in BENCHMARKS.md. MP3 stays the format people download: every
phone and every LMS plays it.

lameenc releases the GIL while it encodes, so segments encode on threads. Each LAME stream starts with
the encoder's delay (``LAME_DELAY`` samples) and ends on a whole frame; a segment that is followed by
another is cut shorter by exactly that much, taken out of the silence after its last sentence, so the
decoded file lasts as long as the speech.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from generator.render.tts import Speech

#: Samples LAME puts before the first input sample (576 + 529), and its frame length at 16–24 kHz.
LAME_DELAY = 1105
FRAME = 576
#: Input a stream gives up so that it decodes to exactly the frames wanted: LAME's flush adds one more frame
#: once the input ends within 577–641 samples of a frame's end (measured with lameenc 1.9 at 22,050 Hz).
LAME_TAIL = LAME_DELAY + 400
#: Shortest speech worth a segment of its own (seconds): below this the thread costs more than it saves.
MIN_SEGMENT_S = 20.0


@dataclass(frozen=True)
class Mp3Settings:
    """LAME settings: constant bit rate in kbit/s, quality (2 best … 7 fastest) and the gain applied first
    (espeak-ng speaks up to full scale, and an MP3 decoded from full-scale speech clips)."""

    kbps: int
    quality: int
    gain: float = 1.0


#: What narration is encoded with (chosen by bench/bench_narration.py's listening-quality check).
SPEECH = Mp3Settings(kbps=40, quality=7, gain=0.8)


def encode_pcm(pcm: bytes, rate: int, settings: Mp3Settings = SPEECH) -> bytes:
    """One MP3 stream of mono 16-bit little-endian PCM at ``rate`` Hz (lameenc)."""
    import lameenc

    if settings.gain != 1.0:
        import numpy as np

        # float32, not numpy's default float64: half the memory traffic, and exact for 16-bit samples
        pcm = (np.frombuffer(pcm, dtype="<i2") * np.float32(settings.gain)).astype("<i2").tobytes()
    enc = lameenc.Encoder()
    enc.set_bit_rate(settings.kbps)
    enc.set_in_sample_rate(rate)
    enc.set_channels(1)
    enc.set_quality(settings.quality)
    return bytes(enc.encode(pcm) + enc.flush())


def encode_speech(speech: Speech, workers: int = 1, settings: Mp3Settings = SPEECH) -> bytes:
    """The sentences of ``speech`` one after another as MP3, encoded in segments on up to ``workers``
    threads."""
    total = sum(len(c) for c in speech.clips) // 2
    n = min(max(1, workers), max(1, int(total / speech.rate // MIN_SEGMENT_S)))
    with SpeechEncoder(speech.rate, n, settings, segment_s=total / speech.rate / n) as enc:
        enc.add(speech.clips)
        return enc.finish()


class SpeechEncoder:
    """MP3 of sentence clips fed in order (``add``), encoded segment by segment on threads while more
    clips are still being spoken; ``finish`` returns the whole file. A segment ends in a pause once it
    holds ``segment_s`` seconds, shortened so that its stream decodes to exactly its own length (the
    encoder's delay and the frame padding come out of that pause; what rounding leaves is carried on)."""

    def __init__(self, rate: int, workers: int = 1, settings: Mp3Settings = SPEECH,
                 segment_s: float = MIN_SEGMENT_S) -> None:
        self.rate = rate
        self.settings = settings
        self.segment = max(1, int(segment_s * rate))
        self._pool = ThreadPoolExecutor(max_workers=max(1, workers)) if workers > 1 else None
        self._parts: list[Any] = []
        self._cur: list[bytes] = []
        self._cur_len = 0
        self._carry = 0

    def __enter__(self) -> SpeechEncoder:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)

    def add(self, clips: Iterable[bytes]) -> None:
        """Take the next clips; start encoding a segment as soon as one is full."""
        for clip in clips:
            self._cur.append(clip)
            self._cur_len += len(clip) // 2
            m = self._cur_len + self._carry
            if m < self.segment:
                continue
            decoded = m // FRAME * FRAME  # whole frames, as long as the speech or just under
            keep = decoded - LAME_TAIL  # the input that decodes to exactly that
            if m - keep > trailing_zeros(clip) or keep <= 0:
                continue  # this pause is too short to hide the seam: end the segment at the next sentence
            pcm = bytes(2 * self._carry) + b"".join(self._cur)
            self._submit(pcm[: 2 * keep])
            self._carry = m - decoded
            self._cur, self._cur_len = [], 0

    def finish(self) -> bytes:
        """Encode what is left and return the MP3."""
        self._submit(bytes(2 * self._carry) + b"".join(self._cur))
        self._cur, self._cur_len, self._carry = [], 0, 0
        return b"".join(p.result() if hasattr(p, "result") else p for p in self._parts)

    def _submit(self, pcm: bytes) -> None:
        if self._pool is None:
            self._parts.append(encode_pcm(pcm, self.rate, self.settings))
        else:
            self._parts.append(self._pool.submit(encode_pcm, pcm, self.rate, self.settings))


def trailing_zeros(clip: bytes) -> int:
    """Samples of exact silence at the end of 16-bit ``clip``."""
    stripped = clip.rstrip(b"\0")
    return (len(clip) - len(stripped) - (len(stripped) % 2)) // 2
