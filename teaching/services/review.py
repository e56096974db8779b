"""A review session's items: not the practice the learner already did.

A review of a built lesson is built again (teaching.core.builder, every item verified)
from the learner's other sentences of the lesson's mistake cluster, the ones the lesson
and the last review did not use; where there are none (or the lesson was written by the
model or a teacher), the stored items come in another order. Either way the sequence is
never the one the learner saw last time. The set is kept on the saved item until it is
answered, so a reload shows the same review and its answers are graded against it.
"""

import random

from analysis.core.annotate import ERRANT_LANGUAGES
from analysis.models import DetectedError
from teaching.core import builder
from teaching.core.rules import normalise
from teaching.core.schemas import BLANK
from teaching.models import CollectionItem, Module, ModuleSource
from teaching.pipeline.common import Learner

# The learner's sentences a review is built from (the builder adds the note's example).
REVIEW_PAIRS = 3
# The cluster's sentences looked at, newest last.
CLUSTER_SENTENCES = 200


def review_problems(item: CollectionItem) -> list[dict]:
    """The items of the review in progress, or a new review's."""
    current = item.review or {}
    if current.get("problems") and not current.get("answered"):
        return current["problems"]
    module = item.module
    last = current.get("problems") or module.content.get("problems", [])
    problems = fresh_problems(module, item.learner, last, turn=item.reviews)
    item.review = {"problems": problems, "answered": False}
    item.save(update_fields=["review"])
    return problems


def answered(item: CollectionItem) -> None:
    """The review in progress is done: the next one is a new set."""
    if item.review.get("problems"):
        item.review = {**item.review, "answered": True}
        item.save(update_fields=["review"])


def in_progress(item: CollectionItem | None) -> list[dict] | None:
    """The problems of the item's unanswered review, if one is open."""
    current = (item.review or {}) if item is not None else {}
    if current.get("problems") and not current.get("answered"):
        return current["problems"]
    return None


def fresh_problems(module: Module, learner, last: list[dict], *, turn: int) -> list[dict]:
    rebuilt = _rebuilt(module, learner, last)
    if rebuilt and _sequence(rebuilt) != _sequence(last):
        return rebuilt
    return _reordered(module.content.get("problems", []), last, turn=turn)


# -- built again from the cluster's other sentences ---------------------------------------


def _rebuilt(module: Module, learner, last: list[dict]) -> list[dict] | None:
    if module.source != ModuleSource.BUILT or module.language not in ERRANT_LANGUAGES:
        return None
    used = _sentences_used(module.content, last)
    pairs = [
        p
        for p in _cluster_pairs(module, learner)
        if normalise(p.sentence) not in used and normalise(p.corrected) not in used
    ]
    if not pairs:
        return None
    language = Learner.of(learner).explanation_language(module.language)
    built = builder.build(module.error_type, pairs[:REVIEW_PAIRS], explanation_language=language)
    if built.content is None:
        return None
    return [p.model_dump() for p in built.content.problems]


def _sentences_used(content: dict, last: list[dict]) -> set[str]:
    """The sentences, as written and corrected, the lesson shows or the last review used
    (a gap item's with its key put back)."""
    used = {
        normalise(content.get("learner_sentence", "")),
        normalise(content.get("correction", "")),
    }
    used |= {normalise(e["wrong"]) for e in content.get("examples", [])}
    for problem in [*content.get("problems", []), *last]:
        used.add(normalise(_filled(problem)))
    return used


def _filled(problem: dict) -> str:
    prompt = problem["prompt"]
    if BLANK not in prompt:
        return prompt
    start = prompt.index(BLANK)
    return builder.put_back(prompt, start, start + len(BLANK), problem["answer"])


def _cluster_pairs(module: Module, learner) -> list[builder.Pair]:
    """The learner's sentences of the lesson's cluster; where the cluster was replaced by a
    later clustering, their shown mistakes of the same kind in the same language."""
    errors = DetectedError.objects.filter(
        utterance__learner=learner, error_type=module.error_type, shown=True
    )
    if module.cluster_id is not None:
        errors = errors.filter(memberships__cluster_id=module.cluster_id)
    else:
        errors = errors.filter(utterance__language=module.language)
    pairs, seen = [], set()
    for error in errors.select_related("utterance").order_by("id")[:CLUSTER_SENTENCES]:
        utterance = error.utterance
        if normalise(utterance.text) in seen or not utterance.corrected:
            continue
        seen.add(normalise(utterance.text))
        pairs.append(
            builder.Pair(utterance.text, utterance.corrected, error.original, error.correction)
        )
    return pairs


# -- the stored items in another order ------------------------------------------------------


def _reordered(stored: list[dict], last: list[dict], *, turn: int) -> list[dict]:
    """The lesson's items shuffled (a different shuffle each review); when that gives back
    the last sequence, turned by one, which with two items or more never does."""
    problems = list(stored)
    random.Random(turn).shuffle(problems)
    if _sequence(problems) == _sequence(last) and len(problems) > 1:
        problems = problems[1:] + problems[:1]
    return problems


def _sequence(problems: list[dict]) -> list[tuple[str, str, str]]:
    return [(p["kind"], p["prompt"], p["answer"]) for p in problems]
