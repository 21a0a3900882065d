"""Putting a search query into the language of the sources, so a Vietnamese question finds an English
report and back.

A multilingual embedder matches across languages, but less surely than within one, and keyword search
cannot at all. So a search over sources in another language than the question also runs with the
question in the sources' language, and the rankings are fused (``SourceStore.search``).

- A lesson's query needs no translator: the framework writes each competence name, descriptor and
  group situation in both languages, so ``query.build_queries`` gives the query in each language.
- A free question (``hocvu sources search``) is translated by the model backend's chat model
  (``ChatTranslator``, one short request per search). Offline, ``terms.TermTranslator`` gives the
  question's key terms in the other language, learned from the content library's ~29,000 aligned
  Vietnamese/English texts; its terms add a keyword ranking to the fusion (cross-lingual recall@3 on
  the test questions 0.62 → 0.81; see ``terms`` for why a first word table lowered it).

A translator may say ``terms_only = True`` (it gives terms, not a sentence: keyword ranking only) and a
``weight`` for its rankings in the fusion (1.0 when it says nothing).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol, runtime_checkable

__all__ = ["ChatTranslator", "QueryTranslator", "make_translator"]

LANG_NAMES = {"vi": "Vietnamese", "en": "English"}


@runtime_checkable
class QueryTranslator(Protocol):
    """Translates a search query; None when it cannot."""

    name: str

    def translate(self, text: str, source: str, target: str) -> str | None:
        """``text`` (in language ``source``) in language ``target``, or None."""
        ...


class ChatTranslator:
    """Translation by a langchain chat model (the openai backend's ``chat()``)."""

    name = "model"
    terms_only = False
    weight = 1.0

    def __init__(self, chat: Any) -> None:
        self.chat = chat

    def translate(self, text: str, source: str, target: str) -> str | None:
        """One request: the query in ``target``, nothing else; BackendError when the request fails."""
        from langchain_core.messages import HumanMessage, SystemMessage

        from generator.errors import BackendError

        system = (
            f"Translate the user's search query from {LANG_NAMES.get(source, source)} to "
            f"{LANG_NAMES.get(target, target)}. Reply with the translation only, no quotes, no notes."
        )
        try:
            reply = self.chat.invoke([SystemMessage(system), HumanMessage(text)])
        except Exception as exc:  # noqa: BLE001 - the client's errors are many; one error of ours
            raise BackendError("could not translate the query: {kind}: {problem}", kind=type(exc).__name__,
                               problem=str(exc)[:150]) from exc
        out = str(getattr(reply, "content", "") or "").strip().strip('"“”')
        return out or None


def make_translator(backend: Any, library: Any = None, cache_dir: Path | None = None) -> QueryTranslator:
    """A translator through the backend's chat model when it has one (capability ``chat()``), else the
    offline term translator over ``library`` (the frameworks' library; its pairs cached in ``cache_dir``)."""
    chat = getattr(backend, "chat", None)
    if callable(chat):
        return ChatTranslator(chat())
    from generator.retrieval.terms import TermTranslator

    return TermTranslator(library, cache_dir=cache_dir)
