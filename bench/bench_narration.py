"""Narration at the cost of the speech engine: hocvu's audio time ÷ espeak-ng alone for one real offline
lesson, bytes per minute of speech, and the listening-quality check that chose the MP3 settings.

    .venv/bin/python bench/bench_narration.py [--competence 4.2] [--group elderly] [-n 7] [--no-write]

The lesson is drafted offline (its narration is a real lesson's, ~2,700 characters). "espeak-ng alone" is
one espeak-ng process speaking the lesson's whole spoken text to WAV (nothing encoded, nothing written):
the engine's own cost. hocvu's audio is ``render_audio`` as a build calls it: speak, encode, tag, write.
The two run in turn, N times each after a warm-up; the ratio is the median of the pairs' ratios.

Quality check (rerun it to choose again): the lesson's speech (mono PCM at espeak-ng's 22,050 Hz) encoded
with each candidate, decoded with ffmpeg and compared with the original:
- duration kept: decoded length minus the input's, ms (LAME adds its 1,105-sample delay, 50 ms, and pads the last
frame);
- no clipping: samples at full scale after decoding (the original peaks just under it);
- speech kept: log-spectral distance (dB, 0–8 kHz, 32 ms frames with speech) and the share of 4–8 kHz
  energy kept (where Vietnamese s, x, ch are), against the original.
A candidate passes with duration within 80 ms (the delay and one frame), no clipped sample, distance ≤ 3 dB and ≥
80 % of the
4–8 kHz band; the smallest passing file wins, then the fastest.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from common import sample_lesson, write_section

from generator.render.mp3 import Mp3Settings

LIMITS = {"duration_ms": 80.0, "clipped": 0, "lsd_db": 3.0, "hf_kept": 0.80}


def label(s: Mp3Settings) -> str:
    """How a candidate is shown in the table."""
    return f"MP3 lameenc {s.kbps} kbit/s, quality {s.quality}, gain {s.gain:g}"


def decode(data: bytes, rate: int, fmt: str) -> bytes:
    """``data`` decoded by ffmpeg to mono 16-bit PCM at ``rate``."""
    out = subprocess.run(["ffmpeg", "-v", "error", "-f", fmt, "-i", "-", "-f", "s16le", "-ac", "1", "-ar", str(rate),
                          "-"], input=data, capture_output=True, check=True)
    return out.stdout


def quality(orig: bytes, dec: bytes, rate: int, gain: float = 1.0) -> dict[str, float]:
    """Duration change, clipped samples, log-spectral distance and 4–8 kHz energy kept, against the
    original at the candidate's gain (a level change on purpose, not a loss)."""
    import numpy as np

    a = np.frombuffer(orig, dtype="<i2").astype(np.float64) * gain
    b = np.frombuffer(dec, dtype="<i2").astype(np.float64)
    dur_ms = (len(b) - len(a)) / rate * 1000
    clipped = int(np.sum(np.abs(b) >= 32767))
    # align: the encoder's delay, found by cross-correlating the first seconds
    n = min(len(a), rate * 5)
    lag = int(np.argmax(np.correlate(b[: n + 4000], a[:n], mode="valid")))
    b = b[lag: lag + len(a)]
    a = a[: len(b)]
    frame = int(rate * 0.032)
    k = len(a) // frame
    fa = np.abs(np.fft.rfft(a[: k * frame].reshape(k, frame) * np.hanning(frame), axis=1)) ** 2
    fb = np.abs(np.fft.rfft(b[: k * frame].reshape(k, frame) * np.hanning(frame), axis=1)) ** 2
    freqs = np.fft.rfftfreq(frame, 1 / rate)
    band = freqs <= 8000
    speech = fa.sum(axis=1) > 1e-3 * fa.sum(axis=1).max()
    floor = fa.max() * 1e-7  # 70 dB below the loudest bin: what espeak-ng leaves silent is not compared
    la = 10 * np.log10(np.maximum(fa[speech][:, band], floor))
    lb = 10 * np.log10(np.maximum(fb[speech][:, band], floor))
    lsd = float(np.mean(np.sqrt(np.mean((la - lb) ** 2, axis=1))))
    hf = (freqs >= 4000) & (freqs <= 8000)
    hf_kept = float(fb[speech][:, hf].sum() / max(fa[speech][:, hf].sum(), 1.0))
    return {"duration_ms": dur_ms, "clipped": clipped, "lsd_db": lsd, "hf_kept": hf_kept}


def passes(q: dict[str, float]) -> bool:
    """The candidate keeps duration, never clips and keeps the speech band."""
    return (abs(q["duration_ms"]) <= LIMITS["duration_ms"] and q["clipped"] <= LIMITS["clipped"]
            and q["lsd_db"] <= LIMITS["lsd_db"] and q["hf_kept"] >= LIMITS["hf_kept"])


