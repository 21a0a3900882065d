"""The narration (.mp3): the lesson's narration script through the context's TTS backend, tagged with
ID3 title and language (mutagen), at the group's speech rate."""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from generator.errors import RenderError
from generator.fsutil import write_bytes_atomic
from generator.render.base import RenderContext, format_spec
from generator.render.narration import SpeechCache, lesson_mp3
from generator.render.tts import TTSBackend, take_notes

if TYPE_CHECKING:
    from generator.lesson import Lesson
    from generator.schema import TargetGroup

#: ISO 639-2 codes, as ID3's TLAN frame wants them.
ID3_LANGS = {"vi": "vie", "en": "eng"}


def tag_mp3(data: bytes, lesson: Lesson) -> bytes:
    """``data`` with ID3v2.4 tags: title, language, artist, album (the competence), genre, encoder."""
    from mutagen.id3 import ID3, TALB, TCON, TENC, TIT2, TLAN, TPE1

    tags = ID3()
    tags.add(TIT2(encoding=3, text=lesson.title))
    tags.add(TLAN(encoding=3, text=ID3_LANGS.get(lesson.language, lesson.language)))
    tags.add(TPE1(encoding=3, text="Bình dân học vụ số"))
    tags.add(TALB(encoding=3, text=f"{lesson.framework} {lesson.competence} L{lesson.level}"))
    tags.add(TCON(encoding=3, text="Speech"))
    tags.add(TENC(encoding=3, text="hocvu"))
    buf = io.BytesIO(data)
    tags.save(buf)
    return buf.getvalue()


def render_audio(lesson: Lesson, group: TargetGroup, path: Path, tts: TTSBackend,
                 cache: SpeechCache | None = None) -> list[str]:
    """Speak the narration into ``path``; returns the backend's notes (e.g. a fallback it used).

    A backend that returns raw speech (espeak-ng) is spoken through ``lesson_mp3`` (the speech shared
    with the video through ``cache``, encoded while it is spoken); others write their own MP3."""
    text = lesson.narration.strip()
    if not text:
        raise RenderError("the lesson has no narration; draft it again or leave 'audio' out of --formats")
    path.parent.mkdir(parents=True, exist_ok=True)
    rate = group.accessibility.speech_rate_wpm
    from generator.machine import cpu_count

    data = lesson_mp3(lesson, rate, tts, cache, workers=cpu_count())
    if data is not None:
        if not data:
            raise RenderError("{engine} produced no audio; try again or choose another engine (HOCVU_TTS)",
                              engine=tts.name)
        write_bytes_atomic(path, tag_mp3(data, lesson))
        return take_notes(tts)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tts", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        from generator.render.speech import spoken

        tts.synthesize(spoken(text, lesson.language), lesson.language, rate, tmp)
        data = tmp.read_bytes()
        notes = take_notes(tts)
        if not data:
            raise RenderError("{name} produced no audio; try again or choose another engine (HOCVU_TTS)",
                              name=tts.name)
        write_bytes_atomic(path, tag_mp3(data, lesson))
    finally:
        tmp.unlink(missing_ok=True)
    return notes


class AudioRenderer:
    """Narration (.mp3) through the context's TTS backend."""

    format = "audio"
    suffix = ".mp3"

    def render(self, lesson: Lesson, group: TargetGroup, out_dir: Path, ctx: RenderContext) -> Path:
        """Write ``narration.mp3`` in ``out_dir`` and record the backend's notes in ``ctx.notes``."""
        if ctx.tts is None:
            raise RenderError("no TTS engine was given; set HOCVU_TTS to 'espeak' or 'gtts'")
        path = out_dir / format_spec(self.format).file
        ctx.notes.extend(render_audio(lesson, group, path, ctx.tts, ctx.speech))
        return path
