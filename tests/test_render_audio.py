"""Narration: real espeak-ng, decoded and timed; gTTS against a loopback server (the real endpoint is
unreachable here): success, 429 then success, unreachable with and without the fallback, empty audio."""

from __future__ import annotations

import base64
import http.server
import shutil
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from mutagen.id3 import ID3

from generator.config import Settings
from generator.errors import RenderError
from generator.lesson import count_words
from generator.render.audio import render_audio
from generator.render.mp3 import Mp3Settings, encode_pcm
from generator.render.tts import GTTS, EspeakTTS, make_tts, split_script
from tests.lesson_samples import en_lesson, sample_group, vi_lesson
from tests.support.fakes import FakeTTS

_MP3_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}
_MP3_KBPS = {
    3: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    2: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}


def mp3_duration(data: bytes) -> float:
    """Seconds of audio, by walking every MPEG layer III frame header (fails on a broken stream)."""
    pos = 0
    if data[:3] == b"ID3":
        size = data[6:10]
        pos = 10 + (size[0] << 21 | size[1] << 14 | size[2] << 7 | size[3])
    samples, rate, frames = 0, 0, 0
    while pos + 4 <= len(data) and data[pos : pos + 3] != b"TAG":
        h = int.from_bytes(data[pos : pos + 4], "big")
        assert h >> 21 == 0x7FF, f"lost MP3 frame sync at byte {pos}"
        version, layer = (h >> 19) & 3, (h >> 17) & 3
        assert layer == 1, "not layer III"
        kbps = _MP3_KBPS[3 if version == 3 else 2][(h >> 12) & 0xF]
        rate = _MP3_RATES[version][(h >> 10) & 3]
        per_frame = 1152 if version == 3 else 576
        pos += (144 if version == 3 else 72) * kbps * 1000 // rate + ((h >> 9) & 1)
        samples += per_frame
        frames += 1
    assert frames > 0
    return samples / rate


def silent_mp3(seconds: float = 0.5) -> bytes:
    return encode_pcm(bytes(2 * int(16000 * seconds)), 16000, Mp3Settings(32, 7))


# -- espeak-ng ------------------------------------------------------------------------------------
needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")


@needs_espeak
@pytest.mark.parametrize("make", [vi_lesson, en_lesson])
def test_espeak_narration_lasts_as_long_as_the_script(tmp_path: Path, make) -> None:  # type: ignore[no-untyped-def]
    lesson, group = make(), sample_group(speech_rate_wpm=130)
    out = tmp_path / "out" / "narration.mp3"
    assert render_audio(lesson, group, out, EspeakTTS()) == []
    data = out.read_bytes()
    seconds = mp3_duration(data)
    expected = 60 * count_words(lesson.narration) / 130
    assert 0.7 * expected <= seconds <= 1.4 * expected, (seconds, expected)
    tags = ID3(out)
    assert tags["TIT2"].text == [lesson.title]
    assert tags["TLAN"].text == [{"vi": "vie", "en": "eng"}[lesson.language]]
    assert [p.name for p in out.parent.iterdir()] == ["narration.mp3"]  # no temporary file left


@needs_espeak
def test_espeak_speaks_long_scripts_in_chunks(tmp_path: Path) -> None:
    text = " ".join(["Mã OTP chỉ dùng một lần và chỉ dành cho chính bạn."] * 30)
    assert len(split_script(text, 600)) > 1
    out = tmp_path / "long.mp3"
    EspeakTTS(chunk_chars=600).synthesize(text, "vi", 130, out)
    assert 0.7 * 60 * count_words(text) / 130 <= mp3_duration(out.read_bytes())


def test_missing_espeak_says_how_to_install_it(tmp_path: Path) -> None:
    with pytest.raises(RenderError, match="apt-get install espeak-ng"):
        EspeakTTS(binary="no-such-espeak").synthesize("Xin chào.", "vi", 130, tmp_path / "x.mp3")
    assert not (tmp_path / "x.mp3").exists()


def test_split_script_keeps_sentences_whole() -> None:
    text = "Câu một ngắn. Câu hai cũng ngắn! Câu ba? " + "từ " * 80
    chunks = split_script(text, 36)
    assert chunks[0] == "Câu một ngắn. Câu hai cũng ngắn!"
    assert all(len(c) <= 36 for c in chunks)
    assert " ".join(chunks).split() == text.split()


