"""Text to speech behind one protocol: espeak-ng (offline, the default) and gTTS (online, with a fallback).

Every backend writes an MP3 atomically, so a failure never leaves a partial or 0-byte file. Scripts are
split at sentence boundaries into chunks: espeak-ng renders them in parallel, gTTS retries each one on
its own when the service answers 429. A backend that changes course (gTTS falling back to espeak-ng)
says so in its ``notes`` list; the audio renderer moves those lines into the lesson's provenance.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol, runtime_checkable

from generator.children import run_helper
from generator.errors import RenderError
from generator.fsutil import write_bytes_atomic
from generator.lesson import sentences

if TYPE_CHECKING:
    from generator.config import Settings


@runtime_checkable
class TTSBackend(Protocol):
    """Speaks ``text`` in ``lang`` at about ``rate_wpm`` words a minute into an MP3 at ``out_path``."""

    name: str

    def synthesize(self, text: str, lang: str, rate_wpm: int, out_path: Path) -> None:
        """Write the MP3 atomically; raise RenderError with the fix when it cannot."""
        ...


@dataclass(frozen=True)
class Speech:
    """Spoken sentences as mono 16-bit little-endian PCM at ``rate`` Hz: one clip per sentence, each
    ending with the engine's own pause after it (an empty clip for a sentence with nothing to say)."""

    rate: int
    clips: tuple[bytes, ...]


@runtime_checkable
class SentenceSpeaker(Protocol):
    """A backend that can return raw speech sentence by sentence (so one synthesis serves the MP3, the
    video and its caption timings). espeak-ng can; gTTS only returns MP3."""

    name: str

    def speak(self, sentences: Sequence[str], lang: str, rate_wpm: int,
              on_chunk: Callable[[int, list[bytes]], None] | None = None) -> Speech:
        """Every sentence spoken, in order; RenderError with the fix when it cannot. ``on_chunk(rate,
        clips)`` is given the clips as they are ready, in order (so encoding can start early)."""
        ...


def take_notes(tts: object) -> list[str]:
    """Remove and return what ``tts`` wants recorded (e.g. a fallback); [] for backends without notes."""
    notes = getattr(tts, "notes", None)
    if not isinstance(notes, list):
        return []
    out = [str(n) for n in notes]
    notes.clear()
    return out


def split_script(text: str, max_chars: int) -> list[str]:
    """``text`` in chunks of whole sentences of at most ``max_chars`` (a longer sentence is cut at
    commas, then at spaces)."""
    chunks: list[str] = []
    cur = ""
    for sent in sentences(text):
        for piece in _cut(sent, max_chars):
            if cur and len(cur) + 1 + len(piece) > max_chars:
                chunks.append(cur)
                cur = piece
            else:
                cur = f"{cur} {piece}" if cur else piece
    if cur:
        chunks.append(cur)
    return chunks


def _cut(sentence: str, max_chars: int) -> list[str]:
    if len(sentence) <= max_chars:
        return [sentence]
    out: list[str] = []
    cur = ""
    for word in sentence.replace(", ", ",\0").replace(" ", "\0").split("\0"):
        if cur and len(cur) + 1 + len(word) > max_chars:
            out.append(cur)
            cur = word
        else:
            cur = f"{cur} {word}" if cur else word
    if cur:
        out.append(cur)
    return out


def wav_pcm(data: bytes) -> tuple[int, int, bytes]:
    """(sample rate, channels, PCM) from a 16-bit WAV; espeak-ng's stdout header has no real sizes,
    so the data chunk is taken to the end."""
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise RenderError("espeak-ng did not return WAV audio; reinstall it: apt-get install espeak-ng")
    pos, rate, channels = 12, 22050, 1
    while pos + 8 <= len(data):
        cid, size = data[pos : pos + 4], int.from_bytes(data[pos + 4 : pos + 8], "little")
        if cid == b"fmt ":
            channels = int.from_bytes(data[pos + 10 : pos + 12], "little")
            rate = int.from_bytes(data[pos + 12 : pos + 16], "little")
        if cid == b"data":
            pcm = data[pos + 8 :]
            return rate, channels, pcm[: len(pcm) - len(pcm) % (2 * channels)]
        pos += 8 + size
    raise RenderError("espeak-ng returned WAV audio without data; reinstall it: apt-get install espeak-ng")


