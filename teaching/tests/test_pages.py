"""The learner's lesson pages render what they promise."""

import pytest

from teaching.models import Module, ModuleStatus
from teaching.services import learning
from teaching.templatetags.teaching_tags import review_topic
from teaching.tests.helpers import module_row


def test_practice_page_shows_the_lesson_and_loads_its_script_from_a_file(alice, client):
    module = module_row(alice)
    client.force_login(alice)
    page = client.get(f"/lessons/{module.pk}/").content.decode()
    assert "Yesterday I go to the market." in page and "Yesterday I went to the market." in page
    assert 'data-answer="went"' in page and "Save to my collection" in page
    assert 'src="/static/js/practice.js"' in page
    assert "<script>" not in page  # no inline scripts: a strict CSP allows files only


def test_saving_from_the_page_then_the_collection_shows_it(alice, client):
    module = module_row(alice, cluster_name="Past simple")
    client.force_login(alice)
    response = client.post(f"/lessons/{module.pk}/save/", follow=True)
    assert "Saved to your collection." in response.content.decode()
    item = alice.collection.get()
    page = client.get("/lessons/collection/?cluster=Past+simple").content.decode()
    assert module.title in page and f"item-{item.pk}" in page
    client.post(
        f"/lessons/collection/{item.pk}/", {"notes": "remember went", "tags": "verbs, past"}
    )
    item.refresh_from_db()
    assert (item.notes, item.tags) == ("remember went", ["verbs", "past"])
    assert module.title not in client.get("/lessons/collection/?tag=nouns").content.decode()
    client.post(f"/lessons/collection/{item.pk}/remove/")
    assert not alice.collection.exists()


def test_home_page_lists_lessons_due_today_and_the_review_walks_through_them(alice, client):
    module = module_row(alice)
    learning.collection_save(learner=alice, module_id=module.pk)
    client.force_login(alice)
    home = client.get("/").content.decode()
    # Listed by what it is about: a built lesson's title holds its answer.
    assert "Due today" in home and "Past simple</a>" in home
    step = client.get("/lessons/review/next/")
    assert step.status_code == 302 and step.url == f"/lessons/{module.pk}/?review=1"
    # The review: the lesson's items in another order, the explanation after answering.
    review = client.get(step.url).content.decode()
    assert "The explanation opens when you finish" in review
    problems = alice.collection.get().review["problems"]
    assert [p["answer"] for p in problems] != ["went", "ate", "wrote"]
    answers = [p["answer"] for p in problems]
    assert review.index(f'data-answer="{answers[0]}"') < review.index(f'data-answer="{answers[1]}"')
    learning.practice_submit(learner=alice, module=module, answers=answers, review=True)
    done = client.get("/lessons/review/next/", follow=True).content.decode()
    assert "All caught up" in done and "Coming up" in done


def test_conversation_lessons_page_shows_progress(alice, client):
    module = module_row(alice)
    module_row(alice, status=ModuleStatus.DRAFT, n=2, conversation=module.conversation)
    client.force_login(alice)
    page = client.get(f"/lessons/conversations/{module.conversation_id}/").content.decode()
    assert "1 of 2 ready, more coming" in page and module.title in page
    assert 'src="/static/js/lessons.js"' in page


def finished(run) -> None:
    from core import jobs

    type(run).objects.filter(pk=run.pk).update(status=jobs.JobStatus.DONE, stage="done")


def test_a_run_that_ends_with_nothing_ready_still_leaves_something_to_do(alice, bob, client):
    held = module_row(alice, status=ModuleStatus.REJECTED, cluster_name="Past simple")
    module_row(bob, status=ModuleStatus.REJECTED, n=2, cluster_name="Bob's own")
    finished(held.run)
    client.force_login(alice)
    page = client.get(f"/lessons/conversations/{held.conversation_id}/").content.decode()
    assert "0 of 1 ready · 1 did not pass our checks and went to a teacher" in page
    assert "a teacher is checking what we made" in page  # the run's note
    assert "With a teacher" in page and "Past simple" in page and "Bob&#x27;s own" not in page
    # Their own sentence, corrected, to read meanwhile.
    assert "<del>Yesterday I go to the market.</del>" in page
    assert "<ins>Yesterday I went to the market.</ins>" in page
    data = client.get(f"/api/v1/conversations/{held.conversation_id}/lessons/").json()
    assert data["held_back"] == [{"id": held.pk, "name": "Past simple"}]
    assert data["run"]["progress"]["note"].startswith("Nothing to practise from here yet")
    overall = client.get("/lessons/").content.decode()
    assert "No lessons yet" in overall and "With a teacher" in overall
    assert 'src="/static/js/lessons.js"' in overall and 'id="all-lessons"' in overall


def test_practise_now_lists_due_reviews_then_lessons_never_practised(alice, client):
    due = module_row(alice, title="Due one")
    fresh = module_row(alice, n=2, title="Fresh one")
    tried = module_row(alice, n=3, title="Tried one")
    learning.collection_save(learner=alice, module_id=due.pk)
    learning.practice_submit(learner=alice, module=tried, answers=["went"])
    client.force_login(alice)
    data = client.get(f"/api/v1/conversations/{fresh.conversation_id}/lessons/").json()
    # Due reviews from any conversation, then this conversation's lessons never practised.
    assert [(p["title"], p["why"]) for p in data["practise"]] == [
        ("Due one", "Due for review"),
        ("Fresh one", "Not practised yet"),
    ]
    page = client.get("/lessons/").content.decode()
    practise = page.split('id="practise-list"')[1].split("</ul>")[0]
    assert "Due one" in practise and "?review=1" in practise and "Fresh one" in practise
    assert "Tried one" not in practise


def test_a_run_with_no_mistake_worth_a_lesson_says_so(alice, client):
    from conversations.models import Conversation
    from teaching.models import TeachingRun

    conversation = Conversation.objects.create(owner=alice, title="Clean")
    run = TeachingRun.objects.create(learner=alice, conversation=conversation)
    finished(run)
    client.force_login(alice)
    page = client.get(f"/lessons/conversations/{conversation.pk}/").content.decode()
    assert "No mistake came up often enough here for a lesson" in page


@pytest.mark.parametrize(
    ("cluster_name", "error_type", "shown"),
    [
        ("Past participle after *have*", "verb_form", "Past participle after *have*"),
        ("Verb tense: *go* \u2192 *went*", "verb_tense", "Verb tense"),
        ("", "subject_verb_agreement", "Subject-verb agreement"),
    ],
)
def test_a_lesson_due_for_review_is_named_without_its_answer(cluster_name, error_type, shown):
    module = Module(
        title="Past simple: went, not go", cluster_name=cluster_name, error_type=error_type
    )
    assert review_topic(module) == shown
