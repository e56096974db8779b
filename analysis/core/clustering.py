"""Recurring mistake families from analysed errors. Pure: no ORM, no model call.

A family is one kind of mistake, described by what the learner did, never by the
sentence it was in: the product type, the operation and ERRANT subtype (a missing
article, an extra one, a wrong one), the change of part of speech and tag of the edited
tokens (present to past, singular to plural), and their lemmas: the words themselves
where the word is the grammar (articles, prepositions, pronouns, auxiliaries), and
whether one word changed its form (go → went) or gave way to another (say → tell).
Embeddings of the edit text ("go → went", see `edit_text`), computed by the caller with
llm.embed, may join these: they shape a family, never split one on their own.

Each product type is one family unless it holds sub-families that recur: a kind of
mistake is split (a Ward tree over its distinct edits, cut where the error-weighted
silhouette is best) only when every part holds at least MIN_SUPPORT errors, the cut
separates the parts clearly, and they differ in what was done: missing *the* and extra
*the* may part, but *went* and *bought* (each a past tense) never, and a handful of
errors is no pattern. Identical edits are clustered once, weighted by their count;
above SAMPLE distinct edits, the trees are built on a seeded sample and every edit joins
its nearest family centre, so 10,000 errors take well under a second.

A family is named by its kind and what its edits share (`name_cluster`): "Verb tense:
the past tense", "Articles and determiners: missing *a* / *the*", or the one edit most
of it is ("Verb tense: *go* → *went*"); a grammar note's title, where the caller has one
for the pattern, takes the place of the derived name.
"""

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from analysis.core import taxonomy

# The feature blocks, each scaled to unit length and then weighted: what was done
# (operation and ERRANT subtype) weighs most, then the change of form, then the words.
SUBTYPE_WEIGHT = 1.0
FORM_WEIGHT = 0.8
WORD_WEIGHT = 0.5
VECTOR_WEIGHT = 0.3
SAMPLE = 600
# A kind of mistake splits into sub-families only when every part holds MIN_SUPPORT
# errors, the cut separates them this clearly (mean silhouette over errors), and the
# parts differ in what was done, not only in their words: their centres at least MIN_GAP
# apart in the subtype and form blocks alone (where two edits that differ only in their
# words, or their embeddings, are 0 apart, and two of another subtype about 1.6).
MIN_SUPPORT = 6
SPLIT_SILHOUETTE = 0.5
MIN_GAP = 0.5
MAX_SPLIT = 6
# What "most of a family" means when naming it.
MOST = 0.5

# Parts of speech whose words are the grammar itself: "a" or "the", "in" or "on".
CLOSED_POS = frozenset({"DET", "ADP", "PRON", "AUX", "PART", "SCONJ", "CCONJ"})


@dataclass(frozen=True)
class ErrorPoint:
    key: str
    error_type: str
    original: str
    correction: str
    features: dict = field(default_factory=dict)
    priority: int = 3
    when: datetime | None = None
    source_type: str = ""  # ERRANT's type ("R:VERB:TENSE"), "diff", or "" when unknown


@dataclass(frozen=True)
class Pattern:
    """What most of a family's errors share; absent parts are shared by no majority."""

    error_type: str  # the product type: "verb_tense"
    subtype: str = ""  # operation and ERRANT category: "M:DET", "R:VERB:TENSE"
    tags: tuple[str, str] = ("", "")  # the tag change: ("VBP", "VBD"); "" for none
    words: tuple[str, ...] = ()  # the closed-class words added or removed: ("a", "the")
    edit: tuple[str, str] | None = None  # the one edit most errors are: ("go", "went")
    size: int = 0  # errors in the family


@dataclass(frozen=True)
class Cluster:
    label: int
    name: str
    description: str
    error_type: str
    keys: tuple[str, ...]
    top_edits: tuple[tuple[str, str], ...]
    score: float
    pattern: Pattern


