"""Recurring mistake families from analysed errors. Pure: no ORM, no model call.

The features describe the mistake, never the sentence's topic: the product type
(one-hot, weighted so that different kinds of mistake stay apart), the edit itself
(lemma and part-of-speech transitions, the words, character n-grams of
"original>correction") and, when the caller has them, embeddings of the edit text
("go → went", see `edit_text`) computed outside with llm.embed. So "go → went" and
"buy → bought" meet (same type, same-lemma past-tense transition), while two football
sentences with different mistakes do not.

The number of families is chosen by the data: different kinds of mistake are never one
family, and within a kind a Ward tree is cut at every k in a range; the cut with the
best silhouette wins if it separates sub-families clearly. Identical edits are clustered once; above
SAMPLE distinct edits, the tree is built on a seeded sample and every edit joins its
nearest family centre, so 10,000 errors take well under a second.
"""

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from analysis import taxonomy

TYPE_WEIGHT = 1.0  # distance between two types: sqrt(2)
EDIT_WEIGHT = 0.6
CHAR_SHARE = 0.35  # of the edit block: character n-grams vs lemma/POS tokens
VECTOR_WEIGHT = 0.45
EDIT_DIMS = 24
SAMPLE = 600
# A kind of mistake splits into sub-families only when a cut separates them this clearly
# (mean silhouette), into at most MAX_SPLIT, and only from MIN_SPLIT_EDITS distinct edits.
SPLIT_SILHOUETTE = 0.5
MAX_SPLIT = 8
MIN_SPLIT_EDITS = 4
HASH_FEATURES = 2**14


@dataclass(frozen=True)
class ErrorPoint:
    key: str
    error_type: str
    original: str
    correction: str
    features: dict = field(default_factory=dict)
    priority: int = 3
    when: datetime | None = None


@dataclass(frozen=True)
class Cluster:
    label: int
    name: str
    description: str
    error_type: str
    keys: tuple[str, ...]
    top_edits: tuple[tuple[str, str], ...]
    score: float
    xy: tuple[tuple[float, float], ...]  # 2-D map coordinates, one per key


def edit_text(point: ErrorPoint) -> str:
    """The text to embed for a point: the edit, not the sentence ("go → went")."""
    return _phrase(point.original, point.correction)


def cluster_errors(
    points: Sequence[ErrorPoint], *, seed: int = 0, vectors: np.ndarray | None = None
) -> list[Cluster]:
    """Clusters ranked by frequency x priority, deterministic for the same input.

    `vectors`, optional: one precomputed embedding row per point (of `edit_text`)."""
    if not points:
        return []
    if vectors is not None and len(vectors) != len(points):
        raise ValueError(f"{len(points)} points but {len(vectors)} vectors")
    from threadpoolctl import threadpool_limits

    # The matrices are small: BLAS threads only wait for each other (measured: 7x the CPU
    # time on two busy cores).
    with threadpool_limits(limits=1):
        return _cluster(points, seed, vectors)


def _cluster(points: Sequence[ErrorPoint], seed: int, vectors: np.ndarray | None) -> list[Cluster]:
    index, first = _distinct(points)
    rows = [points[i] for i in first]
    counts = np.bincount(index, minlength=len(first)).astype(np.float64)
    rng = np.random.default_rng(seed)
    sample = _sample(len(rows), counts, rng)
    matrix = _matrix(rows, None if vectors is None else np.asarray(vectors)[first], sample, seed)
    labels = _labels(matrix, rows, sample)
    xy = _map(matrix, sample)
    return _clusters(points, index, labels[index], xy[index])


# -- distinct edits ----------------------------------------------------------------------


def _signature(p: ErrorPoint) -> tuple:
    f = p.features
    return (
        p.error_type,
        p.original.lower(),
        p.correction.lower(),
        tuple(f.get("orig_pos", ())),
        tuple(f.get("corr_pos", ())),
        tuple(f.get("orig_tags", ())),
        tuple(f.get("corr_tags", ())),
    )


def _distinct(points: Sequence[ErrorPoint]) -> tuple[np.ndarray, list[int]]:
    """For each point the index of its distinct edit, and each distinct edit's first point."""
    seen: dict[tuple, int] = {}
    first: list[int] = []
    index = np.empty(len(points), dtype=np.int64)
    for i, p in enumerate(points):
        sig = _signature(p)
        if sig not in seen:
            seen[sig] = len(first)
            first.append(i)
        index[i] = seen[sig]
    return index, first


