"""The server-rendered pages: the conversation list (home) and the chat page."""

import json
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from conftest import PASSWORD
from conversations.models import Conversation, Message, Role, Status, TaskType


def make_conversation(owner, title: str = "Past tenses", *, age_minutes: int = 0, **fields):
    when = timezone.now() - timedelta(minutes=age_minutes)
    return Conversation.objects.create(
        owner=owner, title=title, created_at=when, updated_at=when, **fields
    )


def add_message(conversation, role: str, content: str, **fields) -> Message:
    conversation.last_seq += 1
    conversation.save(update_fields=["last_seq"])
    fields.setdefault("status", Status.COMPLETE)
    return Message.objects.create(
        conversation=conversation, seq=conversation.last_seq, role=role, content=content, **fields
    )


def signed_in(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def chat_data(response) -> dict:
    match = re.search(
        r'<script id="chat-data" type="application/json">(.*?)</script>',
        response.content.decode(),
        re.S,
    )
    assert match, "the chat page embeds its state for chat.js"
    return json.loads(match.group(1))


# --- The list ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_list_shows_the_owners_conversations_newest_activity_first(alice, bob):
    older = make_conversation(alice, "Articles in English", age_minutes=90)
    add_message(older, Role.USER, "When do I say a and when an?")
    newer = make_conversation(alice, "Phrasal verbs", age_minutes=5)
    add_message(newer, Role.USER, "What does give up mean?")
    add_message(newer, Role.ASSISTANT, "It means *to stop trying* & that's **it**.")
    make_conversation(bob, "Bob's secret question")

    response = signed_in(alice).get("/")

    assert response.status_code == 200
    html = response.content.decode()
    assert html.index("Phrasal verbs") < html.index("Articles in English")
    # The last message, previewed as words rather than Markdown.
    assert "It means to stop trying &amp; that&#x27;s it." in html
    assert "2 messages" in html
    assert "5\xa0minutes ago" in html
    assert f'href="/conversations/{newer.id}/"' in html
    assert "Bob&#x27;s secret question" not in html and "Bob's secret" not in html


@pytest.mark.django_db
def test_list_invites_a_first_question_when_empty(alice):
    response = signed_in(alice).get("/")

    html = response.content.decode()
    assert "No conversations yet" in html
    assert 'id="new-conversation"' in html
    for value, label in TaskType.choices:
        assert f'<option value="{value}"' in html and label in html


@pytest.mark.django_db
def test_list_is_paginated_with_a_constant_number_of_queries(alice, django_assert_max_num_queries):
    for n in range(23):
        conversation = make_conversation(alice, f"Question {n:02}", age_minutes=n)
        add_message(conversation, Role.USER, f"Message {n}")
    client = signed_in(alice)

    with django_assert_max_num_queries(6):
        first = client.get("/").content.decode()
    second = client.get("/?page=2").content.decode()

    assert "Question 00" in first and "Question 19" in first and "Question 20" not in first
    assert "Question 20" in second and "Question 22" in second and "Question 00" not in second
    assert "Page 2 of 2" in second


@pytest.mark.django_db
def test_message_length_limit_reaches_the_composer(alice, settings):
    settings.MESSAGE_MAX_CHARS = 1234

    html = signed_in(alice).get("/").content.decode()

    assert 'data-max-chars="1234"' in html
    assert "0 / 1234" in html


# --- The chat page ----------------------------------------------------------------------


@pytest.mark.django_db
def test_chat_page_shows_the_owners_messages_in_order(alice):
    conversation = make_conversation(alice, "Since or for")
    add_message(conversation, Role.USER, "When do I use since?")
    add_message(
        conversation,
        Role.ASSISTANT,
        "Use *since* with a point in time.",
        model="SmolLM2-135M-Instruct",
        completion_tokens=9,
    )

    response = signed_in(alice).get(f"/conversations/{conversation.id}/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "<title>Since or for · Curiosity Coach</title>" in html
    assert html.index("When do I use since?") < html.index("Use <em>since</em>")
    assert "SmolLM2-135M-Instruct · 9 tokens" in html
    assert "flash" not in html  # messages of the chat are not the framework's flash messages
    data = chat_data(response)
    assert [m["seq"] for m in data["messages"]] == [1, 2]
    assert data["conversation"] == {
        "id": conversation.id,
        "title": "Since or for",
        "task_type": "chat",
        "ended_at": None,
    }
    # The rendered Markdown is in the page once: chat.js reads it from the list.
    assert html.count("Use <em>since</em> with a point in time.") == 1
    assert all("html" not in m for m in data["messages"])
    assert data["messages"][1]["content"] == "Use *since* with a point in time."


@pytest.mark.django_db
def test_chat_page_renders_markdown_and_never_a_script(alice):
    conversation = make_conversation(alice)
    attack = "**Bold** and `code`\n\n<script>alert('learner')</script><img src=x onerror=alert(1)>"
    add_message(conversation, Role.USER, attack)
    add_message(conversation, Role.ASSISTANT, "- one\n- two\n\n<script>alert('model')</script>")
    add_message(conversation, Role.USER, "And now?")
    add_message(
        conversation,
        Role.ASSISTANT,
        "Half way <script>alert('stream')</script>",
        status="streaming",
    )

    html = signed_in(alice).get(f"/conversations/{conversation.id}/").content.decode()

    assert "<strong>Bold</strong>" in html and "<code>code</code>" in html
    assert "<li>one</li>" in html
    # Markup from a learner or the model only ever appears as text.
    assert "<script>alert" not in html
    assert "<img" not in html
    assert "&lt;script&gt;alert(&#x27;stream&#x27;)&lt;/script&gt;" in html


@pytest.mark.django_db
def test_chat_page_shows_a_failed_reply_with_its_reason(alice):
    conversation = make_conversation(alice)
    add_message(conversation, Role.USER, "Explain the subjunctive")
    add_message(
        conversation,
        Role.ASSISTANT,
        "",
        status=Status.FAILED,
        error="The tutor is unavailable right now. Try again in a minute.",
    )

    html = signed_in(alice).get(f"/conversations/{conversation.id}/").content.decode()

    assert "is-failed" in html
    assert "The tutor is unavailable right now. Try again in a minute." in html


@pytest.mark.django_db
def test_chat_page_shows_only_the_newest_of_regenerated_replies(alice):
    conversation = make_conversation(alice)
    question = add_message(conversation, Role.USER, "Give me a synonym for happy")
    add_message(conversation, Role.ASSISTANT, "Sad.", superseded=True, reply_to=question)
    add_message(conversation, Role.ASSISTANT, "Glad.", reply_to=question, replaces_seq=2)

    response = signed_in(alice).get(f"/conversations/{conversation.id}/")

    assert "Glad." in response.content.decode()
    assert "Sad." not in response.content.decode()
    assert [m["seq"] for m in chat_data(response)["messages"]] == [1, 3]


@pytest.mark.django_db
def test_ended_conversation_disables_the_composer(alice):
    conversation = make_conversation(alice, ended_at=timezone.now())
    add_message(conversation, Role.USER, "Thanks!")

    html = signed_in(alice).get(f"/conversations/{conversation.id}/").content.decode()

    assert re.search(r'<textarea id="composer-text"[^>]*\sdisabled', html)
    note = re.search(r'<p class="ended-note" id="ended-note"[^>]*>', html).group(0)
    assert "hidden" not in note


@pytest.mark.django_db
def test_chat_page_of_another_learner_is_not_found(alice, bob):
    conversation = make_conversation(alice, "Alice's private question")
    add_message(conversation, Role.USER, "Something personal")

    response = signed_in(bob).get(f"/conversations/{conversation.id}/")

    assert response.status_code == 404
    assert "Something personal" not in response.content.decode()


@pytest.mark.django_db
def test_missing_conversation_is_not_found(alice):
    assert signed_in(alice).get("/conversations/999999/").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/conversations/1/"])
def test_anonymous_visitors_are_sent_to_log_in(client, path):
    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={path}"


@pytest.mark.django_db
def test_a_long_conversation_opens_on_its_newest_messages(
    alice, settings, django_assert_max_num_queries
):
    conversation = make_conversation(alice, last_seq=205)
    Message.objects.bulk_create(
        Message(conversation=conversation, seq=n, role=Role.USER, content=f"Message {n}")
        for n in range(1, 206)
    )
    client = signed_in(alice)

    with django_assert_max_num_queries(8):
        response = client.get(f"/conversations/{conversation.id}/")

    html = response.content.decode()
    assert [m["seq"] for m in chat_data(response)["messages"]] == list(range(6, 206))
    assert html.count('class="message is-user') == 200
    assert "<p>Message 5</p>" not in html and "<p>Message 6</p>" in html
    assert re.search(r'id="load-earlier" hidden><button [^>]*data-before-seq="6"', html)


@pytest.mark.django_db
def test_a_short_conversation_offers_no_earlier_messages(alice):
    conversation = make_conversation(alice)
    add_message(conversation, Role.USER, "Only one")

    html = signed_in(alice).get(f"/conversations/{conversation.id}/").content.decode()

    assert "load-earlier" not in html


@pytest.mark.django_db
def test_the_list_counts_the_messages_the_chat_shows(alice):
    conversation = make_conversation(alice)
    add_message(conversation, Role.USER, "Question")
    add_message(conversation, Role.ASSISTANT, "First answer", superseded=True)
    add_message(conversation, Role.ASSISTANT, "Second answer", replaces_seq=2)

    body = signed_in(alice).get("/").content.decode()

    assert "2 messages" in body and "3 messages" not in body


@pytest.mark.django_db
def test_deleting_from_the_chat_page_confirms_it_on_the_list(alice, bob):
    conversation = make_conversation(alice, "Weekend plans")
    add_message(conversation, Role.USER, "Question")
    client = signed_in(alice)
    url = f"/conversations/{conversation.pk}/delete/"

    assert signed_in(bob).post(url).status_code == 404
    assert client.get(url).status_code == 405
    response = client.post(url, follow=True)

    assert response.redirect_chain == [("/", 302)]
    assert "Deleted “Weekend plans” and all its messages." in response.content.decode()
    assert not Conversation.objects.filter(pk=conversation.pk).exists()
    assert client.get(f"/conversations/{conversation.pk}/").status_code == 404
