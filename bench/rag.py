"""Retrieval quality and speed: the shipped evaluation per embedder, ingestion throughput,
and search latency over 50,000 chunks. Prints its figures.

    .venv/bin/python bench/rag.py                        # SQLite (a scratch file)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/coach_bench_rag .venv/bin/python bench/rag.py

Runs on a scratch test database (created and dropped, like the test suite's), with the
embedded default embedder. Quality: recall@5 and MRR of lexical search alone, each dense
embedder alone, and the two fused (hybrid), over the 44 questions of
documents/tests/eval, searching all three documents at once, at the default chunk size
and at 300 characters (smaller chunks make the task harder). Speed: 1 MB of plain text
and a 50-page PDF parsed, chunked, embedded and indexed; then 20 documents of 2,500
chunks (~700 characters of text drawn from the evaluation's vocabulary, random unit
vectors) searched by the evaluation's questions, p50/p95 of lexical, dense and the whole
hybrid search.
"""

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chunks", type=int, default=50_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--skip-ingestion", action="store_true")
    parser.add_argument(
        "--corpus",
        choices=("zipf", "eval-words"),
        default="zipf",
        help="zipf: words of a 20,000-word vocabulary with Zipf frequencies (the evaluation's "
        "words among them); eval-words: only the evaluation's ~540 words, so every query "
        "word matches most chunks (a worst case for lexical search)",
    )
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    from bench.common import learner, scratch_databases

    with scratch_databases("rag"):
        from django.conf import settings
        from django.db import connection

        print(f"database: {connection.vendor}")
        owner = learner()
        if not args.skip_quality:
            quality(owner, settings)
        if not args.skip_ingestion:
            ingestion(owner)
        turn_overhead(owner)
        latency(owner, args.chunks, args.queries, args.corpus)


# --- Quality ----------------------------------------------------------------------------


def quality(owner, settings) -> None:
    from documents.models import Document
    from documents.testing import evaluation

    print("\nretrieval evaluation: 3 documents, 44 questions; recall@5 / MRR")
    for size, overlap in (
        (settings.DOCUMENT_CHUNK_CHARS, settings.DOCUMENT_CHUNK_OVERLAP),
        (300, 50),
    ):
        settings.DOCUMENT_CHUNK_CHARS, settings.DOCUMENT_CHUNK_OVERLAP = size, overlap
        Document.objects.filter(owner=owner).delete()
        documents = evaluation.index_corpus(owner)
        chunks = sum(d.chunks.count() for d in documents.values())
        print(f"  chunks of {size} characters ({chunks} chunks)")
        rankers = {
            "wordllama (embedded default)": evaluation.stored_ranker(list(documents.values())),
            "tfidf char 3-5": evaluation.sklearn_ranker(list(documents.values()), "tfidf-char"),
            "tfidf words": evaluation.sklearn_ranker(list(documents.values()), "tfidf-word"),
            "lsa (tfidf words + svd)": evaluation.sklearn_ranker(list(documents.values()), "lsa"),
        }
        lexical_shown = False
        for name, ranker in rankers.items():
            scores = evaluation.evaluate(documents, ranker)
            if not lexical_shown:
                print(f"    {'lexical alone':30} {fmt(scores['lexical'])}")
                lexical_shown = True
            print(f"    {name:30} dense {fmt(scores['dense'])}   hybrid {fmt(scores['hybrid'])}")
        recall, empty = evaluation.product_scores(owner, documents)
        print(
            f"    product search (hybrid + relevance floor): recall@5 {recall:.3f}, "
            f"nothing found for {empty:.0%} of 10 unanswerable questions"
        )
    settings.DOCUMENT_CHUNK_CHARS, settings.DOCUMENT_CHUNK_OVERLAP = 800, 120


def fmt(scores) -> str:
    return f"{scores.recall:.3f} / {scores.mrr:.3f}"


# --- Ingestion --------------------------------------------------------------------------


def sentences() -> list[str]:
    import re

    from documents.testing import evaluation

    text = " ".join(
        evaluation.flat(data.decode("utf-8", "ignore"))
        for name, (_, data) in evaluation.corpus().items()
        if name != "textbook"
    )
    text = re.sub(r"<[^>]+>", " ", text)
    return [s.strip() + "." for s in text.split(". ") if len(s.strip()) > 20]


def varied_text(size: int, seed: int = 0) -> str:
    rng = random.Random(seed)
    pool = sentences()
    parts, length, n = [], 0, 0
    while length < size:
        n += 1
        paragraph = " ".join(rng.choice(pool) for _ in range(4)) + f" (note {n})"
        parts.append(paragraph)
        length += len(paragraph) + 2
    return "\n\n".join(parts)[:size]


def ingestion(owner) -> None:
    from documents import indexing, services
    from documents.testing.pdf import build_pdf

    print("\ningestion (parse, chunk, embed, index)")
    data = varied_text(1024 * 1024).encode()
    start = time.perf_counter()
    document, _ = services.document_upload(owner=owner, filename="big.txt", data=data)
    count = indexing.document_index(document=document)
    seconds = time.perf_counter() - start
    print(
        f"  1 MB plain text: {seconds:.2f} s, {len(data) / seconds / 1e6:.2f} MB/s, {count} chunks"
    )

    pages = [[varied_text(2200, seed=page)] for page in range(50)]
    pdf = build_pdf(pages, title="Fifty pages")
    start = time.perf_counter()
    document, _ = services.document_upload(owner=owner, filename="fifty.pdf", data=pdf)
    count = indexing.document_index(document=document)
    seconds = time.perf_counter() - start
    print(f"  50-page PDF ({len(pdf) // 1024} KB): {seconds:.2f} s, {count} chunks")


