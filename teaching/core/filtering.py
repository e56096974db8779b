"""Filter and split: which analysed learner sentences may become lessons, by language.

Pure: plain data in, plain data out. Sentences in the learner's own native language are
not lessons in the language they learn; low-priority and trivial mistakes (a missing
capital, punctuation by default) are dropped; repeated sentences and repeated mistakes
count once. What is left is grouped into mistake groups — by error cluster when the
clustering put the mistake in one, else by error type — ranked for focus selection.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from teaching.core.rules import normalise


@dataclass(frozen=True)
class Mistake:
    error_id: int
    original: str
    correction: str
    error_type: str
    cluster_id: int | None = None
    cluster_name: str = ""


@dataclass(frozen=True)
class Sentence:
    key: str
    text: str
    corrected: str
    language: str
    priority: int
    mistakes: tuple[Mistake, ...]


@dataclass(frozen=True)
class Thresholds:
    min_priority: int = 2
    trivial_types: frozenset[str] = frozenset({"punctuation"})
    min_chars: int = 3


@dataclass
class Split:
    by_language: dict[str, list[Sentence]] = field(default_factory=dict)
    dropped: list[tuple[str, str]] = field(default_factory=list)  # (key, reason)


@dataclass(frozen=True)
class Group:
    """Candidates for one focus: the same kind of mistake, with the learner's sentences."""

    key: str
    language: str
    error_type: str
    cluster_id: int | None
    name: str
    count: int
    score: float
    examples: tuple[dict, ...]  # {"sentence", "corrected", "original", "correction"}

    def as_dict(self) -> dict:
        return {
            "key": self.key,
            "language": self.language,
            "error_type": self.error_type,
            "cluster_id": self.cluster_id,
            "name": self.name,
            "count": self.count,
            "score": self.score,
            "examples": list(self.examples),
        }


def is_trivial(mistake: Mistake, thresholds: Thresholds) -> bool:
    if mistake.error_type in thresholds.trivial_types:
        return True
    # "i" -> "I", "dont" -> "don't": nothing left once case and punctuation go.
    return normalise(mistake.original).replace("'", "") == normalise(mistake.correction).replace(
        "'", ""
    )


def filter_and_split(
    sentences: Iterable[Sentence],
    *,
    native: str,
    target: str,
    detect: Callable[[str], str | None],
    thresholds: Thresholds = Thresholds(),
) -> Split:
    """Keep sentences worth teaching from, split by the language they are written in."""
    split = Split()
    seen_texts: set[tuple[str, str]] = set()
    for sentence in sentences:
        language = detect(sentence.text) or sentence.language or target
        reason = _drop_reason(sentence, language, native=native, target=target, t=thresholds)
        if reason is None and (language, normalise(sentence.text)) in seen_texts:
            reason = "duplicate sentence"
        if reason is None:
            kept = tuple(m for m in sentence.mistakes if not is_trivial(m, thresholds))
            reason = None if kept else "only trivial mistakes"
        if reason is not None:
            split.dropped.append((sentence.key, reason))
            continue
        seen_texts.add((language, normalise(sentence.text)))
        cleaned = Sentence(
            sentence.key, sentence.text, sentence.corrected, language, sentence.priority, kept
        )
        split.by_language.setdefault(language, []).append(cleaned)
    for items in split.by_language.values():
        items.sort(key=lambda s: -s.priority)  # stable: conversation order within a priority
    return split


def _drop_reason(
    sentence: Sentence, language: str, *, native: str, target: str, t: Thresholds
) -> str | None:
    if not sentence.mistakes:
        return "no mistakes"
    if len(sentence.text.strip()) < t.min_chars:
        return "too short"
    if language == native and native != target:
        return "written in the learner's own language"
    if sentence.priority < t.min_priority:
        return f"priority {sentence.priority} below {t.min_priority}"
    return None


def mistake_groups(sentences: Sequence[Sentence], *, max_examples: int = 3) -> list[Group]:
    """Group one language's sentences by mistake family, most worth teaching first."""
    buckets: dict[tuple, list[tuple[Sentence, Mistake]]] = defaultdict(list)
    seen_edits: set[tuple] = set()
    for sentence in sentences:
        for mistake in sentence.mistakes:
            edit = (normalise(mistake.original), normalise(mistake.correction), sentence.key)
            if edit in seen_edits:
                continue
            seen_edits.add(edit)
            bucket = mistake.cluster_id if mistake.cluster_id is not None else mistake.error_type
            buckets[(mistake.error_type, bucket)].append((sentence, mistake))
    groups = [_group(items, max_examples) for items in buckets.values()]
    groups.sort(key=lambda g: (-g.score, g.key))
    return groups


def _group(items: list[tuple[Sentence, Mistake]], max_examples: int) -> Group:
    first_sentence, first = items[0]
    top = f"{normalise(first.original)}>{normalise(first.correction)}"
    examples, used = [], set()
    for sentence, mistake in items:
        if sentence.key in used or len(examples) >= max_examples:
            continue
        used.add(sentence.key)
        examples.append(
            {
                "sentence": sentence.text,
                "corrected": sentence.corrected,
                "original": mistake.original,
                "correction": mistake.correction,
            }
        )
    return Group(
        key=f"{first_sentence.language}|{first.error_type}|{top}"[:200],
        language=first_sentence.language,
        error_type=first.error_type,
        cluster_id=first.cluster_id,
        name=first.cluster_name or first.error_type.replace("_", " "),
        count=len(items),
        score=float(len(items) * max(s.priority for s, _ in items)),
        examples=tuple(examples),
    )
