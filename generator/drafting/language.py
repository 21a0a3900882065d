"""Language detection with lingua (Vietnamese vs English, the languages hocvu writes)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1)
def _detector() -> Any:
    from lingua import Language, LanguageDetectorBuilder

    # A few other languages a model might slip into, so a wrong-language reply is caught, not guessed.
    # Low-accuracy mode (trigrams only) is accurate on sentences and needs a tenth of the memory.
    return LanguageDetectorBuilder.from_languages(
        Language.VIETNAMESE, Language.ENGLISH, Language.FRENCH, Language.CHINESE, Language.THAI
    ).with_low_accuracy_mode().build()


def detect_language(text: str) -> str | None:
    """'vi', 'en', another ISO 639-1 code, or None when undecidable."""

    lang = _detector().detect_language_of(text)
    return lang.iso_code_639_1.name.lower() if lang else None
