"""Video (``lesson.mp4``): the slide deck narrated, with captions — for learners who watch rather than read.

Each slide is drawn to a 1280×720 picture from the same slide plan as the deck (``plan_slides``: the same
titles, paragraphs, sizes and step pictures), and shown for as long as its own narration lasts. Every
narration sentence is spoken on its own by the TTS backend (after ``speech.spoken``), so the captions
carry real timings: ``captions.vtt`` and ``captions.srt`` beside the video, soft subtitles (mov_text)
inside it, and burned in when the group's profile asks (deaf learners). Chapters follow the lesson's
parts. ffmpeg (Debian's) encodes H.264 + AAC, small enough to stream on 4G.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator.children import run_helper
from generator.errors import RenderError
from generator.render.base import RenderContext, format_spec

if TYPE_CHECKING:
    from generator.lesson import Lesson
    from generator.render.narration import SpeechCache
    from generator.render.slide_plan import Placed, Theme
    from generator.render.tts import TTSBackend
    from generator.schema import TargetGroup

W, H = 1280, 720
GAP_S = 0.35  # silence after each sentence
TAIL_S = 1.0  # the last slide stays a moment after the last word
CHAPTERS = {"vi": {"title": "Mở đầu", "objectives": "Mục tiêu", "key_point": "Điều cần nhớ", "steps": "Các bước",
                   "step": "Các bước", "example": "Ví dụ", "practice": "Thực hành", "question": "Câu hỏi",
                   "answer": "Câu hỏi", "summary": "Tóm tắt"},
            "en": {"title": "Opening", "objectives": "Objectives", "key_point": "Key points", "steps": "Steps",
                   "step": "Steps", "example": "Example", "practice": "Practice", "question": "Quiz",
                   "answer": "Quiz", "summary": "Summary"}}


@dataclass(frozen=True)
class Cue:
    """One caption: a narration sentence and when it is said."""

    start: float
    end: float
    text: str


def _ts(t: float, sep: str) -> str:
    ms = round(t * 1000)
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def to_vtt(cues: list[Cue]) -> str:
    """WebVTT captions."""
    body = "\n".join(f"{_ts(c.start, '.')} --> {_ts(c.end, '.')}\n{c.text}\n" for c in cues)
    return "WEBVTT\n\n" + body


def to_srt(cues: list[Cue]) -> str:
    """SubRip captions."""
    return "\n".join(f"{i}\n{_ts(c.start, ',')} --> {_ts(c.end, ',')}\n{c.text}\n" for i, c in enumerate(cues, 1))


def _run(args: list[str], what: str) -> None:
    try:
        proc = run_helper(args, capture_output=True, timeout=600, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RenderError("{what} failed: {exc}; reinstall ffmpeg (apt-get install ffmpeg)",
                           what=what, exc=exc) from exc
    if proc.returncode != 0:
        tail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
        raise RenderError("{what} failed: {tail}", what=what, tail=' '.join(tail))


# -- slides as pictures -------------------------------------------------------------------------------
def draw_slide(pl: Placed, theme: Theme, n: int, total: int) -> Any:
    """One placed slide as a 1280×720 Pillow image (points × 4/3), as the deck shows it."""
    from PIL import Image, ImageDraw

    from generator.render.fit import LINE_EM, gap_pts, indent_pts
    from generator.render.fonts import text_measure
    from generator.render.pictures import font_at
    from generator.render.slide_plan import BAR_H, FOOTER_H, INSET_X, INSET_Y, MARGIN, SLIDE_W

    k = W / SLIDE_W
    img = Image.new("RGB", (W, H), "#" + theme.background)
    d = ImageDraw.Draw(img)
    m = text_measure()

    def px(v: float) -> int:
        return round(v * k)

    def text_block(x: float, y: float, w: float, paras: list[Any], size: float, colour: str,
                   centre: bool = False) -> None:
        for i, p in enumerate(paras):
            s = size * p.rel
            if i:
                y += gap_pts(p, size)
            ind = indent_pts(p, size)
            lines = m.wrap(p.text, s, (w - ind) * 0.98, p.bold)
            font = font_at(max(8, round(s * k)), p.bold)
            if p.kind in ("bullet", "number", "letter"):
                mark = "•" if p.kind == "bullet" else (f"{p.start}." if p.kind == "number" else f"{chr(64 + p.start)}.")
                d.text((px(x), px(y)), mark, font=font, fill="#" + theme.accent)
            for line in lines:
                lx = x + ind
                if centre:
                    lx = x + (w - m.width(line, s, p.bold)) / 2
                d.text((px(lx), px(y)), line, font=font, fill=colour)
                y += s * LINE_EM

    is_title = pl.spec.kind == "title"
    inner_w = SLIDE_W - 2 * MARGIN
    from generator.render.fit import Para

    text_block(MARGIN + INSET_X, pl.title_top + INSET_Y, inner_w - 2 * INSET_X, [Para(pl.title, bold=True)],
               pl.title_pt, "#" + theme.title, centre=is_title)
    bar_w = inner_w if is_title else 140.0
    bar_y = pl.title_top + pl.title_h + 6
    d.rectangle((px(MARGIN), px(bar_y), px(MARGIN + bar_w), px(bar_y + BAR_H)), fill="#" + theme.accent)
    body_w = (inner_w if is_title else pl.body_w) - 2 * INSET_X
    text_block(MARGIN + INSET_X, pl.body_top + INSET_Y, body_w, list(pl.page.paras), pl.page.size,
               "#" + theme.text, centre=is_title)
    if pl.spec.picture is not None and pl.picture_box is not None:
        import io

        x, y, w, h = pl.picture_box
        pic = Image.open(io.BytesIO(pl.spec.picture)).convert("RGB").resize((px(w), px(h)))
        img.paste(pic, (px(x), px(y)))
    d.text((W - px(MARGIN), px(540 - FOOTER_H / 2 - 6)), f"{n}/{total}", font=font_at(18), fill="#" + theme.text,
           anchor="rm")
    return img


# -- the video ----------------------------------------------------------------------------------------
def render_video(lesson: Lesson, group: TargetGroup, path: Path, tts: TTSBackend,
                 pictures: list[Any] | None = None, cache: SpeechCache | None = None) -> list[str]:
    """Write ``path`` (MP4) with ``captions.vtt`` and ``captions.srt`` beside it; returns notes.

    The narration comes from ``lesson_speech`` (spoken once, shared with the MP3 through ``cache``) when
    the engine returns raw speech; otherwise each sentence is spoken to MP3 and decoded."""
    from generator.render.narration import clips_by_sentence, lesson_speech
    from generator.render.slide_plan import Theme, assign_narration, plan_slides
    from generator.render.speech import spoken
    from generator.render.tts import take_notes

    if shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None:
        raise RenderError("ffmpeg is not installed; install it with 'apt-get install ffmpeg' or leave 'video' "
                          "out of --formats")
    placed = plan_slides(lesson, group, pictures)
    theme = Theme.for_group(group)
    texts = [pl.title + " " + " ".join(p.text for p in pl.page.paras) for pl in placed]
    said = assign_narration(lesson.narration, texts)
    rate = group.accessibility.speech_rate_wpm
    lang = lesson.language
    speech = lesson_speech(lesson, rate, tts, cache)
    clips = clips_by_sentence(lesson, speech) if speech is not None else {}
    hz = speech.rate if speech is not None else RATE
    with tempfile.TemporaryDirectory(prefix=".video-", dir=path.parent) as tmp_name:
        tmp = Path(tmp_name)
        cues: list[Cue] = []
        pcm = bytearray()
        image_list: list[tuple[Path, float]] = []
        chapters: list[tuple[float, float, str]] = []

        def pause(seconds: float) -> None:
            pcm.extend(bytes(2 * round(hz * seconds)))

        for n, (pl, sentences) in enumerate(zip(placed, said, strict=True), 1):
            start = len(pcm) / (2 * hz)
            img = tmp / f"slide-{n:02d}.png"
            draw_slide(pl, theme, n, len(placed)).save(img)
            if not sentences:
                pause(2.0)  # a slide nobody speaks about still shows long enough to read its title
            for j, sentence in enumerate(sentences):
                if sentence.strip() in ("", "…"):
                    pause(4 * GAP_S)  # the pause before a quiz answer: time to think
                    continue
                t0 = len(pcm) / (2 * hz)
                if speech is not None:
                    pcm.extend(clips[sentence].pop(0))
                else:
                    mp3 = tmp / f"s{n:02d}-{j:02d}.mp3"
                    tts.synthesize(spoken(sentence, lang), lang, rate, mp3)
                    pcm.extend(_pcm(mp3))
                cues.append(Cue(t0, len(pcm) / (2 * hz), sentence))
                pause(GAP_S)
            if n == len(placed):
                pause(TAIL_S)
            end = len(pcm) / (2 * hz)
            image_list.append((img, end - start))
            kind = CHAPTERS.get(lang, CHAPTERS["en"]).get(pl.spec.kind, pl.spec.kind)
            if chapters and chapters[-1][2] == kind:
                chapters[-1] = (chapters[-1][0], end, kind)
            else:
                chapters.append((start, end, kind))
        wav = tmp / "narration.wav"
        _write_wav(wav, bytes(pcm), hz)
        notes = take_notes(tts)
        # Whole frames at 8 fps, with the rounding carried on, so slides never drift from their narration.
        edges = [0.0]
        for _, d in image_list:
            edges.append(edges[-1] + d)
        frames = [round(e * FPS) for e in edges]
        shown = [(p, (frames[i + 1] - frames[i]) / FPS) for i, (p, _) in enumerate(image_list)]
        (tmp / "images.txt").write_text("".join(f"file '{p}'\nduration {d:.3f}\n" for p, d in shown)
                                        + f"file '{image_list[-1][0]}'\n", encoding="utf-8")
        vtt, srt = to_vtt(cues), to_srt(cues)
        (tmp / "captions.srt").write_text(srt, encoding="utf-8")
        meta = [";FFMETADATA1", f"title={lesson.title}"]
        for a, b, name in chapters:
            meta += ["[CHAPTER]", "TIMEBASE=1/1000", f"START={round(a * 1000)}", f"END={round(b * 1000)}",
                     f"title={name}"]
        (tmp / "meta.txt").write_text("\n".join(meta) + "\n", encoding="utf-8")
        vf = f"fps={FPS},format=yuv420p"
        if group.modality.captions_burned_in:
            from generator.render.fonts import find_font

            font = find_font()
            style = f"FontName={font.family},FontSize=22,Outline=2,BorderStyle=3,BackColour=&H80000000,MarginV=18"
            vf = (f"subtitles={tmp / 'captions.srt'}:fontsdir={font.regular.parent}:"
                  f"force_style='{style}',{vf}")
        out = tmp / "lesson.mp4"
        _run(["ffmpeg", "-v", "error", "-f", "concat", "-safe", "0", "-i", str(tmp / "images.txt"),
              "-i", str(wav), "-i", str(tmp / "captions.srt"), "-i", str(tmp / "meta.txt"),
              "-map", "0:v", "-map", "1:a", "-map", "2:s", "-map_metadata", "3", "-map_chapters", "3",
              "-vf", vf, "-c:v", "libx264", "-preset", "veryfast", "-tune", "stillimage", "-crf", "30",
              "-r", str(FPS), "-c:a", "aac", "-b:a", "64k", "-c:s", "mov_text",
              "-metadata:s:s:0", f"language={_iso3(lang)}", "-metadata:s:a:0", f"language={_iso3(lang)}",
              "-movflags", "+faststart", "-t", f"{len(pcm) / (2 * hz):.3f}", str(out)],
             "encoding the video")
        from generator.fsutil import write_bytes_atomic, write_text_atomic

        write_text_atomic(path.parent / "captions.vtt", vtt)
        write_text_atomic(path.parent / "captions.srt", srt)
        write_bytes_atomic(path, out.read_bytes())
    return notes


RATE = 24000  # narration sample rate (mono, 16-bit)
FPS = 8  # slides change only with the narration: 8 frames a second is plenty and keeps files small


def _pcm(mp3: Path) -> bytes:
    """A TTS file decoded to 24 kHz mono 16-bit PCM (so sentence timings are exact sample counts)."""
    try:
        proc = run_helper(["ffmpeg", "-v", "error", "-i", str(mp3), "-f", "s16le", "-ac", "1", "-ar",
                               str(RATE), "-"], capture_output=True, timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RenderError("decoding the narration failed: {exc}; reinstall ffmpeg", exc=exc) from exc
    if proc.returncode != 0 or not proc.stdout:
        raise RenderError("the TTS engine wrote no audio for a sentence ({name}); try again or set HOCVU_TTS",
                          name=mp3.name)
    return proc.stdout


def _write_wav(path: Path, pcm: bytes, rate: int = RATE) -> None:
    import wave

    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm)


def _iso3(lang: str) -> str:
    return {"vi": "vie", "en": "eng"}.get(lang, "und")


class VideoRenderer:
    """Narrated slide video (.mp4) with captions, through the context's TTS backend and ffmpeg."""

    format = "video"
    suffix = ".mp4"

    def render(self, lesson: Lesson, group: TargetGroup, out_dir: Path, ctx: RenderContext) -> Path:
        """Write ``lesson.mp4``, ``captions.vtt`` and ``captions.srt`` in ``out_dir``."""
        if ctx.tts is None:
            raise RenderError("no TTS engine was given; set HOCVU_TTS to 'espeak' or 'gtts'")
        path = out_dir / format_spec(self.format).file
        ctx.notes.extend(render_video(lesson, group, path, ctx.tts, ctx.pictures, ctx.speech))
        return path
