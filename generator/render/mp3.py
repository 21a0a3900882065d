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

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

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

        pcm = (np.frombuffer(pcm, dtype="<i2") * settings.gain).astype("<i2").tobytes()
    enc = lameenc.Encoder()
    enc.set_bit_rate(settings.kbps)
    enc.set_in_sample_rate(rate)
    enc.set_channels(1)
    enc.set_quality(settings.quality)
    return bytes(enc.encode(pcm) + enc.flush())


def encode_speech(speech: Speech, workers: int = 1, settings: Mp3Settings = SPEECH) -> bytes:
    """The sentences of ``speech`` one after another as MP3, encoded in up to ``workers`` segments."""
    segments = _segments(speech.clips, speech.rate, max(1, workers))
    if len(segments) == 1:
        return encode_pcm(segments[0], speech.rate, settings)
    with ThreadPoolExecutor(max_workers=len(segments)) as pool:
        return b"".join(pool.map(lambda p: encode_pcm(p, speech.rate, settings), segments))


def _trailing_zeros(clip: bytes) -> int:
    stripped = clip.rstrip(b"\0")
    return (len(clip) - len(stripped) - (len(stripped) % 2)) // 2


def _segments(clips: tuple[bytes, ...], rate: int, workers: int) -> list[bytes]:
    """The clips joined into at most ``workers`` PCM segments of about equal length, each but the last
    shortened so that its MP3 stream decodes to exactly its original length (the delay and the frame
    padding come out of the pause that ends it; what is over is carried to the next segment)."""
    total = sum(len(c) for c in clips) // 2
    n = min(workers, max(1, int(total / rate // MIN_SEGMENT_S)))
    if n == 1:
        return [b"".join(clips)]
    target = total / n
    out: list[bytes] = []
    cur: list[bytes] = []
    cur_len = carry = 0
    for i, clip in enumerate(clips):
        cur.append(clip)
        cur_len += len(clip) // 2
        last = i == len(clips) - 1
        if last or len(out) == n - 1 or cur_len + carry < target:
            continue
        decoded = (cur_len + carry) // FRAME * FRAME  # whole frames, as long as the speech or just under
        keep = decoded - LAME_TAIL  # the input that decodes to exactly that
        cut = cur_len + carry - keep  # samples taken out of the pause
        if cut > _trailing_zeros(clip) or keep <= 0:
            continue  # this pause is too short to hide the seam: end the segment at the next sentence
        pcm = bytes(2 * carry) + b"".join(cur)
        out.append(pcm[: 2 * keep])
        carry = cur_len + carry - decoded  # what rounding down to a frame left over
        cur, cur_len = [], 0
    out.append(bytes(2 * carry) + b"".join(cur))
    return out
