"""The learner's side: practising a module, saving it, notes and tags, spaced review."""

from collections.abc import Sequence
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.errors import Conflict, UserFacingError
from teaching import selectors
from teaching.core import fsrs, grading, rules
from teaching.core.schemas import ModuleContent, Problem
from teaching.models import CollectionItem, Module, PracticeAttempt
from teaching.services import review as reviews

MAX_ANSWER_CHARS = 300
# Saving a lesson counts a practice of it this recent as the saved card's first review.
SCORE_KEPT_FOR = timedelta(hours=1)


class InvalidInput(UserFacingError):
    status_code = 400
    title = "Invalid input"


def clean_notes(notes: str) -> str:
    limit = settings.TEACHING_NOTES_MAX_CHARS
    if len(notes) > limit:
        raise InvalidInput(f"Notes can be at most {limit} characters.")
    return notes.strip()


def clean_tags(tags: Sequence[str]) -> list[str]:
    most, longest = settings.TEACHING_MAX_TAGS, settings.TEACHING_TAG_MAX_CHARS
    cleaned = []
    for tag in tags:
        if not isinstance(tag, str):
            raise InvalidInput("Tags are short words.")
        tag = " ".join(tag.split()).lower()
        if len(tag) > longest:
            raise InvalidInput(f"A tag can be at most {longest} characters.")
        if tag and tag not in cleaned:
            cleaned.append(tag)
    if len(cleaned) > most:
        raise InvalidInput(f"At most {most} tags.")
    return cleaned


def collection_save(*, learner, module_id: int, notes: str = "", tags=()) -> CollectionItem:
    """Save a lesson the learner can see; saving it twice is a conflict, not a copy.
    A score the learner just earned on it counts as its first review: saving after
    practising does not send the lesson back as new."""
    module = selectors.module_get_for(learner, module_id)
    notes, tags = clean_notes(notes), clean_tags(tags)
    now = timezone.now()
    with transaction.atomic():
        item, created = CollectionItem.objects.get_or_create(
            learner=learner,
            module=module,
            defaults={"notes": notes, "tags": tags, "card": fsrs.new_card(now), "due_at": now},
        )
        if created:
            _count_the_last_attempt(item, now)
    if not created:
        raise Conflict("This lesson is already in your collection.")
    return item


def _count_the_last_attempt(item: CollectionItem, now) -> None:
    attempt = (
        PracticeAttempt.objects.filter(learner_id=item.learner_id, module_id=item.module_id)
        .filter(item__isnull=True, created_at__gte=now - SCORE_KEPT_FOR)
        .order_by("-created_at", "-pk")
        .first()
    )
    if attempt is None:
        return
    rating = fsrs.rating_for(attempt.correct, attempt.total)
    item.card, item.due_at = fsrs.review(item.card, rating, attempt.created_at)
    item.reviews, item.last_reviewed_at = 1, attempt.created_at
    item.save(update_fields=["card", "due_at", "reviews", "last_reviewed_at"])
    attempt.item = item
    attempt.save(update_fields=["item"])


def last_attempt(*, learner, module: Module) -> PracticeAttempt | None:
    return (
        PracticeAttempt.objects.filter(learner_id=learner.pk, module=module)
        .order_by("-created_at", "-pk")
        .first()
    )


def collection_update(*, item: CollectionItem, notes: str | None = None, tags=None) -> None:
    fields = ["updated_at"]
    if notes is not None:
        item.notes = clean_notes(notes)
        fields.append("notes")
    if tags is not None:
        item.tags = clean_tags(tags)
        fields.append("tags")
    item.updated_at = timezone.now()
    item.save(update_fields=fields)


def collection_remove(*, item: CollectionItem) -> None:
    item.delete()


def grade(content: ModuleContent, answers: Sequence[str]) -> list[dict]:
    """Per problem: the learner's answer, whether it is right, the answer and why."""
    return [
        grade_one(problem, answers[index] if index < len(answers) else "")
        for index, problem in enumerate(content.problems)
    ]


def grade_one(problem: Problem, given: str) -> dict:
    """A rewritten sentence is graded with ERRANT against the correction (another right
    way of writing it is right, and the feedback says what is still wrong); every other
    kind by its one answer."""
    if problem.kind == "rewrite":
        result = grading.grade_rewrite(given, problem.answer) if given.strip() else None
        correct, feedback = (result.correct, result.feedback) if result else (False, [])
    else:
        correct, feedback = rules.normalise(given) == rules.normalise(problem.answer), []
    return {
        "answer": given,
        "correct": correct,
        "expected": problem.answer,
        "rationale": problem.rationale,
        "feedback": feedback,
    }


def practice_check(
    *, module: Module, index: int, answer: str, problems: list[dict] | None = None
) -> dict:
    """One answer checked as the learner goes, stored nowhere (the attempt is stored
    when they finish). `problems`: a review's own items instead of the lesson's."""
    problems = module.content.get("problems", []) if problems is None else problems
    if not 0 <= index < len(problems):
        raise InvalidInput("No such problem.")
    if len(answer) > MAX_ANSWER_CHARS:
        raise InvalidInput(f"An answer is text of at most {MAX_ANSWER_CHARS} characters.")
    return grade_one(Problem.model_validate(problems[index]), answer)


def practice_submit(
    *, learner, module: Module, answers: Sequence[str], review: bool = False
) -> PracticeAttempt:
    """Store an attempt; when the lesson is saved, its review card moves by the result.
    With `review`, the answers are to the saved lesson's review in progress (its own
    items), which this closes."""
    saved = CollectionItem.objects.filter(learner=learner, module=module).first()
    problems = reviews.in_progress(saved) if review else None
    if problems is None:
        problems = module.content.get("problems", [])
    if len(answers) > len(problems):
        raise InvalidInput("More answers than problems.")
    if any(not isinstance(a, str) or len(a) > MAX_ANSWER_CHARS for a in answers):
        raise InvalidInput(f"Each answer is text of at most {MAX_ANSWER_CHARS} characters.")
    graded = [
        grade_one(Problem.model_validate(problem), answers[i] if i < len(answers) else "")
        for i, problem in enumerate(problems)
    ]
    correct = sum(1 for g in graded if g["correct"])
    rating = fsrs.rating_for(correct, len(graded))
    now = timezone.now()
    with transaction.atomic():
        item = (
            CollectionItem.objects.select_for_update()
            .filter(learner=learner, module=module)
            .first()
        )
        if item is not None:
            item.card, item.due_at = fsrs.review(item.card, rating, now)
            item.reviews += 1
            item.last_reviewed_at = now
            item.save(update_fields=["card", "due_at", "reviews", "last_reviewed_at"])
            if review:
                reviews.answered(item)
        return PracticeAttempt.objects.create(
            learner=learner,
            module=module,
            item=item,
            answers=graded,
            correct=correct,
            total=len(graded),
            rating=rating.name.lower(),
        )