# A grammar note's title for a family (its pattern and its distinct edits), or None:
# "Past participle after *have*".
NoteTitle = Callable[[Pattern, Sequence["ErrorPoint"]], str | None]


def edit_text(point: ErrorPoint) -> str:
    """The text to embed for a point: the edit, not the sentence ("go → went")."""
    return _phrase(point.original, point.correction)


def cluster_errors(
    points: Sequence[ErrorPoint],
    *,
    seed: int = 0,
    vectors: np.ndarray | None = None,
    note_title: NoteTitle | None = None,
) -> list[Cluster]:
    """Clusters ranked by frequency x priority, deterministic for the same input.

    `vectors`, optional: one precomputed embedding row per point (of `edit_text`).
    `note_title`, optional: a grammar note's title for a family's pattern, used as its
    name where it gives one."""
    if not points:
        return []
    if vectors is not None and len(vectors) != len(points):
        raise ValueError(f"{len(points)} points but {len(vectors)} vectors")
    from threadpoolctl import threadpool_limits

    # The matrices are small: BLAS threads only wait for each other (measured: 7x the CPU
    # time on two busy cores).
    with threadpool_limits(limits=1):
        return _cluster(points, seed, vectors, note_title)


def _cluster(
    points: Sequence[ErrorPoint],
    seed: int,
    vectors: np.ndarray | None,
    note_title: NoteTitle | None,
) -> list[Cluster]:
    index, first = _distinct(points)
    rows = [points[i] for i in first]
    counts = np.bincount(index, minlength=len(first)).astype(np.float64)
    rng = np.random.default_rng(seed)
    sample = _sample(len(rows), counts, rng)
    unit = None if vectors is None else _unit(np.asarray(vectors, dtype=np.float64)[first])
    labels = _labels(rows, counts, sample, unit)
    return _clusters(points, index, rows, counts, labels, note_title)


# -- distinct edits ----------------------------------------------------------------------


