"""Ranking chunks: a pure core (no ORM, no model call), so it is tested and measured alone.

Lexical and dense search each rank candidates; reciprocal rank fusion merges the two
rankings without having to make BM25 scores and cosines comparable.
"""

import re
from collections.abc import Sequence

import numpy as np

# Words that match nearly every chunk and make a lexical query slow and unfocused.
STOPWORDS = frozenset(
    """a an and are as at be been but by can could did do does doing for from had has have
    how i if in into is it its me my of on or our should so than that the their them then
    there these they this those to was we were what when where which who whom why will with
    would you your about after before also any each many more most much not only other same
    some such very just tell explain please according document text say says said""".split()  # noqa: SIM905
)
_WORD = re.compile(r"\w+", re.UNICODE)
MAX_QUERY_TERMS = 24


def query_terms(text: str, *, min_length: int = 1) -> list[str]:
    """The distinct content words of a query, lower-cased, in order of appearance."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(text.lower()):
        if _content_word(word, min_length):
            seen.setdefault(word, None)
    return list(seen)[:MAX_QUERY_TERMS]


def _content_word(word: str, min_length: int) -> bool:
    if word.isdigit():
        return len(word) >= 2  # years and numbers are worth matching, single digits not
    return word not in STOPWORDS and len(word) >= min_length


def fts5_match(text: str) -> str:
    """An FTS5 MATCH expression: any of the terms, each quoted (trigrams need 3+ chars)."""
    return " OR ".join(f'"{term}"' for term in query_terms(text, min_length=3))


def tsquery(text: str) -> str:
    """A PostgreSQL raw tsquery: any of the terms (word characters only, so it parses)."""
    return " | ".join(query_terms(text, min_length=2))


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[int]], *, k: int = 60
) -> list[tuple[int, float]]:
    """Items of several best-first rankings, scored by the sum of 1 / (k + rank)."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda pair: (-pair[1], pair[0]))


def dense_top(
    query: np.ndarray, blocks: Sequence[tuple[np.ndarray, np.ndarray]], n: int
) -> list[tuple[int, float]]:
    """The `n` ids with the highest cosine to `query` over (ids, unit vectors) blocks."""
    blocks = [block for block in blocks if len(block[0])]
    if not blocks or n <= 0:
        return []
    ids = np.concatenate([block_ids for block_ids, _ in blocks])
    scores = np.concatenate([matrix @ query for _, matrix in blocks])
    n = min(n, len(ids))
    top = np.argpartition(-scores, n - 1)[:n]
    top = top[np.argsort(-scores[top], kind="stable")]
    return [(int(ids[i]), float(scores[i])) for i in top]


def similarities(
    query: np.ndarray, blocks: Sequence[tuple[np.ndarray, np.ndarray]], wanted: Sequence[int]
) -> dict[int, float]:
    """Cosine of `query` with each wanted id found in the blocks (ids sorted in a block)."""
    found: dict[int, float] = {}
    wanted_array = np.asarray(sorted(set(wanted)), dtype=np.int64)
    for ids, matrix in blocks:
        if not len(ids) or not len(wanted_array):
            continue
        positions = np.searchsorted(ids, wanted_array)
        positions = np.clip(positions, 0, len(ids) - 1)
        hit = ids[positions] == wanted_array
        for item, position in zip(wanted_array[hit], positions[hit], strict=True):
            found[int(item)] = float(matrix[position] @ query)
    return found


def term_coverage(terms: Sequence[str], text: str) -> float:
    """The share of the query's content words found in `text` (as substrings, so
    "separable" counts for "inseparable" as the trigram index would match it)."""
    if not terms:
        return 0.0
    lowered = text.lower()
    return sum(term in lowered for term in terms) / len(terms)


def relevance(similarity: float, coverage: float, *, coverage_weight: float = 0.75) -> float:
    """How relevant a chunk is, from its cosine and its share of the query's words.

    Neither alone separates relevant chunks from the nearest irrelevant ones: short
    questions have low cosines with the passage that answers them, and one common word
    matches many passages. Measured on the shipped evaluation (docs/retrieval.md)."""
    return similarity + coverage_weight * coverage


def fuse(
    *,
    lexical: Sequence[int],
    dense: Sequence[tuple[int, float]],
    rrf_k: int,
) -> list[tuple[int, float]]:
    """Lexical and dense rankings fused by reciprocal rank."""
    return reciprocal_rank_fusion([list(lexical), [item for item, _ in dense]], k=rrf_k)


def keep_relevant(
    fused: Sequence[tuple[int, float]],
    relevance_of: dict[int, float],
    *,
    top_k: int,
    floor: float,
) -> list[tuple[int, float]]:
    """The first `top_k` fused items whose relevance reaches `floor`."""
    kept = [(item, score) for item, score in fused if relevance_of.get(item, -1.0) >= floor]
    return kept[:top_k]


def recall_at(ranked: Sequence[int], relevant: set[int], k: int) -> float:
    return 1.0 if relevant & set(ranked[:k]) else 0.0


def reciprocal_rank(ranked: Sequence[int], relevant: set[int]) -> float:
    for rank, item in enumerate(ranked, start=1):
        if item in relevant:
            return 1.0 / rank
    return 0.0


def bm25(
    query: Sequence[str], documents: Sequence[Sequence[str]], *, k1: float = 1.2, b: float = 0.75
) -> list[float]:
    """Okapi BM25 of each tokenised document for the query's terms (for small in-memory
    collections; the documents' chunks are ranked by the database's full-text index)."""
    if not documents:
        return []
    lengths = [len(d) for d in documents]
    average = sum(lengths) / len(lengths) or 1.0
    counts = [_counts(d) for d in documents]
    total = len(documents)
    scores = [0.0] * total
    for term in dict.fromkeys(query):
        having = sum(1 for c in counts if term in c)
        if not having:
            continue
        idf = float(np.log(1 + (total - having + 0.5) / (having + 0.5)))
        for i, c in enumerate(counts):
            tf = c.get(term, 0)
            if tf:
                scores[i] += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * lengths[i] / average))
    return scores


def _counts(tokens: Sequence[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for token in tokens:
        counts[token] = counts.get(token, 0) + 1
    return counts
