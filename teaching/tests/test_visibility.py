"""Only validated or staff-approved modules reach learners, and only their own: pages,
API and socket events all go through one selector."""

import pytest

from teaching import events, selectors
from teaching.models import ModuleStatus
from teaching.services import learning
from teaching.tests.helpers import module_row


@pytest.fixture
def modules(alice):
    return {
        status: module_row(alice, status=status, n=i + 1, title=f"Lesson {status}")
        for i, status in enumerate(ModuleStatus.values)
    }


def test_the_selector_lets_through_validated_and_approved_only(alice, modules):
    visible = set(selectors.modules_visible_to(alice).values_list("status", flat=True))
    assert visible == {ModuleStatus.VALIDATED, ModuleStatus.APPROVED}


def test_a_module_rejected_for_good_is_never_shown(alice, modules):
    approved = modules[ModuleStatus.APPROVED]
    approved.final = True
    approved.save()
    assert approved not in selectors.modules_visible_to(alice)


def test_api_lists_and_reads_only_visible_modules(alice, api, modules):
    listed = {m["status"] for m in api.get("/api/v1/modules/").json()["results"]}
    assert listed == {"validated", "approved"}
    for status, module in modules.items():
        expected = 200 if status in ("validated", "approved") else 404
        assert api.get(f"/api/v1/modules/{module.pk}/").status_code == expected


def test_conversation_lessons_show_the_run_and_visible_modules_only(alice, api, modules):
    draft = modules[ModuleStatus.DRAFT]
    body = api.get(f"/api/v1/conversations/{draft.conversation_id}/lessons/").json()
    assert body["modules"] == [] and body["run"]["progress"]["total"] == 1
    ok = modules[ModuleStatus.VALIDATED]
    body = api.get(f"/api/v1/conversations/{ok.conversation_id}/lessons/").json()
    assert [m["id"] for m in body["modules"]] == [ok.pk]
    assert body["run"]["progress"]["text"] == "1 of 1 ready, more coming"


def test_pages_show_visible_modules_only(alice, client, modules):
    client.force_login(alice)
    page = client.get("/lessons/").content.decode()
    assert "Lesson validated" in page and "Lesson approved" in page
    assert "Lesson draft" not in page and "Lesson rejected" not in page
    for status, module in modules.items():
        expected = 200 if status in ("validated", "approved") else 404
        assert client.get(f"/lessons/{module.pk}/").status_code == expected


def test_events_for_a_hidden_module_carry_no_module(alice, modules, monkeypatch):
    sent = []
    monkeypatch.setattr(events, "user_event_send", lambda user_id, payload: sent.append(payload))
    events._send_module(modules[ModuleStatus.REJECTED].pk)
    assert [e["type"] for e in sent] == ["teaching.run_updated"]
    sent.clear()
    events._send_module(modules[ModuleStatus.VALIDATED].pk)
    assert [e["type"] for e in sent] == ["teaching.module_ready", "teaching.run_updated"]


# -- Ownership: another learner gets 404 everywhere ----------------------------------------


def test_another_learner_gets_404_on_every_endpoint(alice, bob_api, modules):
    module = modules[ModuleStatus.VALIDATED]
    item = learning.collection_save(learner=alice, module_id=module.pk)
    run = module.run
    for method, url, body in [
        ("get", f"/api/v1/modules/{module.pk}/", None),
        ("post", f"/api/v1/modules/{module.pk}/practice/", {"answers": ["went"]}),
        ("get", f"/api/v1/conversations/{module.conversation_id}/lessons/", None),
        ("get", f"/api/v1/teaching/runs/{run.pk}/", None),
        ("get", f"/api/v1/collection/{item.pk}/", None),
        ("patch", f"/api/v1/collection/{item.pk}/", {"notes": "mine now"}),
        ("delete", f"/api/v1/collection/{item.pk}/", None),
        ("post", "/api/v1/collection/", {"module": module.pk}),
    ]:
        response = getattr(bob_api, method)(url, body, format="json")
        assert response.status_code == 404, (method, url)
        assert response.json()["error"]
    assert bob_api.get("/api/v1/modules/").json()["results"] == []
    assert bob_api.get("/api/v1/collection/").json()["results"] == []
    assert bob_api.get("/api/v1/reviews/due/").json()["results"] == []
    assert bob_api.get("/api/v1/teaching/runs/").json()["results"] == []
    item.refresh_from_db()
    assert item.notes == ""


def test_another_learner_gets_404_on_every_page(alice, bob, client, modules):
    module = modules[ModuleStatus.VALIDATED]
    item = learning.collection_save(learner=alice, module_id=module.pk)
    client.force_login(bob)
    assert client.get(f"/lessons/{module.pk}/").status_code == 404
    assert client.get(f"/lessons/conversations/{module.conversation_id}/").status_code == 404
    assert client.post(f"/lessons/{module.pk}/save/").status_code == 404
    assert client.post(f"/lessons/collection/{item.pk}/", {"notes": "x"}).status_code == 404
    assert client.post(f"/lessons/collection/{item.pk}/remove/").status_code == 404
    assert "Lesson validated" not in client.get("/lessons/").content.decode()


def test_anonymous_visitors_are_sent_to_log_in(client, modules):
    assert client.get("/lessons/").status_code == 302


def test_the_lists_use_a_fixed_number_of_queries(alice, api, django_assert_max_num_queries):
    for n in range(1, 6):
        learning.collection_save(learner=alice, module_id=module_row(alice, n=n).pk)
    with django_assert_max_num_queries(8):
        assert len(api.get("/api/v1/collection/").json()["results"]) == 5
    with django_assert_max_num_queries(8):
        assert len(api.get("/api/v1/modules/").json()["results"]) == 5
    with django_assert_max_num_queries(8):
        runs = api.get("/api/v1/teaching/runs/").json()["results"]
    assert len(runs) == 5 and all(r["progress"]["ready"] == 1 for r in runs)
