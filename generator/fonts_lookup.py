"""Find a font that renders Vietnamese: Be Vietnam Pro from its PyPI package, else DejaVu Sans."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

DEJAVU = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/dejavu/DejaVuSans.ttf"),
)


@lru_cache(maxsize=1)
def find_font() -> Path | None:
    """Path of a regular-weight TTF/OTF that covers Vietnamese, or None."""
    import importlib.util

    spec = importlib.util.find_spec("fontpkg_be_vietnam_pro")
    if spec and spec.submodule_search_locations:
        for base in spec.submodule_search_locations:
            fonts = sorted(Path(base).rglob("*.[ot]tf"))
            regular = [f for f in fonts if "Regular" in f.name and "Italic" not in f.name]
            if regular or fonts:
                return (regular or fonts)[0]
    return next((p for p in DEJAVU if p.exists()), None)
