"""Practice, the collection and FSRS reviews: services and their API."""

from datetime import timedelta

import pytest
from django.utils import timezone

from teaching.core import fsrs
from teaching.models import CollectionItem, ModuleStatus, PracticeAttempt
from teaching.services import learning
from teaching.tests.helpers import module_row

RIGHT = ["went", "ate", "wrote"]


def test_ratings_follow_the_practice_score():
    assert [fsrs.rating_for(c, 3).name for c in (3, 2, 1, 0)] == [
        "Good",
        "Hard",
        "Again",
        "Again",
    ]


def test_fsrs_schedules_a_good_result_later_than_a_bad_one():
    now = timezone.now()
    card = fsrs.new_card(now)
    _, good = fsrs.review(card, fsrs.rating_for(3, 3), now)
    _, again = fsrs.review(card, fsrs.rating_for(0, 3), now)
    assert now < again < good


def test_practice_is_graded_stored_and_moves_a_saved_lessons_review(alice):
    module = module_row(alice)
    item = learning.collection_save(learner=alice, module_id=module.pk)
    assert item.due_at <= timezone.now()  # a new card is due at once
    attempt = learning.practice_submit(learner=alice, module=module, answers=["Went!", "ate", "x"])
    assert (attempt.correct, attempt.total, attempt.rating) == (2, 3, "hard")
    assert attempt.answers[2] == {
        "answer": "x",
        "correct": False,
        "expected": "wrote",
        "rationale": "Two days ago is finished time: wrote.",
        "feedback": [],
    }
    item.refresh_from_db()
    assert item.reviews == 1 and item.due_at > timezone.now() and item.card["state"] == 1
    first_due = item.due_at
    learning.practice_submit(learner=alice, module=module, answers=RIGHT)
    item.refresh_from_db()
    assert item.due_at > first_due and item.attempts.count() == 2


def test_practice_of_an_unsaved_lesson_schedules_nothing(alice):
    module = module_row(alice)
    attempt = learning.practice_submit(learner=alice, module=module, answers=RIGHT)
    assert attempt.item is None and attempt.rating == "good"


def test_due_reviews_come_back_when_due(alice, api):
    module = module_row(alice)
    item = learning.collection_save(learner=alice, module_id=module.pk)
    assert [i["id"] for i in api.get("/api/v1/reviews/due/").json()["results"]] == [item.pk]
    api.post(f"/api/v1/modules/{module.pk}/practice/", {"answers": RIGHT}, format="json")
    assert api.get("/api/v1/reviews/due/").json()["results"] == []
    CollectionItem.objects.filter(pk=item.pk).update(due_at=timezone.now() - timedelta(minutes=1))
    assert len(api.get("/api/v1/reviews/due/").json()["results"]) == 1


# -- Collection API --------------------------------------------------------------------


def test_save_list_update_and_remove_through_the_api(alice, api):
    module = module_row(alice)
    saved = api.post(
        "/api/v1/collection/",
        {"module": module.pk, "notes": "tricky", "tags": ["Past", "past", "verbs"]},
        format="json",
    )
    assert saved.status_code == 201
    item = saved.json()
    assert item["tags"] == ["past", "verbs"] and item["module"]["title"] == module.title
    again = api.post("/api/v1/collection/", {"module": module.pk}, format="json")
    assert (
        again.status_code == 409
        and again.json()["error"] == "This lesson is already in your collection."
    )
    url = f"/api/v1/collection/{item['id']}/"
    patched = api.patch(url, {"notes": "got it", "tags": ["done"]}, format="json")
    assert patched.json()["notes"] == "got it" and patched.json()["tags"] == ["done"]
    assert api.get(url).json()["notes"] == "got it"
    assert api.delete(url).status_code == 204
    assert api.get(url).status_code == 404