def _signature(p: ErrorPoint) -> tuple:
    f = p.features
    return (
        p.error_type,
        p.source_type,
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
    """The distinct edits the trees are built on: all of them, or a seeded sample
    favouring frequent ones."""
    if n <= SAMPLE:
        return np.arange(n)
    chosen = rng.choice(n, size=SAMPLE, replace=False, p=counts / counts.sum())
    return np.sort(chosen)


# -- what the mistake is -----------------------------------------------------------------


def _op(p: ErrorPoint) -> str:
    """M (something missing), U (something unnecessary) or R (replaced)."""
    if p.source_type[1:2] == ":" and p.source_type[0] in "MUR":
        return p.source_type[0]
    return "M" if not p.original else "U" if not p.correction else "R"


def _subtype(p: ErrorPoint) -> str:
    """The operation and ERRANT category ("M:DET"); the product type stands in for the
    category of an edit without one (a token diff, or data from before source_type)."""
    category = p.source_type[2:] if p.source_type[1:2] == ":" else p.error_type
    return f"{_op(p)}:{category}"


def _side(p: ErrorPoint, name: str, which: str) -> list[str]:
    return list(p.features.get(f"{which}_{name}") or [])


def _lemmas(p: ErrorPoint, which: str) -> list[str]:
    text = p.original if which == "orig" else p.correction
    return _side(p, "lemmas", which) or text.lower().split()


def _closed_words(p: ErrorPoint, which: str) -> list[str]:
    """The edited words that are grammar themselves (articles, prepositions, pronouns,
    auxiliaries), as lemmas; without parts of speech, none."""
    return [
        lemma
        for lemma, pos in zip(_lemmas(p, which), _side(p, "pos", which), strict=False)
        if pos in CLOSED_POS
    ]


def _tags(p: ErrorPoint) -> tuple[str, str]:
    return "_".join(_side(p, "tags", "orig")), "_".join(_side(p, "tags", "corr"))


def _subtype_tokens(p: ErrorPoint) -> list[str]:
    kind = _subtype(p)
    return [f"op:{kind[0]}", f"sub:{kind}", f"cat:{kind[2:]}"]


def _form_tokens(p: ErrorPoint) -> list[str]:
    o_pos, c_pos = (_side(p, "pos", w) for w in ("orig", "corr"))
    o_tag, c_tag = _tags(p)
    if not (o_pos or c_pos or o_tag or c_tag):
        return []
    out = [f"pos:{'_'.join(o_pos)}>{'_'.join(c_pos)}", f"tag:{o_tag}>{c_tag}"]
    out += [f"ot:{t}" for t in o_tag.split("_") if t] + [f"ct:{t}" for t in c_tag.split("_") if t]
    return out


def _word_tokens(p: ErrorPoint) -> list[str]:
    o_lem, c_lem = _lemmas(p, "orig"), _lemmas(p, "corr")
    out = [f"lem:{'_'.join(o_lem)}>{'_'.join(c_lem)}"]
    out += [f"ow:{w}" for w in _closed_words(p, "orig")]
    out += [f"cw:{w}" for w in _closed_words(p, "corr")]
    if o_lem and o_lem == c_lem:
        out.append("same-lemma")  # went/go, bought/buy: the form changed, not the word
    elif o_lem and c_lem:
        out.append("other-lemma")  # say/tell: another word
    return out


def _block(rows: list[ErrorPoint], tokens: Callable[[ErrorPoint], list[str]]):
    """One block of binary token features (sparse), each row scaled to unit length."""
    from scipy.sparse import csr_matrix

    vocabulary: dict[str, int] = {}
    columns, starts = [], [0]
    for p in rows:
        hits = {vocabulary.setdefault(t, len(vocabulary)) for t in tokens(p)}
        columns.extend(sorted(hits))
        starts.append(len(columns))
    lengths = np.diff(starts)
    values = np.repeat(1.0 / np.sqrt(np.maximum(lengths, 1)), lengths)
    shape = (len(rows), max(len(vocabulary), 1))
    return csr_matrix((values, np.array(columns, dtype=np.int64), np.array(starts)), shape=shape)


def _unit(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.divide(x, norms, out=np.zeros_like(x, dtype=np.float64), where=norms > 0)


def _features(rows: list[ErrorPoint], vectors: np.ndarray | None) -> tuple[Any, int]:
    """The distinct edits of one kind of mistake as weighted feature blocks (sparse), and
    how many of its first columns say what was done (the subtype and form blocks)."""
    from scipy.sparse import csr_matrix, hstack

    grammar = [
        _block(rows, _subtype_tokens) * SUBTYPE_WEIGHT,
        _block(rows, _form_tokens) * FORM_WEIGHT,
    ]
    parts = [*grammar, _block(rows, _word_tokens) * WORD_WEIGHT]
    if vectors is not None:
        parts.append(csr_matrix(vectors * VECTOR_WEIGHT))
    return hstack(parts).tocsr(), sum(b.shape[1] for b in grammar)


# -- choosing the families ---------------------------------------------------------------


def _labels(
    rows: list[ErrorPoint], counts: np.ndarray, sample: np.ndarray, vectors: np.ndarray | None
) -> np.ndarray:
    """A family label per distinct edit. Different kinds of mistake are never one family;
    a kind is split where `_split` finds recurring sub-families among its sampled edits,
    and every distinct edit joins its nearest family centre."""
    kinds = np.array([p.error_type for p in rows])
    in_sample = np.zeros(len(rows), dtype=bool)
    in_sample[sample] = True
    labels = np.empty(len(rows), dtype=np.int64)
    next_label = 0
    for kind in sorted(set(kinds)):
        members = np.flatnonzero(kinds == kind)
        if counts[members].sum() < 2 * MIN_SUPPORT:  # too few errors to hold two families
            labels[members] = next_label
            next_label += 1
            continue
        seeds = in_sample[members]
        if not seeds.any():
            seeds[0] = True
        x, grammar = _features(
            [rows[i] for i in members], None if vectors is None else vectors[members]
        )
        seeded, weights = x[seeds].toarray(), counts[members][seeds]
        split = _split(seeded, weights, grammar)
        labels[members] = next_label + _nearest(x, _centres(seeded, weights, split))
        next_label += split.max() + 1
    return labels


def _split(x: np.ndarray, weights: np.ndarray, grammar: int) -> np.ndarray:
    """Sub-families of one kind of mistake: the cut of a Ward tree with the best
    error-weighted silhouette among those whose parts all recur (MIN_SUPPORT errors, a
    smaller part joining the nearest that does) and differ in what was done (the first
    `grammar` columns); one family when no such cut reaches SPLIT_SILHOUETTE."""
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    whole = np.zeros(len(x), dtype=np.int64)
    if len(x) < 2:
        return whole
    distances = _pairwise(x)
    # Ward from the Euclidean distances (through the Gram matrix: far faster than pdist
    # over the hundreds of token columns of a kind with many different words).
    tree = linkage(squareform(distances, checks=False), method="ward")
    best, best_labels = SPLIT_SILHOUETTE, whole
    seen: set[tuple[int, ...]] = set()
    for k in range(2, min(MAX_SPLIT, len(x)) + 1):
        cut = _absorb_small(x, weights, fcluster(tree, k, criterion="maxclust") - 1)
        if cut.max() < 1 or tuple(cut) in seen:
            continue
        seen.add(tuple(cut))
        if _closest_centres(x[:, :grammar], weights, cut) < MIN_GAP:
            continue
        s = _silhouette(distances, cut, weights)
        if s > best + 1e-9:
            best, best_labels = s, cut
    return best_labels


def _centres(x: np.ndarray, weights: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Each family's centre, its edits weighted by their errors."""
    k = labels.max() + 1
    member = np.zeros((len(labels), k))
    member[np.arange(len(labels)), labels] = weights
    return (member.T @ x) / member.sum(axis=0)[:, None]


def _absorb_small(x: np.ndarray, weights: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Parts with fewer than MIN_SUPPORT errors join the nearest part that has them;
    labels 0.. in order of first appearance (all zero when fewer than two parts recur)."""
    sizes = np.bincount(labels, weights=weights)
    big = np.flatnonzero(sizes >= MIN_SUPPORT)
    if len(big) < 2:
        return np.zeros(len(labels), dtype=np.int64)
    centres = _centres(x, weights, labels)[big]
    small = ~np.isin(labels, big)
    out = labels.copy()
    if small.any():
        d = (centres**2).sum(axis=1)[None, :] - 2.0 * x[small] @ centres.T
        out[small] = big[d.argmin(axis=1)]
    _, first, inverse = np.unique(out, return_index=True, return_inverse=True)
    order = np.argsort(np.argsort(first))
    return order[inverse].astype(np.int64)


def _closest_centres(x: np.ndarray, weights: np.ndarray, labels: np.ndarray) -> float:
    centres = _centres(x, weights, labels)
    return float(np.min(_pairwise(centres)[np.triu_indices(len(centres), 1)]))


def _pairwise(x: np.ndarray) -> np.ndarray:
    sq = (x * x).sum(axis=1)
    d2 = sq[:, None] + sq[None, :] - 2.0 * (x @ x.T)
    return np.sqrt(np.maximum(d2, 0.0))


def _silhouette(distances: np.ndarray, labels: np.ndarray, weights: np.ndarray) -> float:
    """Mean silhouette over errors: each distinct edit stands for `weights` identical
    errors, so a family is as tight as the errors in it. An error alone in its family
    scores 0, as in scikit-learn."""
    n = len(labels)
    k = labels.max() + 1
    member = np.zeros((n, k))
    member[np.arange(n), labels] = weights
    sums = distances @ member  # weighted distance from each edit to each family
    sizes = member.sum(axis=0)
    own = sizes[labels] - 1.0  # the other errors in its own family
    a = np.divide(sums[np.arange(n), labels], own, out=np.zeros(n), where=own > 0)
    means = sums / sizes
    means[np.arange(n), labels] = np.inf
    b = means.min(axis=1)
    s = np.where(own > 0, (b - a) / np.maximum(np.maximum(a, b), 1e-12), 0.0)
    return float((s * weights).sum() / weights.sum())


def _nearest(matrix: Any, centres: np.ndarray) -> np.ndarray:
    """Every distinct edit's family: that of the nearest family centre."""
    d = (centres**2).sum(axis=1)[None, :] - 2.0 * np.asarray(matrix @ centres.T)
    return d.argmin(axis=1)  # |m|^2 is the same for every centre


# -- naming and ranking ------------------------------------------------------------------


def pattern_of(points: Sequence[ErrorPoint]) -> Pattern:
    """What most of these errors (one family) share."""
    index, first = _distinct(points)
    return _pattern([points[i] for i in first], np.bincount(index).tolist())


def _pattern(rows: Sequence[ErrorPoint], counts: Sequence[int]) -> Pattern:
    """pattern_of for distinct edits, each standing for `counts` errors."""
    n = sum(counts)

    def tally(values) -> Counter:
        out: Counter = Counter()
        for value, count in zip(values, counts, strict=True):
            out[value] += count
        return out

    def most(values) -> object | None:
        value, count = tally(values).most_common(1)[0]
        return value if count > MOST * n or n == 1 else None

    kind = tally(p.error_type for p in rows).most_common(1)[0][0]
    subtypes = [_subtype(p) for p in rows]
    sub = most(subtypes) or ""
    tags = most(_tags(p) for p in rows) or ("", "")
    words = ()
    if sub[:1] in ("M", "U"):
        side = "corr" if sub[0] == "M" else "orig"
        added: Counter = Counter()
        for p, kind_of, count in zip(rows, subtypes, counts, strict=True):
            for w in _closed_words(p, side) if kind_of == sub else ():
                added[w] += count
        words = tuple(w for w, _ in added.most_common(3))
    edit = most(_lower(p) for p in rows)
    if edit is not None:
        edit = next((p.original, p.correction) for p in rows if _lower(p) == edit)
    return Pattern(kind, sub, tags, words, edit, n)


def name_cluster(pattern: Pattern, *, note_title: str | None = None) -> str:
    """A family's name: a grammar note's title when one fits the pattern, else its kind
    and the pattern ("Verb tense: the past tense", "Verb tense: *go* → *went*")."""
    if note_title:
        return note_title
    kind = taxonomy.label(pattern.error_type)
    what = _describe(pattern)
    return f"{kind}: {what}" if what else kind


def _describe(pattern: Pattern) -> str:
    """The pattern in words, *marking* words quoted from the edits; "" when the family's
    errors share nothing but their kind. In order: the words most of it adds or removes
    ("missing *a* / *the*"), the one edit most of it is, the change of form most of it
    makes ("the past tense"), what its subtype says."""
    op, kind = pattern.subtype[:1], pattern.error_type
    if op in ("M", "U") and pattern.words:
        words = " / ".join(f"*{w}*" for w in pattern.words)
        return f"{'missing' if op == 'M' else 'extra'} {words}"
    if pattern.edit is not None and pattern.size > 1:
        return _phrase_marked(*pattern.edit)
    before, after = _last_tags(pattern.tags)
    change = _TAG_CHANGES.get((kind, before, after)) or _TAG_CHANGES.get((kind, "", after))
    if change:
        return change
    if pattern.edit is not None:
        return _phrase_marked(*pattern.edit)
    return _SUBTYPES.get(pattern.subtype, "")


def _last_tags(tags: tuple[str, str]) -> tuple[str, str]:
    """The tags of the last edited token on each side ("VB_VBN" -> "VBN")."""
    return tags[0].split("_")[-1], tags[1].split("_")[-1]


# (product type, tag before, tag after) -> the change; "" before: whatever it was.
_TAG_CHANGES = {
    ("verb_tense", "", "VBD"): "the past tense",
    ("verb_tense", "VBD", "VBP"): "the present tense",
    ("verb_tense", "VBD", "VBZ"): "the present tense",
    ("verb_tense", "VBD", "VB"): "the present tense",
    ("verb_form", "", "VBN"): "the past participle",
    ("verb_form", "", "VBG"): "the *-ing* form",
    ("verb_form", "", "VB"): "the base form",
    ("subject_verb_agreement", "", "VBZ"): "*-s* after *he*, *she*, *it*",
    ("subject_verb_agreement", "VBZ", "VBP"): "no *-s* after a plural subject",
    ("subject_verb_agreement", "VBZ", "VB"): "no *-s* after a plural subject",
    ("noun_number", "NN", "NNS"): "the plural",
    ("noun_number", "NNS", "NN"): "the singular",
}
_SUBTYPES = {
    "R:DET": "the wrong determiner",
    "R:PREP": "the wrong preposition",
    "R:PRON": "the wrong pronoun",
    "R:NOUN:INFL": "a noun that takes no plural",
    "R:VERB:INFL": "a wrongly built verb form",
    "R:MORPH": "the right word in the wrong form",
    "R:NOUN": "nouns",
    "R:VERB": "verbs",
    "R:ADJ": "adjectives",
    "R:ADV": "adverbs",
    "R:ORTH": "capital letters",
    "M:PUNCT": "missing punctuation",
    "U:PUNCT": "extra punctuation",
}


def _lower(p: ErrorPoint) -> tuple[str, str]:
    return p.original.lower(), p.correction.lower()


def _phrase(original: str, correction: str) -> str:
    return f"{original or '∅'} → {correction or '∅'}"


def _phrase_marked(original: str, correction: str) -> str:
    if not original:
        return f"missing *{correction}*"
    if not correction:
        return f"extra *{original}*"
    return f"*{original}* → *{correction}*"


def _clusters(
    points: Sequence[ErrorPoint],
    index: np.ndarray,
    rows: list[ErrorPoint],
    counts: np.ndarray,
    labels: np.ndarray,
    note_title: NoteTitle | None,
) -> list[Cluster]:
    """The families, from each distinct edit's label (`rows`: the distinct edits in the
    order first seen; `index`: each point's distinct edit)."""
    point_labels = labels[index]
    priorities = np.bincount(point_labels, weights=[p.priority for p in points])
    drafts = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        family = [rows[i] for i in members]
        weights = counts[members].astype(int).tolist()
        edits: Counter = Counter()
        shown = {}  # each edit as the learner first wrote it
        for p, weight in zip(family, weights, strict=True):
            edits[_lower(p)] += weight
            shown.setdefault(_lower(p), (p.original, p.correction))
        ranked = sorted(edits.items(), key=lambda kv: -kv[1])[:3]
        top = tuple(shown[e] for e, _ in ranked)
        keys = np.flatnonzero(point_labels == label)
        pattern = _pattern(family, weights)
        # count x mean priority
        drafts.append(
            (priorities[label], pattern.error_type, keys, top, len(edits), pattern, family)
        )
    drafts.sort(key=lambda d: (-d[0], d[1], d[2][0]))
    out: list[Cluster] = []
    names: Counter = Counter()
    for label, (score, kind, keys, top, distinct, pattern, family) in enumerate(drafts):
        examples = ", ".join(_phrase(*e) for e in top)
        noun = "error" if len(keys) == 1 else "errors"
        description = f"{len(keys)} {noun}, {distinct} different: {examples}."
        title = note_title(pattern, family) if note_title else None
        name = name_cluster(pattern, note_title=title)
        names[name] += 1
        if names[name] > 1:  # two families of one kind that share no more than their kind
            name = f"{name} ({_phrase_marked(*top[0])})"
        out.append(
            Cluster(
                label=label,
                name=name,
                description=description,
                error_type=kind,
                keys=tuple(points[i].key for i in keys),
                top_edits=top,
                score=round(float(score), 4),
                pattern=pattern,
            )
        )
    return out
