"""The learner's side: practising a module, saving it, notes and tags, spaced review."""

from collections.abc import Sequence

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from config.errors import Conflict, UserFacingError
from teaching import review, rules, selectors
from teaching.models import CollectionItem, Module, PracticeAttempt
from teaching.schemas import ModuleContent

MAX_ANSWER_CHARS = 200


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
    """Save a lesson the learner can see; saving it twice is a conflict, not a copy."""
    module = selectors.module_get_for(learner, module_id)
    notes, tags = clean_notes(notes), clean_tags(tags)
    now = timezone.now()
    with transaction.atomic():
        item, created = CollectionItem.objects.get_or_create(
            learner=learner,
            module=module,
            defaults={"notes": notes, "tags": tags, "card": review.new_card(now), "due_at": now},
        )
    if not created:
        raise Conflict("This lesson is already in your collection.")
    return item


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
    graded = []
    for index, problem in enumerate(content.problems):
        given = answers[index] if index < len(answers) else ""
        graded.append(
            {
                "answer": given,
                "correct": rules.normalise(given) == rules.normalise(problem.answer),
                "expected": problem.answer,
                "rationale": problem.rationale,
            }
        )
    return graded


def practice_submit(*, learner, module: Module, answers: Sequence[str]) -> PracticeAttempt:
    """Store an attempt; when the lesson is saved, its review card moves by the result."""
    if len(answers) > len(module.content.get("problems", [])):
        raise InvalidInput("More answers than problems.")
    if any(not isinstance(a, str) or len(a) > MAX_ANSWER_CHARS for a in answers):
        raise InvalidInput(f"Each answer is text of at most {MAX_ANSWER_CHARS} characters.")
    graded = grade(ModuleContent.model_validate(module.content), answers)
    correct = sum(1 for g in graded if g["correct"])
    rating = review.rating_for(correct, len(graded))
    now = timezone.now()
    with transaction.atomic():
        item = (
            CollectionItem.objects.select_for_update()
            .filter(learner=learner, module=module)
            .first()
        )
        if item is not None:
            item.card, item.due_at = review.review(item.card, rating, now)
            item.reviews += 1
            item.last_reviewed_at = now
            item.save(update_fields=["card", "due_at", "reviews", "last_reviewed_at"])
        return PracticeAttempt.objects.create(
            learner=learner,
            module=module,
            item=item,
            answers=graded,
            correct=correct,
            total=len(graded),
            rating=rating.name.lower(),
        )
