"""REST under /api/v1/conversations/: the contract the chat page and API clients rely on."""

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from conversations import services
from conversations.models import Conversation, Message
from conversations.serializers import MessageSerializer
from conversations.tests.conftest import drain_queue
from core import jobs

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/api/v1/conversations/"


def create(api, text="Hello, can you help me with English?", **extra):
    response = api.post(URL, {"text": text, **extra}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def finish_running_replies() -> None:
    Message.objects.filter(status__in=["pending", "streaming"]).update(
        status="complete", content="Done."
    )


# --- Create, read, list -----------------------------------------------------------------


def test_creating_a_conversation_stores_the_message_and_a_pending_reply(api, alice):
    body = create(api, "I goed to the park yesterday and it was very nice", task_type="chat")

    assert body["title"] == "I goed to the park yesterday and it was very nice"
    assert body["mode"] == "open" and body["task_type"] == "chat"
    message, reply = body["messages"]
    assert (message["seq"], message["role"], message["status"]) == (1, "user", "complete")
    assert message["html"].strip() == "<p>I goed to the park yesterday and it was very nice</p>"
    assert (reply["seq"], reply["role"], reply["status"]) == (2, "assistant", "pending")
    conversation = Conversation.objects.get(pk=body["id"])
    assert conversation.owner == alice
    # Queued with ids only: the reply, and the learner message's check.
    reply_task, check_task = DBTaskResult.objects.order_by("task_path").reverse()
    assert reply_task.task_path == "conversations.tasks.generate_reply"
    assert reply_task.args_kwargs == {"args": [reply["id"]], "kwargs": {}}
    assert check_task.task_path == "analysis.tasks.check_message"


def test_title_is_cut_at_a_word_and_can_be_given(api):
    long_text = "Could you please explain when I should use the subjunctive mood in Spanish?"
    assert (
        create(api, long_text)["title"]
        == "Could you please explain when I should use the subjunctive…"
    )
    assert create(api, "Hi", title="  Travel phrases ")["title"] == "Travel phrases"


def test_reading_a_conversation_returns_its_messages_with_tokens_and_model(api, scripted_llm):
    scripted_llm.queue("**Sure!**")
    created = create(api)
    drain_queue()

    body = api.get(f"{URL}{created['id']}/").json()

    reply = body["messages"][1]
    assert reply["status"] == "complete"
    assert reply["content"] == "**Sure!**"
    assert reply["html"].strip() == "<p><strong>Sure!</strong></p>"
    assert reply["model"] == "scripted-model"
    assert reply["prompt_tokens"] > 0 and reply["completion_tokens"] > 0


def test_list_is_paginated_newest_activity_first(api, alice):
    first = create(api, "first")
    second = create(api, "second")
    finish_running_replies()
    api.post(f"{URL}{first['id']}/messages/", {"text": "first again"}, format="json")

    body = api.get(URL, {"page_size": 1}).json()

    assert body["count"] == 2
    assert body["next"] and body["previous"] is None
    (item,) = body["results"]
    assert item["id"] == first["id"]
    assert item["message_count"] == 4
    assert item["last_message_preview"] == ""  # the pending reply has no text yet
    assert set(item) >= {"title", "mode", "task_type", "created_at", "updated_at", "ended_at"}
    assert api.get(URL, {"page": 2, "page_size": 1}).json()["results"][0]["id"] == second["id"]


def test_list_page_size_is_capped_at_100(api, alice):
    for number in range(3):
        services.conversation_create(owner=alice, text=f"message {number}")

    body = api.get(URL, {"page_size": 1000}).json()

    assert len(body["results"]) == 3
    assert api.get(URL, {"page": 99}).status_code == 404


def test_list_costs_the_same_queries_for_3_or_30_conversations(
    api, alice, django_assert_num_queries
):
    def add(count: int) -> None:
        for number in range(count):
            services.conversation_create(owner=alice, text=f"Question number {number}")

    add(3)
    # JWT user, count, page.
    with django_assert_num_queries(3):
        assert len(api.get(URL).json()["results"]) == 3
    add(27)
    with django_assert_num_queries(3):
        assert len(api.get(URL, {"page_size": 30}).json()["results"]) == 30


def test_preview_is_the_start_of_the_last_message(api, alice):
    conversation = services.conversation_create(owner=alice, text="x" * 500)
    Message.objects.filter(conversation=conversation, role="assistant").delete()

    (item,) = api.get(URL).json()["results"]

    assert item["last_message_preview"] == "x" * 140


# --- Post, idempotency, limits -------------------------------------------------------------


def tasks_named(name: str) -> int:
    return DBTaskResult.objects.filter(task_path__endswith=f".{name}").count()


def test_posting_a_message_returns_202_with_the_message_and_its_pending_reply(api):
    conversation = create(api)
    finish_running_replies()

    response = api.post(
        f"{URL}{conversation['id']}/messages/",
        {"text": "Explain 'since'", "task_type": "doubt_solver"},
        format="json",
    )

    assert response.status_code == 202
    body = response.json()
    assert body["message"]["seq"] == 3 and body["message"]["content"] == "Explain 'since'"
    assert body["reply"]["seq"] == 4 and body["reply"]["status"] == "pending"
    assert body["reply"]["task_type"] == "doubt_solver"
    assert tasks_named("generate_reply") == 2  # the conversation's first reply + this one
    assert tasks_named("check_message") == 2  # each learner message is checked at once


def test_a_retried_post_with_the_same_idempotency_key_returns_the_first_result(api):
    conversation = create(api)
    finish_running_replies()
    url = f"{URL}{conversation['id']}/messages/"

    first = api.post(url, {"text": "Once"}, format="json", HTTP_IDEMPOTENCY_KEY="key-1")
    again = api.post(url, {"text": "Once"}, format="json", HTTP_IDEMPOTENCY_KEY="key-1")

    assert first.status_code == again.status_code == 202
    assert again.json()["message"]["id"] == first.json()["message"]["id"]
    assert again.json()["reply"]["id"] == first.json()["reply"]["id"]
    assert Message.objects.filter(content="Once").count() == 1
    assert tasks_named("generate_reply") == 2  # the conversation's first reply + this one
    assert tasks_named("check_message") == 2


def test_an_idempotency_key_reused_for_other_text_is_a_conflict(api):
    conversation = create(api)
    finish_running_replies()
    url = f"{URL}{conversation['id']}/messages/"
    api.post(url, {"text": "Once"}, format="json", HTTP_IDEMPOTENCY_KEY="key-1")
    finish_running_replies()

    response = api.post(url, {"text": "Other"}, format="json", HTTP_IDEMPOTENCY_KEY="key-1")

    assert response.status_code == 409


def test_a_retried_create_with_the_same_idempotency_key_is_not_duplicated(api):
    first = api.post(URL, {"text": "Hi"}, format="json", HTTP_IDEMPOTENCY_KEY="new-chat-1")
    again = api.post(URL, {"text": "Hi"}, format="json", HTTP_IDEMPOTENCY_KEY="new-chat-1")

    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert Conversation.objects.count() == 1


@override_settings(MESSAGE_MAX_CHARS=50)
def test_too_long_text_is_413_with_the_limit(api):
    response = api.post(URL, {"text": "a" * 51}, format="json")

    assert response.status_code == 413
    assert response.json() == {
        "error": "Your message is too long: keep it under 50 characters.",
        "detail": {"limit": 50, "length": 51},
    }
    assert not Conversation.objects.exists()


def test_empty_text_and_unknown_task_type_are_400(api):
    assert api.post(URL, {"text": "   "}, format="json").status_code == 400
    response = api.post(URL, {"text": "hi", "task_type": "poetry"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"] == "Invalid input"
    assert "task_type" in response.json()["detail"]


def test_posting_while_a_reply_is_running_is_409(api):
    conversation = create(api)

    response = api.post(f"{URL}{conversation['id']}/messages/", {"text": "More"}, format="json")

    assert response.status_code == 409
    assert response.json()["error"] == "The tutor is still answering"


def test_spent_quota_is_429(api, alice, settings, scripted_llm):
    create(api)
    drain_queue()
    settings.LLM_DAILY_TOKEN_QUOTA = 1

    response = api.post(URL, {"text": "One more?"}, format="json")

    assert response.status_code == 429
    assert "allowance" in response.json()["error"]
    assert response["Retry-After"]


def test_unauthenticated_requests_are_401(client):
    assert client.get(URL).status_code in (401, 403)
    assert client.get(URL).json()["error"]


# --- Rename, delete, end ------------------------------------------------------------------


def test_rename(api):
    conversation = create(api)

    response = api.patch(f"{URL}{conversation['id']}/", {"title": "Past tenses"}, format="json")

    assert response.status_code == 200
    assert response.json()["title"] == "Past tenses"
    assert api.patch(f"{URL}{conversation['id']}/", {"title": ""}, format="json").status_code == 400


def test_delete_cascades_to_messages(api):
    conversation = create(api)

    assert api.delete(f"{URL}{conversation['id']}/").status_code == 204

    assert not Conversation.objects.exists()
    assert not Message.objects.exists()
    assert api.get(f"{URL}{conversation['id']}/").status_code == 404


def test_ending_refuses_new_messages(api):
    conversation = create(api)
    finish_running_replies()

    response = api.post(f"{URL}{conversation['id']}/end/")

    assert response.status_code == 200
    assert response.json()["ended_at"]
    ended_at = response.json()["ended_at"]
    assert api.post(f"{URL}{conversation['id']}/end/").json()["ended_at"] == ended_at
    post = api.post(f"{URL}{conversation['id']}/messages/", {"text": "More"}, format="json")
    assert post.status_code == 409
    assert post.json()["error"] == "This conversation has ended"


# --- Regenerate and cancel ----------------------------------------------------------------


def test_regenerate_queues_a_new_reply_replacing_the_last(api):
    conversation = create(api)
    finish_running_replies()

    response = api.post(f"{URL}{conversation['id']}/regenerate/")

    assert response.status_code == 202
    reply = response.json()["reply"]
    assert (reply["seq"], reply["status"], reply["replaces_seq"]) == (3, "pending", 2)
    messages = api.get(f"{URL}{conversation['id']}/").json()["messages"]
    # The replaced reply leaves the view, as on the chat page and in the message pages.
    assert [(m["seq"], m["superseded"]) for m in messages] == [(1, False), (3, False)]


def test_regenerated_replies_keep_their_earlier_versions_browsable(api):
    conversation = create(api)
    Message.objects.filter(seq=2).update(status="complete", content="First answer.")
    api.post(f"{URL}{conversation['id']}/regenerate/")
    Message.objects.filter(seq=3).update(status="failed", error="The tutor took too long.")
    third = api.post(f"{URL}{conversation['id']}/regenerate/").json()["reply"]
    Message.objects.filter(seq=4).update(status="complete", content="Third **answer**.")

    shown = api.get(f"{URL}{conversation['id']}/").json()["messages"]
    versions = api.get(f"{URL}{conversation['id']}/messages/4/versions/")

    assert (third["seq"], third["version"], third["replaces_seq"]) == (4, 3, 3)
    assert [(m["seq"], m["version"]) for m in shown] == [(1, 1), (4, 3)]
    assert versions.status_code == 200
    found = versions.json()["versions"]
    assert [(m["seq"], m["version"], m["status"], m["superseded"]) for m in found] == [
        (2, 1, "complete", True),
        (3, 2, "failed", True),
        (4, 3, "complete", False),
    ]
    assert found[0]["html"] == "<p>First answer.</p>\n"
    assert found[1]["error"] == "The tutor took too long."
    assert found[2]["html"] == "<p>Third <strong>answer</strong>.</p>\n"
    # Any version names the same list; the learner's message and unknown seqs are no reply.
    again = api.get(f"{URL}{conversation['id']}/messages/2/versions/").json()["versions"]
    assert [m["seq"] for m in again] == [2, 3, 4]
    for seq in (1, 99, 0):
        missing = api.get(f"{URL}{conversation['id']}/messages/{seq}/versions/")
        assert missing.status_code == 404
        assert missing.json()["error"] == "Reply not found"


def test_a_first_reply_is_version_one_of_one(api):
    conversation = create(api)

    versions = api.get(f"{URL}{conversation['id']}/messages/2/versions/").json()["versions"]

    assert [(m["seq"], m["version"]) for m in versions] == [(2, 1)]


def test_regenerate_while_running_is_409(api):
    conversation = create(api)

    assert api.post(f"{URL}{conversation['id']}/regenerate/").status_code == 409


def test_cancel_stops_the_running_reply(api):
    conversation = create(api)

    response = api.post(f"{URL}{conversation['id']}/cancel/")

    assert response.status_code == 200
    assert response.json()["message"]["status"] == "cancelled"
    assert response.json()["message"]["seq"] == 2


def test_cancel_with_nothing_running_is_409(api):
    conversation = create(api)
    finish_running_replies()

    response = api.post(f"{URL}{conversation['id']}/cancel/")

    assert response.status_code == 409
    assert response.json() == {
        "error": "Nothing to cancel",
        "detail": "No reply is being written right now.",
    }


# --- Other learners -----------------------------------------------------------------------


def test_other_learners_get_404_on_every_endpoint_with_the_missing_body(api, bob_api, alice):
    conversation = create(api)
    base = f"{URL}{conversation['id']}/"
    missing = f"{URL}999999/"
    calls = [
        ("get", ""),
        ("patch", ""),
        ("delete", ""),
        ("get", "messages/"),
        ("post", "messages/"),
        ("get", "messages/2/versions/"),
        ("post", "regenerate/"),
        ("post", "cancel/"),
        ("post", "end/"),
    ]

    for method, suffix in calls:
        data = {"text": "hi", "title": "mine now"}
        theirs = getattr(bob_api, method)(base + suffix, data, format="json")
        nothing = getattr(bob_api, method)(missing + suffix, data, format="json")
        assert theirs.status_code == 404, (method, suffix)
        assert theirs.json()["error"] == nothing.json()["error"] == "Conversation not found"

    assert bob_api.get(URL).json()["count"] == 0
    alices = Conversation.objects.get(pk=conversation["id"])
    assert alices.title != "mine now" and alices.ended_at is None
    assert alices.messages.count() == 2


def test_conversation_updated_at_moves_with_activity(api, alice):
    conversation = create(api)
    finish_running_replies()
    before = Conversation.objects.get(pk=conversation["id"]).updated_at

    api.post(f"{URL}{conversation['id']}/messages/", {"text": "More"}, format="json")

    after = Conversation.objects.get(pk=conversation["id"]).updated_at
    assert before < after <= timezone.now()


def test_message_objects_have_exactly_the_fields_the_schema_declares(api):
    body = create(api)

    declared = set(MessageSerializer().fields)
    for message in body["messages"]:
        assert set(message) == declared


def test_a_queue_refusing_after_commit_still_answers_202_and_the_sweeper_queues_the_reply(
    api, monkeypatch, caplog, settings
):
    conversation = create(api)
    finish_running_replies()

    class RefusingQueue:
        def enqueue(self, *args, **kwargs):
            raise ConnectionError("the queue is down")

    monkeypatch.setattr(jobs.kind_of(Message), "task", RefusingQueue())
    response = api.post(f"{URL}{conversation['id']}/messages/", {"text": "Still there?"})
    monkeypatch.undo()

    assert response.status_code == 202
    reply = Message.objects.get(pk=response.json()["reply"]["id"])
    assert reply.status == "pending"
    assert f"Reply {reply.pk} is stored but not queued" in caplog.text
    assert not DBTaskResult.objects.filter(args_kwargs__args__0=reply.pk).exists()

    later = timezone.now() + timedelta(seconds=settings.REPLY_PENDING_STALE_SECONDS + 1)
    assert services.replies_sweep(now=later)["requeued"] == 1
    assert DBTaskResult.objects.filter(args_kwargs__args__0=reply.pk).exists()


def test_a_create_retried_with_the_same_key_but_other_text_is_a_conflict(api):
    first = api.post(URL, {"text": "Hi"}, format="json", HTTP_IDEMPOTENCY_KEY="new-chat-1")
    other = api.post(URL, {"text": "Bye"}, format="json", HTTP_IDEMPOTENCY_KEY="new-chat-1")

    assert first.status_code == 201
    assert other.status_code == 409
    assert other.json()["error"] == "This Idempotency-Key was already used for another conversation"
    assert Conversation.objects.count() == 1


def test_a_post_retried_after_a_regenerate_returns_the_current_reply(api):
    conversation = create(api)
    finish_running_replies()
    url = f"{URL}{conversation['id']}/messages/"
    first = api.post(url, {"text": "Once"}, format="json", HTTP_IDEMPOTENCY_KEY="key-1")
    finish_running_replies()
    regenerated = api.post(f"{URL}{conversation['id']}/regenerate/").json()["reply"]

    again = api.post(url, {"text": "Once"}, format="json", HTTP_IDEMPOTENCY_KEY="key-1")

    assert again.status_code == 202
    assert again.json()["message"]["id"] == first.json()["message"]["id"]
    assert again.json()["reply"]["id"] == regenerated["id"] != first.json()["reply"]["id"]
    assert again.json()["reply"]["superseded"] is False


def many_messages(conversation_id: int, count: int) -> None:
    conversation = Conversation.objects.get(pk=conversation_id)
    Message.objects.bulk_create(
        Message(conversation=conversation, seq=n, role="user", content=f"Message {n}")
        for n in range(3, 3 + count)
    )
    Conversation.objects.filter(pk=conversation_id).update(last_seq=2 + count)


def test_messages_are_read_a_page_at_a_time_from_the_newest(api, django_assert_max_num_queries):
    conversation = create(api)
    finish_running_replies()
    many_messages(conversation["id"], 250)  # seqs 3..252, after the first two
    url = f"{URL}{conversation['id']}/messages/"

    with django_assert_max_num_queries(5):
        newest = api.get(url).json()
    earlier = api.get(url, {"before_seq": newest["messages"][0]["seq"]}).json()

    assert [m["seq"] for m in newest["messages"]] == list(range(53, 253))
    assert newest["has_earlier"] is True
    assert newest["messages"][-1]["html"] == "<p>Message 252</p>\n"
    assert [m["seq"] for m in earlier["messages"]] == list(range(1, 53))
    assert earlier["has_earlier"] is False


def test_message_pages_leave_out_replaced_replies_and_refuse_a_bad_before_seq(api):
    conversation = create(api)
    finish_running_replies()
    api.post(f"{URL}{conversation['id']}/regenerate/")
    url = f"{URL}{conversation['id']}/messages/"

    page = api.get(url).json()

    assert [(m["seq"], m["role"]) for m in page["messages"]] == [(1, "user"), (3, "assistant")]
    assert api.get(url, {"before_seq": "zero"}).status_code == 400
    assert api.get(url, {"before_seq": 0}).status_code == 400


def test_reading_a_long_conversation_returns_its_newest_page_of_messages(api):
    conversation = create(api)
    finish_running_replies()
    many_messages(conversation["id"], 250)  # seqs 3..252

    data = api.get(f"{URL}{conversation['id']}/").json()

    assert [m["seq"] for m in data["messages"]] == list(range(53, 253))
    assert data["has_earlier_messages"] is True
    short = api.get(f"{URL}{create(api)['id']}/").json()
    assert [m["seq"] for m in short["messages"]] == [1, 2]
    assert short["has_earlier_messages"] is False


def test_the_migration_numbers_the_versions_of_replies_regenerated_before_it(api):
    from importlib import import_module

    from django.apps import apps

    conversation = create(api)
    finish_running_replies()
    api.post(f"{URL}{conversation['id']}/regenerate/")
    finish_running_replies()
    api.post(f"{URL}{conversation['id']}/regenerate/")
    Message.objects.update(version=1)  # as the rows were before the field existed

    import_module("conversations.migrations.0003_message_version").number_versions(apps, None)

    assert list(Message.objects.order_by("seq").values_list("seq", "version")) == [
        (1, 1),
        (2, 1),
        (3, 2),
        (4, 3),
    ]
