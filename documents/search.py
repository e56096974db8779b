"""Hybrid retrieval over a learner's documents: the database's full-text search, cosine
over the stored vectors, fused by reciprocal rank (documents.retrieval is the pure core).

Vectors are read from the database once per indexed document and kept in this process's
memory (a document's chunks never change once it is indexed), so a search costs one
small query, one lexical query and a matrix product.
"""

import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.db import connection

import llm
from documents import retrieval
from documents.models import Chunk, Document


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    score: float
    similarity: float
    relevance: float


def search(
    *,
    query: str,
    documents: list[Document],
    user=None,
    top_k: int | None = None,
    floor: float | None = None,
) -> list[Hit]:
    """The chunks of `documents` (already authorised, indexed) most relevant to `query`,
    best first; none when nothing reaches the relevance floor."""
    if not documents or not query.strip():
        return []
    top_k = settings.RETRIEVAL_TOP_K if top_k is None else top_k
    floor = settings.RETRIEVAL_MIN_RELEVANCE if floor is None else floor
    candidates = settings.RETRIEVAL_CANDIDATES
    lexical = lexical_search(query, [d.pk for d in documents], candidates)
    vector = llm.embed([query], user=user, purpose="retrieval")[0]
    blocks = [vectors_for(d) for d in documents]
    dense = retrieval.dense_top(vector, blocks, candidates)
    fused = retrieval.fuse(lexical=lexical, dense=dense, rrf_k=settings.RETRIEVAL_RRF_K)
    # Relevance is judged on the best few fused candidates only: their texts are read
    # anyway to answer, and the rest would not make the top k.
    shortlist = [item for item, _ in fused[: top_k * 4]]
    similarity = dict(dense) | retrieval.similarities(vector, blocks, shortlist)
    chunks = Chunk.objects.defer("vector").in_bulk(shortlist)
    by_id = {d.pk: d for d in documents}
    for chunk in chunks.values():
        chunk.document = by_id[chunk.document_id]  # already read: no join, no second query
    terms = retrieval.query_terms(query, min_length=3)
    relevance = {
        item: retrieval.relevance(
            similarity.get(item, 0.0), retrieval.term_coverage(terms, chunk.text)
        )
        for item, chunk in chunks.items()
    }
    kept = retrieval.keep_relevant(fused[: top_k * 4], relevance, top_k=top_k, floor=floor)
    return [Hit(chunks[i], score, similarity.get(i, 0.0), relevance[i]) for i, score in kept]


# --- Lexical --------------------------------------------------------------------------


def lexical_search(query: str, document_ids: list[int], limit: int) -> list[int]:
    """Chunk ids of the documents matching any content word of `query`, best first."""
    if connection.vendor == "sqlite":
        return _fts5(query, document_ids, limit)
    if connection.vendor == "postgresql":
        return _postgres(query, document_ids, limit)
    return []


# Ranking is the cost of a lexical search, and it grows with the number of matches: a
# query word that most chunks contain would be scored in all of them. Only the first
# RETRIEVAL_LEXICAL_MAX_MATCHES matches within the scope are ranked; such a word says
# little about relevance anyway, and dense search ranks every chunk.
FTS5_SEARCH = (
    "SELECT id FROM ("
    "SELECT c.id AS id, bm25(documents_chunk_fts) AS score FROM documents_chunk_fts "
    "JOIN documents_chunk c ON c.id = documents_chunk_fts.rowid "
    "WHERE documents_chunk_fts MATCH %s AND c.document_id IN ({marks}) LIMIT %s"
    ") ORDER BY score, id LIMIT %s"
)


def _fts5(query: str, document_ids: list[int], limit: int) -> list[int]:
    match = retrieval.fts5_match(query)
    if not match or not document_ids:
        return []
    marks = ", ".join("%s" for _ in document_ids)
    sql = FTS5_SEARCH.replace("{marks}", marks)
    with connection.cursor() as cursor:
        cursor.execute(sql, [match, *document_ids, settings.RETRIEVAL_LEXICAL_MAX_MATCHES, limit])
        return [row[0] for row in cursor.fetchall()]


POSTGRES_SEARCH = (
    "SELECT id FROM ("
    "SELECT id, search FROM documents_chunk "
    "WHERE document_id = ANY(%s) AND search @@ to_tsquery('english'::regconfig, %s) LIMIT %s"
    ") matches "
    "ORDER BY ts_rank(search, to_tsquery('english'::regconfig, %s)) DESC, id LIMIT %s"
)


def _postgres(query: str, document_ids: list[int], limit: int) -> list[int]:
    """PostgreSQL full-text search on the stored `search` tsvector (see migration 0002):
    Django's SearchRank(SearchVector(...)) would parse every matching text again."""
    terms = retrieval.tsquery(query)
    if not terms or not document_ids:
        return []
    with connection.cursor() as cursor:
        cap = settings.RETRIEVAL_LEXICAL_MAX_MATCHES
        cursor.execute(POSTGRES_SEARCH, [list(document_ids), terms, cap, terms, limit])
        return [row[0] for row in cursor.fetchall()]


# --- Dense ----------------------------------------------------------------------------


class VectorCache:
    """Each indexed document's (chunk ids, unit vectors), least recently used out first,
    bounded by the number of chunks held. Keyed by the time it was indexed, so a document
    indexed again is read again."""

    def __init__(self) -> None:
        self._blocks: OrderedDict[tuple[int, object], tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._held = 0
        self._lock = threading.Lock()

    def get(self, document: Document) -> tuple[np.ndarray, np.ndarray]:
        key = (document.pk, document.indexed_at)
        with self._lock:
            block = self._blocks.get(key)
            if block is not None:
                self._blocks.move_to_end(key)
                return block
        block = _load_vectors(document.pk)
        with self._lock:
            self._blocks[key] = block
            self._held += len(block[0])
            while self._held > settings.RETRIEVAL_VECTOR_CACHE_CHUNKS and len(self._blocks) > 1:
                _, (ids, _) = self._blocks.popitem(last=False)
                self._held -= len(ids)
        return block

    def clear(self) -> None:
        with self._lock:
            self._blocks.clear()
            self._held = 0


def _load_vectors(document_id: int) -> tuple[np.ndarray, np.ndarray]:
    rows = Chunk.objects.filter(document_id=document_id).order_by("id").values_list("id", "vector")
    ids, vectors = [], []
    for chunk_id, vector in rows.iterator(chunk_size=2000):
        ids.append(chunk_id)
        vectors.append(bytes(vector))
    if not ids:
        return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
    matrix = np.frombuffer(b"".join(vectors), dtype=np.float32).reshape(len(ids), -1)
    return np.asarray(ids, dtype=np.int64), matrix


vector_cache = VectorCache()


def vectors_for(document: Document) -> tuple[np.ndarray, np.ndarray]:
    return vector_cache.get(document)
