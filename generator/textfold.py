"""Text folded for search: lower case, diacritics removed, đ as d — so "an toan" finds "An toàn"."""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    """``text`` in lower case without diacritics (Vietnamese đ/Đ becomes d)."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