def test_collection_filters_by_language_family_cluster_and_tag(alice, api):
    tense = module_row(alice, n=1)
    other = module_row(alice, n=2, error_type="determiner", cluster_name="Articles", language="ko")
    learning.collection_save(learner=alice, module_id=tense.pk, tags=["verbs"])
    learning.collection_save(learner=alice, module_id=other.pk)

    def ids(query):
        return [
            i["module"]["id"] for i in api.get(f"/api/v1/collection/?{query}").json()["results"]
        ]

    assert ids("language=ko") == [other.pk]
    assert ids("error_type=verb_tense") == [tense.pk]
    assert ids("cluster=Articles") == [other.pk]
    assert ids("tag=verbs") == [tense.pk]
    assert sorted(ids("")) == sorted([tense.pk, other.pk])


@pytest.mark.parametrize(
    "body, field",
    [
        ({"notes": "x" * 2001}, "notes"),
        ({"tags": ["t"] * 11}, "tags"),
        ({"tags": ["x" * 31]}, "tag"),
    ],
)
def test_collection_input_has_limits_with_clear_errors(alice, api, body, field):
    module = module_row(alice)
    response = api.post("/api/v1/collection/", {"module": module.pk, **body}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]
    assert field in str(response.json()).lower()


def test_practice_input_is_limited(alice, api):
    module = module_row(alice)
    url = f"/api/v1/modules/{module.pk}/practice/"
    assert api.post(url, {"answers": ["a"] * 9}, format="json").status_code == 400
    assert api.post(url, {"answers": ["a"] * 4}, format="json").status_code == 400  # 3 problems
    assert api.post(url, {"answers": ["a" * 301]}, format="json").status_code == 400
    assert api.post(url, {"answers": RIGHT}, format="json").json()["score"] == 1.0
    assert PracticeAttempt.objects.count() == 1


def test_a_rejected_lesson_cannot_be_saved_or_practised(alice, api):
    module = module_row(alice, status=ModuleStatus.REJECTED)
    assert api.post("/api/v1/collection/", {"module": module.pk}, format="json").status_code == 404
    assert (
        api.post(
            f"/api/v1/modules/{module.pk}/practice/", {"answers": RIGHT}, format="json"
        ).status_code
        == 404
    )


def test_saving_after_practising_keeps_the_score_just_earned(alice, client):
    module = module_row(alice)
    learning.practice_submit(learner=alice, module=module, answers=RIGHT)
    item = learning.collection_save(learner=alice, module_id=module.pk)
    # The all-right score is the card's first review: not due again at once, like a new card.
    assert item.reviews == 1 and item.due_at > timezone.now() + timedelta(minutes=5)
    assert item.attempts.get().correct == 3
    client.force_login(alice)
    page = client.get(f"/lessons/{module.pk}/").content.decode()
    assert "In your collection, with your score of 3 of 3 · next review in " in page
    assert "0 minutes" not in page


def test_an_old_unsaved_score_is_not_counted_when_saving(alice):
    module = module_row(alice)
    attempt = learning.practice_submit(learner=alice, module=module, answers=RIGHT)
    PracticeAttempt.objects.filter(pk=attempt.pk).update(
        created_at=timezone.now() - learning.SCORE_KEPT_FOR - timedelta(minutes=1)
    )
    item = learning.collection_save(learner=alice, module_id=module.pk)
    assert item.reviews == 0 and item.due_at <= timezone.now()


def test_a_lesson_due_now_says_now_never_in_0_minutes(alice, client):
    module = module_row(alice)
    learning.collection_save(learner=alice, module_id=module.pk)
    client.force_login(alice)
    page = client.get(f"/lessons/{module.pk}/").content.decode()
    assert "next review now." in page and "0 minutes" not in page


def test_the_last_score_of_an_unsaved_lesson_is_shown_with_what_saving_does(alice, client):
    module = module_row(alice)
    learning.practice_submit(learner=alice, module=module, answers=["went", "x", "y"])
    client.force_login(alice)
    page = client.get(f"/lessons/{module.pk}/").content.decode()
    assert "Your last score: 1 of 3. Save the lesson and it counts" in page