# --- A rag turn over an open one -------------------------------------------------------


def turn_overhead(owner) -> None:
    """What a rag turn adds before the model is called: building its prompt (retrieval,
    fencing) against an open turn's, per learner message of the evaluation."""
    from conversations import context
    from conversations.services import conversation_create
    from documents.models import Document
    from documents.testing import evaluation

    Document.objects.filter(owner=owner).delete()
    ids = [d.pk for d in evaluation.index_corpus(owner).values()]
    timings: dict[str, list[float]] = {"open": [], "rag": []}
    for question in evaluation.questions():
        for mode in ("open", "rag"):
            conversation = conversation_create(
                owner=owner, text=question.q, mode=mode, document_ids=ids if mode == "rag" else []
            )
            reply = conversation.messages.get(seq=2)
            context.prepare(reply)  # warm caches (profile, vectors)
            begin = time.perf_counter()
            context.prepare(reply)
            timings[mode].append((time.perf_counter() - begin) * 1000)
    print("\nprompt building before the first token (context.prepare), 44 questions")
    for mode, values in timings.items():
        p50, p95 = percentile(values, 50), percentile(values, 95)
        print(f"  {mode:5} p50 {p50:6.2f} ms   p95 {p95:6.2f} ms")
    added = [r - o for r, o in zip(timings["rag"], timings["open"], strict=True)]
    print(f"  added by rag: p50 {percentile(added, 50):.2f} ms, p95 {percentile(added, 95):.2f} ms")


# --- Latency ----------------------------------------------------------------------------


def chunk_words(corpus: str):
    """A function giving the words of one synthetic chunk."""
    from documents.testing import evaluation

    words = sorted(set(evaluation.flat(" ".join(sentences())).replace(".", "").split()))
    rng = random.Random(0)
    if corpus == "eval-words":
        return lambda: rng.choices(words, k=110)
    vocabulary = words + [f"w{n}" for n in range(20_000 - len(words))]
    rng.shuffle(vocabulary)
    weights = [1 / (rank + 1) ** 1.07 for rank in range(len(vocabulary))]
    return lambda: rng.choices(vocabulary, weights=weights, k=110)


def latency(owner, total: int, queries: int, corpus: str) -> None:
    import numpy as np
    from django.utils import timezone

    import llm
    from documents import search
    from documents.models import Chunk, Document
    from documents.testing import evaluation

    documents_count = 20
    per_document = total // documents_count
    rng = np.random.default_rng(0)
    draw = chunk_words(corpus)
    start = time.perf_counter()
    documents = []
    for n in range(documents_count):
        document = Document.objects.create(
            owner=owner,
            title=f"Bulk {n}",
            filename=f"bulk{n}.txt",
            content_type="text",
            sha256=f"bulk{n:060d}",
            size=0,
            data=b"",
            indexed_at=timezone.now(),
        )
        vectors = rng.standard_normal((per_document, 256)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        Chunk.objects.bulk_create(
            [
                Chunk(
                    document=document,
                    ordinal=i,
                    text=" ".join(draw()),
                    char_start=0,
                    char_end=0,
                    vector=vectors[i].tobytes(),
                )
                for i in range(per_document)
            ],
            batch_size=1000,
        )
        documents.append(document)
    print(
        f"\nlatency over {total:,} chunks in {documents_count} documents "
        f"(built in {time.perf_counter() - start:.1f} s)"
    )
    settle_database()
    ids = [d.pk for d in documents]
    questions = [q.q for q in evaluation.questions()] + evaluation.unanswerable()
    asked = [questions[i % len(questions)] for i in range(queries)]

    start = time.perf_counter()
    blocks = [search.vectors_for(d) for d in documents]
    print(f"  vectors loaded into the cache once: {time.perf_counter() - start:.2f} s")

    def timed(fn) -> list[float]:
        fn(asked[0])  # warm
        out = []
        for query in asked:
            begin = time.perf_counter()
            fn(query)
            out.append((time.perf_counter() - begin) * 1000)
        return out

    vectors = {q: llm.embed([q])[0] for q in set(asked)}
    rows = {
        "lexical (database full-text search)": timed(lambda q: search.lexical_search(q, ids, 30)),
        "dense: cosine top-30 (query embedded)": timed(lambda q: dense(vectors[q], blocks)),
        "dense: embed the query": timed(lambda q: llm.embed([q])),
        "hybrid search, end to end": timed(lambda q: search.search(query=q, documents=documents)),
    }
    for name, values in rows.items():
        p50, p95 = percentile(values, 50), percentile(values, 95)
        print(f"  {name:40} p50 {p50:6.2f} ms   p95 {p95:6.2f} ms")


def settle_database() -> None:
    """Analyse and checkpoint after the bulk load, as a database that has been running
    would be: otherwise autovacuum and the checkpointer take the CPU the searches are
    timed on (dense search, which never touches the database, measured twice as slow)."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("VACUUM ANALYZE documents_chunk")
            cursor.execute("CHECKPOINT")
        else:
            cursor.execute("ANALYZE")


def dense(vector, blocks):
    from documents import retrieval

    return retrieval.dense_top(vector, blocks, 30)


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


if __name__ == "__main__":
    main()
