"""LibreOffice opens what we write: the handout, the guide and the slides convert to PDF without error,
and the PDF text keeps Vietnamese diacritics. One soffice run converts all three (a few seconds)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from generator.config import Settings
from generator.render import render_lesson
from tests.lesson_samples import long_lesson, sample_group, vi_lesson

pytestmark = pytest.mark.skipif(
    shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed"
)


def to_pdf(files: list[Path], out_dir: Path, home: Path) -> list[Path]:
    """Convert ``files`` with a headless soffice that has its own profile and HOME."""
    home.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation={home.as_uri()}/lo",
            "--headless",
            "--norestore",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out_dir),
            *map(str, files),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        env={"HOME": str(home), "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 0, proc.stderr
    pdfs = [out_dir / f"{f.stem}.pdf" for f in files]
    missing = [p.name for p in pdfs if not p.is_file() or p.stat().st_size == 0]
    assert not missing, f"soffice did not convert {missing}: {proc.stdout} {proc.stderr}"
    return pdfs


def pdf_text(pdf: Path) -> str:
    """The PDF's text, whitespace (line breaks included) collapsed to single spaces."""
    out = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    return " ".join(out.split())


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) is not installed")
def test_libreoffice_converts_handout_guide_and_slides(tmp_path: Path) -> None:
    lesson = vi_lesson()
    out = tmp_path / "out"
    result = render_lesson(lesson, sample_group(), out, ["handout", "guide", "slides"], Settings())
    (out / "long").mkdir()
    long = render_lesson(long_lesson(), sample_group(), out / "long", ["slides"], Settings())
    long_slides = out / "long-slides.pptx"
    long.files["slides"].rename(long_slides)
    files = [result.files["handout"], result.files["guide"], result.files["slides"], long_slides]
    handout, guide, slides, long_pdf = to_pdf(files, tmp_path / "pdf", tmp_path / "home")
    for pdf in (handout, guide, slides, long_pdf):
        text = pdf_text(pdf)
        assert "Giữ an toàn mã OTP" in text, pdf.name
    assert "Điều cần nhớ" in pdf_text(handout) and "Đáp án" in pdf_text(handout)
    assert "Kế hoạch buổi học" in pdf_text(guide)
    assert "Ngân hàng, công an, bưu điện không bao giờ hỏi mã OTP" in pdf_text(slides)
    from pptx import Presentation

    info = subprocess.run(["pdfinfo", str(slides)], capture_output=True, text=True, check=True).stdout
    pages = int(next(line.split()[1] for line in info.splitlines() if line.startswith("Pages:")))
    assert pages == len(Presentation(str(result.files["slides"])).slides)