def candidates(pcm: bytes, rate: int, gains: list[float]) -> list[tuple[str, str, float, bytes]]:
    """(name, container, encode seconds, encoded bytes) for every candidate, median of 3 encodes; each
    one's gain is appended to ``gains``."""
    from generator.render.mp3 import encode_pcm

    out = []
    for kbps, q, gain in [(k, q, g) for k in (24, 32, 40, 48, 64) for q in (5, 7, 9) for g in (1.0, 0.8)]:
        gains.append(gain)
        times, data = [], b""
        for _ in range(3):
            t = time.perf_counter()
            data = encode_pcm(pcm, rate, Mp3Settings(kbps, q, gain))
            times.append(time.perf_counter() - t)
        out.append((label(Mp3Settings(kbps, q, gain)), "mp3", statistics.median(times), data))
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "in.wav"
        import wave

        with wave.open(str(wav), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(rate)
            w.writeframes(pcm)
        for kbps in (24, 32):
            times = []
            for _ in range(3):
                t = time.perf_counter()
                data = subprocess.run(["ffmpeg", "-v", "error", "-i", str(wav), "-af", "volume=0.8", "-c:a", "libopus",
                                       "-b:a", f"{kbps}k",
                                       "-application", "voip", "-f", "ogg", "-"], capture_output=True,
                                      check=True).stdout
                times.append(time.perf_counter() - t)
            gains.append(0.8)
            out.append((f"Opus (ffmpeg libopus, voip) {kbps} kbit/s, gain 0.8", "ogg", statistics.median(times), data))
    return out


def cpu_seconds() -> float:
    """CPU time of this process (all its threads) and of its finished children (espeak-ng), in seconds:
    unlike wall time, it hardly moves when other work shares the cores."""
    return sum(cpu_parts())


def cpu_parts() -> tuple[float, float]:
    """(this process: LAME's threads and Python, finished children: espeak-ng) CPU seconds."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--competence", default="4.2")
    parser.add_argument("--group", default="elderly")
    parser.add_argument("-n", type=int, default=7, help="timed runs of each (default 7)")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()

    from generator.render.audio import render_audio
    from generator.render.mp3 import SPEECH, encode_speech
    from generator.render.narration import for_listening, lesson_speech
    from generator.render.speech import spoken
    from generator.render.tts import EspeakTTS

    lesson, group = sample_lesson(args.competence, args.group)
    wpm = group.accessibility.speech_rate_wpm
    tts = EspeakTTS()
    text = spoken(lesson.narration.strip(), lesson.language)
    speed = str(max(80, min(450, round(wpm * tts.SPEED_FACTOR["vi"]))))

    def espeak_alone() -> None:
        subprocess.run(["espeak-ng", "-v", "vi", "-s", speed, "-b", "1", "--stdout"], input=text.encode(),
                       capture_output=True, check=True)

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "narration.mp3"

        def hocvu() -> None:
            render_audio(lesson, group, out, tts, {})

        espeak_alone()
        hocvu()
        pairs, ours, theirs, speak_t, enc_t, cpu_pairs, cpu_ours, cpu_theirs = [], [], [], [], [], [], [], []
        cpu_engine: list[float] = []
        cpu_own: list[float] = []
        for _ in range(args.n):
            c = cpu_seconds()
            t = time.perf_counter()
            espeak_alone()
            e = time.perf_counter() - t
            ce = cpu_seconds() - c
            own, kids = cpu_parts()
            t = time.perf_counter()
            hocvu()
            h = time.perf_counter() - t
            own2, kids2 = cpu_parts()
            ch = own2 - own + kids2 - kids
            cpu_engine.append(kids2 - kids)
            cpu_own.append(own2 - own)
            pairs.append(h / e)
            cpu_pairs.append(ch / ce)
            cpu_ours.append(ch)
            cpu_theirs.append(ce)
            ours.append(h)
            theirs.append(e)
            t = time.perf_counter()
            spoken_ = lesson_speech(lesson, wpm, tts)
            speak_t.append(time.perf_counter() - t)
            speech = for_listening(spoken_, wpm) if spoken_ is not None else None  # as the MP3 says it
            t = time.perf_counter()
            from generator.machine import cpu_count

            if speech is None:
                raise SystemExit("espeak-ng gave no raw speech; install espeak-ng")
            encode_speech(speech, cpu_count())
            enc_t.append(time.perf_counter() - t)
        size = out.stat().st_size
        assert speech is not None
        pcm = b"".join(speech.clips)
        minutes = len(pcm) / 2 / speech.rate / 60
        dec = decode(out.read_bytes(), speech.rate, "mp3")
        ours_q = quality(pcm, dec, speech.rate, SPEECH.gain)

    rows = []
    gains: list[float] = []
    for (name, fmt, secs, data), gain in zip(candidates(pcm, speech.rate, gains), gains, strict=True):
        q = quality(pcm, decode(data, speech.rate, fmt), speech.rate, gain)
        rows.append((name, secs, len(data) / minutes / 1e6, q, passes(q)))
    chosen = label(SPEECH)
    passing = sorted((r for r in rows if r[4] and r[0].startswith("MP3")), key=lambda r: (round(r[2], 2), r[1]))
    table = "\n".join(
        f"| {name}{' **(chosen)**' if name == chosen else ''} | {secs * 1000:.0f} ms | {mb:.2f} MB | "
        f"{q['duration_ms']:+.0f} ms | {q['clipped']} | {q['lsd_db']:.2f} dB | {q['hf_kept'] * 100:.0f} % | "
        f"{'yes' if ok else 'no'} |" for name, secs, mb, q, ok in rows)
    ratio = statistics.median(pairs)
    body = f"""Lesson vn-dcf-2025 {args.competence} level 1 for `{args.group}` (vi), drafted offline:
{len(lesson.narration)} characters of narration, {minutes:.1f} minutes of speech at {wpm} words a minute.
Command: `.venv/bin/python bench/bench_narration.py` ({args.n} pairs after a warm-up; {len(speech.clips)} sentences;
about {max(1, round((time.perf_counter() - started) / 60))} minutes here).

Method: "espeak-ng alone" is one `espeak-ng -v vi --stdout` process speaking the lesson's whole spoken text to WAV
(nothing encoded or written). hocvu's audio is `render_audio` as a build calls it: espeak-ng in chunks of whole
sentences on parallel processes, cut into sentence clips, each chunk MP3-encoded on a thread as soon as it is
spoken ({SPEECH.kbps} kbit/s mono at espeak-ng's {speech.rate} Hz, LAME quality {SPEECH.quality}, gain
{SPEECH.gain:g}), ID3-tagged, written atomically. The two run in turn; the ratio is the median of the pairs'
ratios. CPU time (this process's threads and its finished children, getrusage) is the load-independent
view: on {os.cpu_count()} idle cores the wall ratio can approach half of it, since speaking and encoding
overlap. The two stages below are timed apart (not overlapped) to show where the time goes. Load average while
measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (other engineers' jobs share them).

| measure | value | goal |
|---|---|---|
| hocvu's audio ÷ espeak-ng alone | {ratio:.2f}× | ≤ 1.5× ({'met' if ratio <= 1.5 else 'not met'}) |
| hocvu's audio (median) | {statistics.median(ours) * 1000:.0f} ms | |
| espeak-ng alone (median) | {statistics.median(theirs) * 1000:.0f} ms | |
| CPU time: hocvu's audio ÷ espeak-ng alone | {statistics.median(cpu_pairs):.2f}× \
({statistics.median(cpu_ours) * 1000:.0f} ÷ {statistics.median(cpu_theirs) * 1000:.0f} ms) | |
| of hocvu's CPU: espeak-ng processes / this process (LAME, Python) | \
{statistics.median(cpu_engine) * 1000:.0f} ms / {statistics.median(cpu_own) * 1000:.0f} ms | |
| of hocvu's: speaking (all sentences, chunks in parallel) | {statistics.median(speak_t) * 1000:.0f} ms | |
| of hocvu's: MP3 encoding (parallel segments) | {statistics.median(enc_t) * 1000:.0f} ms | |
| MP3 size per minute of speech | {size / minutes / 1e6:.3f} MB ({size / minutes / 1024:.0f} KiB) | |
| the file's check: duration, clipped samples, spectral distance, 4–8 kHz kept | \
{ours_q['duration_ms']:+.0f} ms, {ours_q['clipped']}, {ours_q['lsd_db']:.2f} dB, {ours_q['hf_kept'] * 100:.0f} % | |

The video takes the same spoken sentences (made once per lesson in a render and shared through the
render context), so a build with audio and video speaks the narration once.

Listening-quality check (the whole lesson's speech encoded alone, one stream, median of 3 encodes; pass: duration
within {LIMITS['duration_ms']:.0f} ms, no clipped sample, log-spectral distance ≤ {LIMITS['lsd_db']:.0f} dB over
0–8 kHz, ≥ {LIMITS['hf_kept'] * 100:.0f} % of the 4–8 kHz energy kept). Smallest passing MP3: {passing[0][0] if
passing else 'none'}. MP3 stays the download format (every phone and LMS plays it); Opus is listed for comparison
(smaller, but slower here through ffmpeg, and not playable everywhere a learner downloads).

| candidate | encode | per minute | duration | clipped | spectral distance | 4–8 kHz kept | passes |
|---|---|---|---|---|---|---|---|
{table}
"""
    print(body)
    if not args.no_write:
        write_section("Narration: audio time and size", body)


if __name__ == "__main__":
    main()
