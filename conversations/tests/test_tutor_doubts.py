"""Grammar questions ("Explain step by step"): on a guided profile answered with the
grammar notes the question is about, cited, with no model text; on a free profile the
model answers from the same notes."""

import pytest
from django.test import Client

from conftest import PASSWORD
from conversations import services, tutoring
from conversations.tests.conftest import drain_queue, first_reply

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def guided(settings):
    settings.TUTOR_GUIDED_PROVIDERS = ["local", "scripted"]


def ask(user, text):
    conversation = services.conversation_create(owner=user, text=text, task_type="doubt_solver")
    drain_queue()
    reply = first_reply(conversation)
    reply.refresh_from_db()
    return conversation, reply


def test_a_grammar_question_is_answered_with_the_note_and_its_citation(scripted_llm, guided, alice):
    _, reply = ask(alice, "When do I use since and for?")

    assert reply.status == "complete"
    assert reply.content.startswith("***since* or *for*** [1]\n\nUse *for* with a length of time")
    assert "Tip:" in reply.content
    ids = [c["note_id"] for c in reply.citations]
    assert ids[0] == "since-or-for"
    assert [c["n"] for c in reply.citations] == list(range(1, len(ids) + 1))
    assert all(c["kind"] == "note" and c["title"] for c in reply.citations)
    assert reply.model == tutoring.NOTES_SOURCE
    assert not [c for c in scripted_llm.calls if c.profile == "doubt_solver"]  # no model text


def test_quoted_words_are_corrected_by_the_analysis_and_explained_by_its_note(
    scripted_llm, guided, alice
):
    _, reply = ask(alice, "Why is 'He go to school' wrong?")

    assert reply.content.startswith("**Better:** *He goes to school*")
    assert [c["note_id"] for c in reply.citations] == ["third-person-s"]
    assert "[1]" in reply.content


def test_a_question_no_note_covers_is_answered_honestly(scripted_llm, guided, alice):
    _, reply = ask(alice, "Who won the football match last night?")

    assert reply.content == tutoring.LABELS["en"]["no_note"]
    assert reply.citations == []


def test_the_note_is_in_the_learners_explanation_language(scripted_llm, guided, alice):
    alice.profile.explain_in = "native"  # alice's native language is Spanish
    alice.profile.save()

    _, reply = ask(alice, "Is it he go or he goes?")

    assert reply.citations[0]["note_id"] == "third-person-s"
    assert "Consejo:" in reply.content


def test_a_free_profile_answers_from_the_same_notes(scripted_llm, alice):
    scripted_llm.queue("Use for with a length of time [1].")

    _, reply = ask(alice, "When do I use since and for?")

    (call,) = [c for c in scripted_llm.calls if c.profile == "doubt_solver"]
    assert "[1] since or for: Use for with a length of time" in call.messages[0]["content"]
    assert reply.content == "Use for with a length of time [1]."
    assert reply.citations[0]["note_id"] == "since-or-for"


def test_the_chat_page_shows_a_note_as_a_source_without_a_link(scripted_llm, guided, alice):
    conversation, _ = ask(alice, "When do I use since and for?")
    client = Client()
    assert client.login(username=alice.username, password=PASSWORD)

    html = client.get(f"/conversations/{conversation.pk}/").content.decode()
    data = client.get(f"/api/v1/conversations/{conversation.pk}/").json()

    assert "[1] since or for</span> <em>(grammar notes)</em>" in html
    (reply,) = [m for m in data["messages"] if m["role"] == "assistant"]
    assert reply["citations"][0]["deleted"] is False
    assert reply["citations"][0]["url"] == ""
