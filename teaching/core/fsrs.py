"""Spaced review with FSRS (the scheduler modern Anki uses): pure, no ORM.

A practice result becomes an FSRS rating; the card (stored as JSON on the saved item)
moves to its next due time. Fuzzing is off so the same history gives the same schedule.
"""

from datetime import datetime

from fsrs import Card, Rating, Scheduler

_scheduler = Scheduler(enable_fuzzing=False)


def new_card(now: datetime) -> dict:
    card = Card(due=now)
    return card.to_dict()


def rating_for(correct: int, total: int) -> Rating:
    """All right: Good. Most right: Hard. Fewer than 60%: Again (see it again soon)."""
    score = correct / total if total else 0.0
    if score >= 1.0:
        return Rating.Good
    if score >= 0.6:
        return Rating.Hard
    return Rating.Again


def review(card: dict, rating: Rating, now: datetime) -> tuple[dict, datetime]:
    """The card after a review at `now`, and when it is next due."""
    current = Card.from_dict(card) if card else Card(due=now)
    updated, _ = _scheduler.review_card(current, rating, review_datetime=now)
    return updated.to_dict(), updated.due