# -- gTTS through a loopback server ---------------------------------------------------------------
class _TTSServer(http.server.ThreadingHTTPServer):
    """Answers gTTS's batchexecute POSTs from a script of statuses; 200 returns ``audio``."""

    def __init__(self, script: list[int], audio: bytes) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.script = script
        self.audio = audio
        self.requests = 0


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _TTSServer

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        srv = self.server
        status = srv.script[min(srv.requests, len(srv.script) - 1)]
        srv.requests += 1
        if status != 200:
            self.send_response(status)
            self.send_header("Retry-After", "0")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        b64 = base64.b64encode(srv.audio).decode("ascii")
        line = (
            ')]}\'\n\n[["wrb.fr","jQ1olc","[\\"' + b64 + '\\"]",null,null,null,"generic"]]\n'
            if srv.audio
            else ')]}\'\n\n[["wrb.fr","other",null]]\n'
        )
        body = line.encode("utf-8")
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def _point_gtts_at(monkeypatch: pytest.MonkeyPatch, base: str) -> None:
    import gtts.tts

    monkeypatch.setattr(gtts.tts, "_translate_url", lambda tld="com", path="": f"{base}/{path}")
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


@pytest.fixture
def tts_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[_TTSServer]:
    """A loopback stand-in for the Google TTS endpoint; set ``.script`` to the statuses to answer."""
    srv = _TTSServer([200], silent_mp3())
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    _point_gtts_at(monkeypatch, f"http://127.0.0.1:{srv.server_address[1]}")
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.fixture
def closed_port(monkeypatch: pytest.MonkeyPatch) -> None:
    """Point gTTS at a loopback port nobody listens on (connection refused at once)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    _point_gtts_at(monkeypatch, f"http://127.0.0.1:{port}")


def test_gtts_success_writes_tagged_audio(tmp_path: Path, tts_server: _TTSServer) -> None:
    out = tmp_path / "narration.mp3"
    assert render_audio(vi_lesson(), sample_group(), out, GTTS(timeout=5)) == []
    assert tts_server.requests >= 1
    assert mp3_duration(out.read_bytes()) >= 0.4 * tts_server.requests
    assert ID3(out)["TLAN"].text == ["vie"]


def test_gtts_backs_off_on_429_then_succeeds(tmp_path: Path, tts_server: _TTSServer) -> None:
    tts_server.script = [429, 429, 200]
    waits: list[float] = []
    tts = GTTS(timeout=5, backoff=0.01, sleep=waits.append)
    tts.synthesize("Xin chào các bác.", "vi", 130, tmp_path / "a.mp3")
    assert tts_server.requests == 3
    assert waits == [0.01, 0.02]  # exponential; the server's Retry-After: 0 asks for no longer
    assert (tmp_path / "a.mp3").stat().st_size > 0
    assert tts.notes == []


def test_gtts_keeps_refusing_falls_back_and_says_so(tmp_path: Path, tts_server: _TTSServer) -> None:
    tts_server.script = [429]
    fallback = FakeTTS()
    tts = GTTS(timeout=5, fallback=fallback, retries=2, backoff=0.0, sleep=lambda s: None)
    notes = render_audio(vi_lesson(), sample_group(), tmp_path / "n.mp3", tts)
    assert tts_server.requests == 3
    assert fallback.calls and notes == ["narration: gTTS unreachable (HTTP 429), used fake"]


def test_gtts_unreachable_falls_back_to_espeak_settings(tmp_path: Path, closed_port: None) -> None:
    tts = make_tts(Settings(tts="gtts", tts_timeout=2))
    assert isinstance(tts, GTTS) and isinstance(tts.fallback, EspeakTTS)
    tts.fallback = FakeTTS()  # the fallback path, without spending time in espeak-ng
    notes = render_audio(en_lesson(), sample_group(), tmp_path / "n.mp3", tts)
    assert notes == ["narration: gTTS unreachable (no connection), used fake"]
    assert (tmp_path / "n.mp3").stat().st_size > 0


def test_gtts_unreachable_without_fallback_is_a_clear_error(tmp_path: Path, closed_port: None) -> None:
    tts = make_tts(Settings(tts="gtts", tts_fallback=False, tts_timeout=2))
    out = tmp_path / "out" / "n.mp3"
    with pytest.raises(RenderError, match="gTTS is unreachable .*HOCVU_TTS=espeak"):
        render_audio(vi_lesson(), sample_group(), out, tts)
    assert list(out.parent.iterdir()) == []  # neither a 0-byte narration nor a temporary file


def test_gtts_empty_answer_never_leaves_a_0_byte_file(tmp_path: Path, tts_server: _TTSServer) -> None:
    tts_server.audio = b""
    with pytest.raises(RenderError, match="no audio"):
        GTTS(timeout=5).synthesize("Xin chào.", "vi", 130, tmp_path / "a.mp3")
    assert not (tmp_path / "a.mp3").exists()


def test_fake_tts_duration_follows_the_word_count(tmp_path: Path) -> None:
    out = tmp_path / "n.mp3"
    render_audio(vi_lesson(), sample_group(speech_rate_wpm=100), out, FakeTTS())
    from generator.render.speech import spoken

    said = spoken(vi_lesson().narration, "vi")  # what is spoken: "OTP" is three syllables, "ô tê pê"
    assert mp3_duration(out.read_bytes()) == pytest.approx(60 * count_words(said) / 100, rel=0.05)