class EspeakTTS:
    """espeak-ng through a subprocess: offline, fast, robotic but clear. Voice by language."""

    name = "espeak-ng"
    VOICES = {"vi": "vi", "en": "en-us"}
    #: espeak-ng's -s is not the rate it speaks at: a Vietnamese syllable is shorter (measured: -s 130
    #: gives about 160 syllables a minute) and English runs fast too (measured: -s 130 gives 147 words a
    #: minute on a 78-word lesson text), so the rate is scaled to make the profile's wpm come true.
    SPEED_FACTOR = {"vi": 0.8, "en": 0.88}

    def __init__(
        self,
        binary: str = "espeak-ng",
        timeout: float = 120.0,
        workers: int | None = None,
        chunk_chars: int = 600,
        gap_ms: int = 250,
    ) -> None:
        self.binary = binary
        self.timeout = timeout
        self.workers = workers or min(4, os.cpu_count() or 1)
        self.chunk_chars = chunk_chars
        self.gap_ms = gap_ms

    def available(self) -> bool:
        """True when the espeak-ng program is installed."""
        return shutil.which(self.binary) is not None

    def synthesize(self, text: str, lang: str, rate_wpm: int, out_path: Path) -> None:
        """Speak ``text`` with espeak-ng and write it as MP3 (speech settings, see ``render.mp3``); a line that
        is only "…" is a pause, as in a lesson's narration (this is gTTS's fallback)."""
        from generator.render.mp3 import encode_speech
        from generator.render.narration import for_listening, with_pauses

        sents = sentences(text)
        speech = for_listening(with_pauses(sents, self.speak(sents, lang, rate_wpm)), rate_wpm)
        write_bytes_atomic(out_path, encode_speech(speech, workers=self.workers))

    def speak(self, sentences: Sequence[str], lang: str, rate_wpm: int,
              on_chunk: Callable[[int, list[bytes]], None] | None = None) -> Speech:
        """Speak ``sentences`` with espeak-ng: chunks of whole sentences in parallel processes, each chunk
        one call with a long SSML break between its sentences, cut back into one clip per sentence;
        ``on_chunk`` gets each chunk's clips in order as soon as it and those before it are spoken."""
        exe = shutil.which(self.binary)
        if exe is None:
            raise RenderError(
                "{binary} is not installed; install it with 'apt-get install espeak-ng' "
                "or choose the online engine with HOCVU_TTS=gtts",
                binary=self.binary,
            )
        sents = [s.strip() for s in sentences]
        if not any(sents):
            raise RenderError("there is no text to speak; write the lesson's narration first")
        voice = self.VOICES.get(lang, lang)
        speed = str(max(80, min(450, round(rate_wpm * self.SPEED_FACTOR.get(lang, 1.0)))))
        args = [exe, "-v", voice, "-s", speed, "-b", "1", "--stdout"]
        groups = _group(sents, self.chunk_chars)

        def run(group: list[str]) -> tuple[int, list[bytes]]:
            ssml = f'<break time="{BREAK_MS}ms"/>'.join(_xml(s) for s in group)
            rate, pcm = self._run(args + ["-m"], f"<speak>{ssml}</speak>")
            clips = split_at_breaks(pcm, rate, len(group))
            if clips is None:  # the pauses did not add up: speak this chunk a sentence at a time
                # (espeak-ng now and then drops a break in a chunk; speaking the chunk again in halves would
                # cost fewer processes but give its sentences shorter pauses than they have now: not done)
                clips = [self._run(args, s)[1] if s else b"" for s in group]
            return rate, clips

        parts: list[tuple[int, list[bytes]]] = []
        with ThreadPoolExecutor(max_workers=min(self.workers, len(groups))) as pool:
            for part in pool.map(run, groups):  # in order, while the later chunks are still spoken
                parts.append(part)
                if on_chunk is not None:
                    on_chunk(*part)
        return Speech(parts[0][0], tuple(c for _, clips in parts for c in clips))

    def _run(self, args: list[str], text: str) -> tuple[int, bytes]:
        try:
            with _output_file() as out:
                proc = run_helper(  # ends if this process dies (kill -9 of a build or worker)
                    args, input=text.encode("utf-8"), stdout=out, stderr=subprocess.PIPE, timeout=self.timeout,
                    check=False,
                )
                out.seek(0)
                wav = out.read()
        except subprocess.TimeoutExpired as exc:
            raise RenderError(
                "espeak-ng took more than {timeout:.0f} s; try a shorter narration", timeout=self.timeout,
            ) from exc
        except OSError as exc:
            raise RenderError(
                "cannot run {exe}: {exc}; reinstall it: apt-get install espeak-ng", exe=args[0], exc=exc,
            ) from exc
        if proc.returncode != 0:
            err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
            raise RenderError(
                "espeak-ng failed for voice {voice!r}: {reason}; check 'espeak-ng --voices' lists it",
                voice=args[2], reason=err[-1] if err else proc.returncode,
            )
        rate, channels, pcm = wav_pcm(wav)
        if channels != 1:
            raise RenderError("espeak-ng returned stereo audio; reinstall it: apt-get install espeak-ng")
        return rate, pcm


