"""The grammar notes a learner's question is about: BM25 over what each note is about
(grammar.notes.retrieval_text: its title, rule and pattern, its English keywords and the
questions it answers), with word pairs as terms too ("he go", "since and for").

Grammar questions are made of the words a document search throws away ("since", "for",
"a", "the"), so only the words that frame a question are left out here.
"""

import itertools
import re
from dataclasses import dataclass
from functools import cache

from documents.retrieval import bm25
from grammar import notes

_WORD = re.compile(r"[\w'-]+", re.UNICODE)
QUESTION_WORDS = frozenset(
    """when do does did i use using used what why how is are was it can could you me my
    please explain tell say saying said should difference between wrong right correct
    mean means word words sentence english grammar which or rule""".split()  # noqa: SIM905
)
# Below this BM25 score nothing in the library is about the question (calibrated on the
# tutor evaluation's questions: off-topic chat scores under it, grammar questions above).
MIN_SCORE = 11.0
# A second note is shown when it scores this close to the first ("since or for" and
# "present perfect with since and for" answer the same question from two sides).
SECOND_RATIO = 0.8
MAX_NOTES = 2


@dataclass(frozen=True)
class Found:
    note: notes.RenderedNote
    score: float


def terms(text: str) -> list[str]:
    words = [w.strip("'-") for w in _WORD.findall(text.lower())]
    words = [w for w in words if w]
    pairs = [f"{a}_{b}" for a, b in itertools.pairwise(words)]
    return [w for w in words if w not in QUESTION_WORDS] + pairs


@cache
def _index(language: str) -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    ids = tuple(n.id for n in notes.notes("en"))
    texts = []
    for note_id in ids:
        text = notes.retrieval_text(note_id, "en")
        if language != "en":
            text += "\n" + notes.retrieval_text(note_id, language)
        texts.append(tuple(terms(text)))
    return ids, tuple(texts)


def search(question: str, language: str) -> list[Found]:
    """The notes that answer `question`, best first (none when nothing is close),
    rendered in `language`."""
    ids, texts = _index(language if language in notes.LANGUAGES else "en")
    scores = bm25(terms(question), texts)
    ranked = sorted(zip(ids, scores, strict=True), key=lambda pair: -pair[1])
    if not ranked or ranked[0][1] < MIN_SCORE:
        return []
    top = ranked[0][1]
    kept = [pair for pair in ranked[:MAX_NOTES] if pair[1] >= top * SECOND_RATIO]
    return [Found(notes.note(note_id, language), score) for note_id, score in kept]
