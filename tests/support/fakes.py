"""Fakes for the seams: fast and deterministic (the recording chat model is in ``chat.py``, so tests
that need only these do not import langchain)."""

from __future__ import annotations

from pathlib import Path

from generator.fsutil import write_bytes_atomic
from generator.lesson import count_words


class FakeTTS:
    """A silent TTS: writes valid MP3 silence as long as the text would take to say (or ``seconds``
    when given, for tests that only need a playable file); records its calls."""

    name = "fake"

    def __init__(self, seconds: float | None = None) -> None:
        self.seconds = seconds
        self.calls: list[tuple[str, str, int]] = []

    def synthesize(self, text: str, lang: str, rate_wpm: int, out_path: Path) -> None:
        """Write ``count_words(text) / rate_wpm`` minutes (or ``seconds``) of silence as MP3."""
        import lameenc

        self.calls.append((text, lang, rate_wpm))
        seconds = self.seconds if self.seconds is not None else 60.0 * count_words(text) / rate_wpm
        enc = lameenc.Encoder()
        enc.set_bit_rate(32)
        enc.set_in_sample_rate(16000)
        enc.set_channels(1)
        enc.set_quality(7)
        data = enc.encode(bytes(2 * int(16000 * seconds))) + enc.flush()
        write_bytes_atomic(out_path, data)