def _sample(n: int, counts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The distinct edits the tree is built on: all of them, or a seeded sample favouring
    frequent ones."""
    if n <= SAMPLE:
        return np.arange(n)
    chosen = rng.choice(n, size=SAMPLE, replace=False, p=counts / counts.sum())
    return np.sort(chosen)


# -- features ----------------------------------------------------------------------------


def _tokens(p: ErrorPoint) -> list[str]:
    f = p.features
    o_lem = f.get("orig_lemmas") or p.original.lower().split()
    c_lem = f.get("corr_lemmas") or p.correction.lower().split()
    o_pos, c_pos = f.get("orig_pos", []), f.get("corr_pos", [])
    o_tag, c_tag = f.get("orig_tags", []), f.get("corr_tags", [])
    op = "M" if not p.original else "U" if not p.correction else "R"

    def j(xs) -> str:
        return "_".join(xs) or "0"

    out = [f"op:{op}", f"lem:{j(o_lem)}>{j(c_lem)}", f"pos:{j(o_pos)}>{j(c_pos)}"]
    out.append(f"tag:{j(o_tag)}>{j(c_tag)}")
    out += [f"ol:{x}" for x in o_lem] + [f"cl:{x}" for x in c_lem]
    if o_lem and o_lem == c_lem:
        out.append("same-lemma")  # went/go, bought/buy: the form changed, not the word
    return out


def _char_grams(p: ErrorPoint) -> list[str]:
    text = f"<{p.original.lower()}>{p.correction.lower()}>"
    return [text[i : i + n] for n in (3, 4) for i in range(len(text) - n + 1)]


def _edit_block(rows: list[ErrorPoint], sample: np.ndarray, seed: int) -> np.ndarray:
    """The edit's tokens and character n-grams, TF-IDF weighted, reduced to EDIT_DIMS
    (fitted on the sample, applied to all) and scaled to unit length."""
    from scipy.sparse import hstack
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
    from sklearn.preprocessing import normalize

    blocks = []
    for analyzer, share in ((_tokens, 1 - CHAR_SHARE), (_char_grams, CHAR_SHARE)):
        hashed = HashingVectorizer(
            analyzer=analyzer, n_features=HASH_FEATURES, alternate_sign=False, norm=None
        ).transform(rows)
        tfidf = TfidfTransformer(sublinear_tf=True).fit(hashed[sample])
        blocks.append(normalize(tfidf.transform(hashed)) * np.sqrt(share))
    combined = hstack(blocks).tocsr()
    if len(rows) <= EDIT_DIMS + 1:
        return normalize(combined).toarray()  # so few edits need no reduction
    svd = TruncatedSVD(n_components=EDIT_DIMS, random_state=seed, n_iter=4)
    svd.fit(combined[sample])
    return normalize(svd.transform(combined))


def _matrix(
    rows: list[ErrorPoint], vectors: np.ndarray | None, sample: np.ndarray, seed: int
) -> np.ndarray:
    types = np.zeros((len(rows), len(taxonomy.TAXONOMY)))
    position = {t: i for i, t in enumerate(taxonomy.TAXONOMY)}
    for i, p in enumerate(rows):
        types[i, position.get(p.error_type, position["other"])] = 1.0
    parts = [types * TYPE_WEIGHT, _edit_block(rows, sample, seed) * EDIT_WEIGHT]
    if vectors is not None:
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        unit = np.divide(vectors, norms, out=np.zeros_like(vectors, dtype=float), where=norms > 0)
        parts.append(unit * VECTOR_WEIGHT)
    return np.hstack(parts)


# -- choosing the families ---------------------------------------------------------------


def _labels(matrix: np.ndarray, rows: list[ErrorPoint], sample: np.ndarray) -> np.ndarray:
    """A family label per distinct edit. Different kinds of mistake are never one family;
    within a kind, a Ward tree over the sampled edits is cut where the silhouette is best,
    and kept whole unless some cut separates it clearly. Every distinct edit then joins
    its nearest family centre."""
    kinds = np.array([p.error_type for p in rows])
    in_sample = np.zeros(len(rows), dtype=bool)
    in_sample[sample] = True
    labels = np.empty(len(rows), dtype=np.int64)
    next_label = 0
    for kind in sorted(set(kinds)):
        members = np.flatnonzero(kinds == kind)
        seeds = members[in_sample[members]]
        if len(seeds) == 0:
            seeds = members[:1]
        x = matrix[seeds]
        split = _split(x)
        labels[members] = next_label + _nearest(matrix[members], x, split)
        next_label += split.max() + 1
    return labels


def _split(x: np.ndarray) -> np.ndarray:
    """Sub-families of one kind of mistake: the best-silhouette cut of a Ward tree, or
    one family when no cut reaches SPLIT_SILHOUETTE."""
    from scipy.cluster.hierarchy import fcluster, linkage

    whole = np.zeros(len(x), dtype=np.int64)
    if len(x) < MIN_SPLIT_EDITS:
        return whole
    tree = linkage(x, method="ward")
    distances = _pairwise(x)
    best, best_labels = SPLIT_SILHOUETTE, whole
    for k in range(2, min(MAX_SPLIT, len(x) - 1) + 1):
        cut = fcluster(tree, k, criterion="maxclust") - 1
        if cut.max() < 1:
            continue
        s = _silhouette(distances, cut)
        if s > best + 1e-9:
            best, best_labels = s, cut
    return best_labels


def _pairwise(x: np.ndarray) -> np.ndarray:
    sq = (x * x).sum(axis=1)
    d2 = sq[:, None] + sq[None, :] - 2.0 * (x @ x.T)
    return np.sqrt(np.maximum(d2, 0.0))


def _silhouette(distances: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette over distinct edits, each counted once: weighted by frequency, a
    cut isolating every repeated edit ("∅ → a" alone, "∅ → the" alone) would always win.
    An edit alone in its family scores 0, as in scikit-learn."""
    k = labels.max() + 1
    member = np.zeros((len(labels), k))
    member[np.arange(len(labels)), labels] = 1.0
    sums = distances @ member  # distance from each edit to the members of each family
    sizes = member.sum(axis=0)
    own = sizes[labels] - 1.0  # the others in its own family
    a = np.divide(
        sums[np.arange(len(labels)), labels], own, out=np.zeros(len(labels)), where=own > 0
    )
    means = sums / sizes
    means[np.arange(len(labels)), labels] = np.inf
    b = means.min(axis=1)
    s = np.where(own > 0, (b - a) / np.maximum(np.maximum(a, b), 1e-12), 0.0)
    return float(s.mean())


def _nearest(matrix: np.ndarray, x: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Every distinct edit's family: that of the nearest family centre."""
    k = labels.max() + 1
    centres = np.stack([x[labels == c].mean(axis=0) for c in range(k)])
    d = (centres**2).sum(axis=1)[None, :] - 2.0 * matrix @ centres.T
    return d.argmin(axis=1)  # |m|^2 is the same for every centre


def _map(matrix: np.ndarray, sample: np.ndarray) -> np.ndarray:
    """2-D coordinates: the first two principal axes of the sample, with a fixed sign."""
    x = matrix[sample]
    centre = x.mean(axis=0)
    if len(x) < 2:
        return np.zeros((len(matrix), 2))
    _, _, vt = np.linalg.svd(x - centre, full_matrices=False)
    axes = vt[:2]
    if len(axes) < 2:
        axes = np.vstack([axes, np.zeros_like(axes[0])])
    signs = np.sign(axes[np.arange(2), np.abs(axes).argmax(axis=1)])
    return (matrix - centre) @ (axes * signs[:, None]).T


# -- naming and ranking ------------------------------------------------------------------


def _phrase(original: str, correction: str) -> str:
    return f"{original or '∅'} → {correction or '∅'}"


def _clusters(
    points: Sequence[ErrorPoint], index: np.ndarray, labels: np.ndarray, xy: np.ndarray
) -> list[Cluster]:
    groups: dict[int, list[int]] = {}
    for i, label in enumerate(labels):
        groups.setdefault(int(label), []).append(i)
    drafts = []
    for members in groups.values():
        pts = [points[i] for i in members]
        kind = Counter(p.error_type for p in pts).most_common(1)[0][0]
        edits = Counter((p.original.lower(), p.correction.lower()) for p in pts)
        shown = {}  # each edit as the learner first wrote it
        for p in pts:
            shown.setdefault((p.original.lower(), p.correction.lower()), (p.original, p.correction))
        ranked = sorted(edits.items(), key=lambda kv: -kv[1])[:3]
        top = tuple(shown[e] for e, _ in ranked)
        score = len(pts) * float(np.mean([p.priority for p in pts]))
        drafts.append((score, kind, members, top, len(edits)))
    drafts.sort(key=lambda d: (-d[0], d[1], d[2][0]))
    out = []
    for label, (score, kind, members, top, distinct) in enumerate(drafts):
        examples = ", ".join(_phrase(*e) for e in top)
        noun = "error" if len(members) == 1 else "errors"
        description = f"{len(members)} {noun}, {distinct} different: {examples}."
        out.append(
            Cluster(
                label=label,
                name=f"{taxonomy.label(kind)}: {_phrase(*top[0])}",
                description=description,
                error_type=kind,
                keys=tuple(points[i].key for i in members),
                top_edits=top,
                score=round(score, 4),
                xy=tuple((round(float(xy[i, 0]), 4), round(float(xy[i, 1]), 4)) for i in members),
            )
        )
    return out