def _output_file() -> BinaryIO:
    """Where espeak-ng writes its WAV: a file in memory (Linux), else a temporary file. Through a pipe, a
    thread of this process had to take the GIL for every 32 KB of a chunk's ~4 MB, while other threads were
    encoding or cutting clips: espeak-ng waited on a full pipe, and the reads cost 40 ms of CPU a lesson."""
    if hasattr(os, "memfd_create"):
        return open(os.memfd_create("hocvu-espeak", os.MFD_CLOEXEC), "w+b")  # noqa: SIM115 - the caller closes it
    return tempfile.TemporaryFile()  # noqa: SIM115 - the caller closes it


#: The break put between sentences of one espeak-ng call: far longer than any pause espeak-ng makes itself
#: (about 1.05 s after a sentence at its slowest, 80 words a minute), so a run of silence this long can
#: only be a sentence boundary.
BREAK_MS = 3000


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _group(sents: list[str], max_chars: int) -> list[list[str]]:
    """Consecutive sentences in groups of at most ``max_chars`` characters (a longer sentence alone)."""
    groups: list[list[str]] = []
    size = 0
    for s in sents:
        if groups and size + len(s) + 1 <= max_chars:
            groups[-1].append(s)
            size += len(s) + 1
        else:
            groups.append([s])
            size = len(s)
    return groups


