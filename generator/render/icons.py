"""Icons for key points and tips, from the Lucide icon set (ISC licence) that the ``lucide`` package ships,
drawn to PNG by resvg (``resvg-py``: no system libraries, no downloads).

    icon_png("tip_safety", "#0B3D91", 96)   # PNG bytes of a shield with a tick

Which icon means what is decided here, once, for every format; the credit line goes with the output.
"""

from __future__ import annotations

from functools import lru_cache

#: The meaning -> the Lucide icon that shows it.
ICONS: dict[str, str] = {
    "key_point": "lightbulb",
    "tip_safety": "shield-check",
    "tip_mistake": "circle-x",
    "tip_access": "accessibility",
    "practice": "hand",
    "example": "message-circle",
}
CREDIT = {"vi": "Biểu tượng: Lucide (lucide.dev), giấy phép ISC.", "en": "Icons: Lucide (lucide.dev), ISC licence."}


@lru_cache(maxsize=1)
def _zip() -> object:
    import importlib.resources
    import zipfile

    return zipfile.ZipFile(importlib.resources.files("lucide").joinpath("lucide.zip").open("rb"))


@lru_cache(maxsize=64)
def icon_svg(meaning: str, colour: str) -> str:
    """The SVG of the icon for ``meaning`` drawn in ``colour``."""
    name = ICONS.get(meaning, meaning)
    svg = _zip().read(f"{name}.svg").decode("utf-8")  # type: ignore[attr-defined]
    return svg.replace("currentColor", colour)


@lru_cache(maxsize=64)
def icon_png(meaning: str, colour: str, size: int = 96) -> bytes:
    """The icon for ``meaning`` as a ``size``-pixel square PNG."""
    import resvg_py

    return bytes(resvg_py.svg_to_bytes(svg_string=icon_svg(meaning, colour), width=size, height=size))
