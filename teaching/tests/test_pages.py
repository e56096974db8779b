"""The learner's lesson pages render what they promise."""

from teaching.models import ModuleStatus
from teaching.services import learning
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
    assert "Due today" in home and module.title in home
    step = client.get("/lessons/review/next/")
    assert step.status_code == 302 and step.url == f"/lessons/{module.pk}/?review=1"
    learning.practice_submit(learner=alice, module=module, answers=["went", "ate", "wrote"])
    done = client.get("/lessons/review/next/", follow=True).content.decode()
    assert "All caught up" in done and "Coming up" in done


def test_conversation_lessons_page_shows_progress(alice, client):
    module = module_row(alice)
    module_row(alice, status=ModuleStatus.DRAFT, n=2, conversation=module.conversation)
    client.force_login(alice)
    page = client.get(f"/lessons/conversations/{module.conversation_id}/").content.decode()
    assert "1 of 2 ready, more coming" in page and module.title in page
    assert 'src="/static/js/lessons.js"' in page
