"""The retrieval evaluation shipped with the tests: three documents (a Markdown study
sheet, a web article, a textbook chapter built as a real PDF) and 44 questions, each
with a passage that answers it. Used by the test suite's floor and by bench/rag.py.

A question is answered at k when one of the first k chunks contains its passage.
"""

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from documents import indexing, retrieval, search
from documents.models import Chunk, Document
from documents.testing.pdf import build_pdf

DATA = Path(__file__).resolve().parent.parent / "tests" / "eval"
K = 5

Ranker = Callable[[str], list[tuple[int, float]]]


@dataclass(frozen=True)
class Question:
    doc: str
    q: str
    a: str


def corpus() -> dict[str, tuple[str, bytes]]:
    """name -> (filename, bytes) of the evaluation's documents."""
    book = json.loads((DATA / "textbook.json").read_text())
    return {
        "grammar": ("tenses.md", (DATA / "grammar.md").read_bytes()),
        "article": ("sleep.html", (DATA / "article.html").read_bytes()),
        "textbook": ("chapter4.pdf", build_pdf(book["pages"], title=book["title"])),
    }


def questions() -> list[Question]:
    return [Question(**item) for item in json.loads((DATA / "questions.json").read_text())]


def unanswerable() -> list[str]:
    """Questions none of the documents answers: retrieval should find nothing."""
    return json.loads((DATA / "unanswerable.json").read_text())


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def relevant_chunks(documents: dict[str, Document], question: Question) -> set[int]:
    """The chunks holding the passage, or at least its first or second half (a passage
    may straddle two chunks)."""
    words = flat(question.a).split()
    half = max(1, (len(words) + 1) // 2)
    parts = (" ".join(words), " ".join(words[:half]), " ".join(words[-half:]))
    chunks = Chunk.objects.filter(document=documents[question.doc]).values_list("id", "text")
    return {pk for pk, text in chunks if any(part in flat(text) for part in parts)}


# --- Dense rankers ----------------------------------------------------------------------


def stored_ranker(documents: list[Document]) -> Ranker:
    """The product's own: the stored vectors and llm.embed for the query."""
    import llm

    blocks = [search.vectors_for(d) for d in documents]
    return lambda query: retrieval.dense_top(llm.embed([query])[0], blocks, 10_000)


def sklearn_ranker(documents: list[Document], method: str) -> Ranker:
    """TF-IDF (character 3-5 grams, or words) or LSA (word TF-IDF reduced with SVD),
    fitted on the documents' own chunks."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import Normalizer

    rows = list(
        Chunk.objects.filter(document__in=documents)
        .order_by("id")
        .values_list("id", "text", "section")
    )
    ids = np.asarray([r[0] for r in rows])
    texts = [f"{section}\n{text}" if section else text for _, text, section in rows]
    if method == "tfidf-char":
        model = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)
    elif method == "tfidf-word":
        model = TfidfVectorizer(sublinear_tf=True, stop_words="english")
    else:
        svd = TruncatedSVD(n_components=min(100, len(texts) - 1), random_state=0)
        model = make_pipeline(
            TfidfVectorizer(sublinear_tf=True, stop_words="english"), svd, Normalizer()
        )
    matrix = model.fit_transform(texts)
    matrix = np.asarray(
        matrix.toarray() if hasattr(matrix, "toarray") else matrix, dtype=np.float32
    )

    def rank(query: str) -> list[tuple[int, float]]:
        vector = model.transform([query])
        vector = np.asarray(
            vector.toarray() if hasattr(vector, "toarray") else vector, dtype=np.float32
        )[0]
        return retrieval.dense_top(vector, [(ids, matrix)], len(ids))

    return rank


# --- Scoring ----------------------------------------------------------------------------


@dataclass
class Scores:
    recall: float
    mrr: float


def evaluate(
    documents: dict[str, Document], ranker: Ranker, *, candidates: int = 30, rrf_k: int = 60
) -> dict[str, Scores]:
    """recall@5 and MRR of lexical search alone, the dense ranker alone, and the two
    fused, over every question, searching all the documents at once."""
    ids = [d.pk for d in documents.values()]
    rankings: dict[str, list[list[int]]] = {"lexical": [], "dense": [], "hybrid": []}
    wanted = []
    for question in questions():
        relevant = relevant_chunks(documents, question)
        if not relevant:
            raise AssertionError(f"No chunk holds the passage of {question.q!r}")
        wanted.append(relevant)
        lexical = search.lexical_search(question.q, ids, candidates)
        dense = ranker(question.q)
        fused = retrieval.reciprocal_rank_fusion(
            [lexical, [i for i, _ in dense[:candidates]]], k=rrf_k
        )
        rankings["lexical"].append(lexical)
        rankings["dense"].append([i for i, _ in dense])
        rankings["hybrid"].append([i for i, _ in fused])
    return {
        name: Scores(
            recall=float(
                np.mean([retrieval.recall_at(r, w, K) for r, w in zip(ranked, wanted, strict=True)])
            ),
            mrr=float(
                np.mean(
                    [retrieval.reciprocal_rank(r, w) for r, w in zip(ranked, wanted, strict=True)]
                )
            ),
        )
        for name, ranked in rankings.items()
    }


def index_corpus(owner) -> dict[str, Document]:
    """Upload and index the evaluation's documents for `owner`, in this process."""
    from documents import services

    documents = {}
    for name, (filename, data) in corpus().items():
        document, _ = services.document_upload(owner=owner, filename=filename, data=data)
        indexing.document_index(document=document)
        document.refresh_from_db()
        documents[name] = document
    return documents


def product_scores(owner, documents: dict[str, Document]) -> tuple[float, float]:
    """The product's own search (hybrid, with its relevance floor) as the context builder
    calls it: recall@5 over the questions, and the share of unanswerable questions for
    which it finds nothing."""
    from documents import selectors

    ids = [d.pk for d in documents.values()]
    hits = []
    for question in questions():
        found = selectors.chunks_search_for(owner, document_ids=ids, query=question.q)
        ranked = [hit.chunk.pk for hit in found]
        hits.append(retrieval.recall_at(ranked, relevant_chunks(documents, question), K))
    empty = [
        not selectors.chunks_search_for(owner, document_ids=ids, query=q) for q in unanswerable()
    ]
    return float(np.mean(hits)), float(np.mean(empty))