def split_at_breaks(pcm: bytes, rate: int, count: int) -> list[bytes] | None:
    """``count`` clips cut from ``pcm`` at its runs of exact silence as long as a break (each break
    removed, the engine's own pause kept at the end of the clip before it); None when the runs do not
    give ``count`` clips."""
    brk = rate * BREAK_MS // 1000
    # espeak-ng shortens a break by a few milliseconds where it meets its own pause: 80 % of one is still
    # more than twice the longest pause it makes itself.
    clips: list[bytes] = []
    pos = 0
    for s, e in _silent_runs(pcm, brk * 4 // 5):
        n = max(1, round((e - s) / brk))  # sentences that said nothing leave two or more breaks in one run
        clips.append(pcm[2 * pos : 2 * max(s, e - n * brk)])
        clips.extend(b"" for _ in range(n - 1))
        pos = e
    clips.append(pcm[2 * pos :])
    return clips if len(clips) == count else None


#: Samples per block when looking for long silences: whole blocks of zeros are found with numpy, and only
#: the block on each side of a run is looked at sample by sample.
_BLOCK = 256


def _silent_runs(pcm: bytes, min_len: int) -> list[tuple[int, int]]:
    """(start, end) sample indices of every run of zero samples at least ``min_len`` long, in order.

    A byte search for a break-long needle of zeros scanned each chunk at ~300 MB/s (13 ms for a chunk of
    five sentences, the most Python CPU a narration took); testing 256-sample blocks with numpy is ~10×
    faster. A run of ``min_len`` zeros always holds ``(min_len - 255) // 256`` whole silent blocks, so no
    run is missed; its exact ends are then found in the blocks beside it."""
    import numpy as np

    a = np.frombuffer(pcm, dtype="<i2", count=len(pcm) // 2)
    k = len(a) // _BLOCK
    silent = ~a[: k * _BLOCK].reshape(k, _BLOCK).any(axis=1)
    edges = np.diff(silent.astype(np.int8), prepend=np.int8(0), append=np.int8(0))
    need = max(1, (min_len - _BLOCK + 1) // _BLOCK)
    runs: list[tuple[int, int]] = []
    for first, last in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True):
        if last - first < need:
            continue
        s, e = int(first) * _BLOCK, int(last) * _BLOCK
        if s:  # the block before is not silent: the run starts after its last sound
            s = s - _BLOCK + int(np.flatnonzero(a[s - _BLOCK : s])[-1]) + 1
        after = np.flatnonzero(a[e : e + _BLOCK])  # the next block, or the few samples after the last one
        e = e + int(after[0]) if len(after) else len(a)
        if e - s >= min_len:
            runs.append((s, e))
    return runs


class _UnavailableError(Exception):
    """gTTS could not produce audio (unreachable, refused, rate-limited, or empty)."""


def _status(exc: BaseException) -> int | None:
    rsp = getattr(exc, "rsp", None)
    return getattr(rsp, "status_code", None)


class GTTS:
    """Google Translate's TTS through gTTS: online, natural voices. Retries 429s with backoff; when the
    service stays unreachable it falls back to ``fallback`` (espeak-ng) and notes it, or raises."""

    name = "gTTS"
    LANGS = {"vi": "vi", "en": "en"}
    SLOW_BELOW_WPM = 110  # gTTS has two speeds; slower profiles get the slow one

    def __init__(
        self,
        timeout: float = 20.0,
        fallback: TTSBackend | None = None,
        *,
        retries: int = 3,
        backoff: float = 2.0,
        max_wait: float = 30.0,
        tld: str = "com",
        chunk_chars: int = 500,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.timeout = timeout
        self.fallback = fallback
        self.retries = retries
        self.backoff = backoff
        self.max_wait = max_wait
        self.tld = tld
        self.chunk_chars = chunk_chars
        self.sleep = sleep
        self.notes: list[str] = []

    def synthesize(self, text: str, lang: str, rate_wpm: int, out_path: Path) -> None:
        """Fetch the MP3 from gTTS, or fall back; the file is written only when there is audio."""
        chunks = split_script(text, self.chunk_chars)
        if not chunks:
            raise RenderError("there is no text to speak; write the lesson's narration first")
        try:
            data = b"".join(self._fetch(c, lang, rate_wpm < self.SLOW_BELOW_WPM) for c in chunks)
            if not data:
                raise _UnavailableError("the service returned no audio")
        except _UnavailableError as exc:
            if self.fallback is None:
                raise RenderError(
                    "gTTS is unreachable ({exc}); check the internet connection, or use the offline engine "
                    "(HOCVU_TTS=espeak) or allow the fallback (HOCVU_TTS_FALLBACK=true)",
                    exc=exc,
                ) from exc
            try:
                self.fallback.synthesize(text, lang, rate_wpm, out_path)
            except RenderError as err:
                raise RenderError("gTTS is unreachable ({exc}) and the fallback failed: {err}",
                                   exc=exc, err=err) from err
            self.notes.append(f"narration: gTTS unreachable ({exc}), used {self.fallback.name}")
            self.notes.extend(take_notes(self.fallback))
            return
        write_bytes_atomic(out_path, data)

    def _fetch(self, chunk: str, lang: str, slow: bool) -> bytes:
        from gtts import gTTS
        from gtts.tts import gTTSError
        from tenacity import Retrying, retry_if_exception, stop_after_attempt

        def rate_limited(exc: BaseException) -> bool:
            return isinstance(exc, gTTSError) and _status(exc) == 429

        retrying = Retrying(
            retry=retry_if_exception(rate_limited),
            stop=stop_after_attempt(self.retries + 1),
            wait=self._wait,
            sleep=self.sleep,
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    tts = gTTS(
                        chunk,
                        lang=self.LANGS.get(lang, lang),
                        slow=slow,
                        lang_check=False,
                        timeout=self.timeout,
                        tld=self.tld,
                    )
                    return b"".join(tts.stream())
        except gTTSError as exc:
            status = _status(exc)
            reason = f"HTTP {status}" if status else "no connection"
            raise _UnavailableError(reason) from exc
        raise _UnavailableError("no attempt was made")  # pragma: no cover - Retrying always attempts once

    def _wait(self, state: Any) -> float:
        """Exponential backoff, or the server's Retry-After when it asks for longer."""
        wait = self.backoff * 2 ** (state.attempt_number - 1)
        exc = state.outcome.exception() if state.outcome else None
        header = getattr(getattr(exc, "rsp", None), "headers", {}) or {}
        retry_after = str(header.get("Retry-After", "")).strip()
        if retry_after.isdigit():
            wait = max(wait, float(retry_after))
        return min(wait, self.max_wait)


def make_espeak(settings: Settings) -> TTSBackend:
    """espeak-ng, offline (registered as 'espeak')."""
    return EspeakTTS()


def make_gtts(settings: Settings) -> TTSBackend:
    """Google Translate's TTS, with espeak-ng as its fallback when allowed (registered as 'gtts')."""
    return GTTS(timeout=settings.tts_timeout, fallback=EspeakTTS() if settings.tts_fallback else None)


def make_tts(settings: Settings) -> TTSBackend:
    """The TTS backend ``settings`` ask for (HOCVU_TTS), from ``generator.registry.tts`` (entry-point
    group ``hocvu.tts``: a name -> a factory taking the settings)."""
    from generator.registry import tts

    return tts.get(settings.tts)(settings)


def __getattr__(name: str) -> object:
    # The old name of the registry.
    if name == "TTS_BACKENDS":
        from generator.registry import tts

        return tts
    raise AttributeError(name)
