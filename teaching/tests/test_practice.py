"""Practice asked for in the chat: the lesson builder's verified items, from the learner's
own corrected sentences of the kind asked for, else the grammar note's examples."""

import pytest

from conversations import services, tutoring
from conversations.tests.conftest import drain_queue, first_reply
from teaching.practice import practice_for
from teaching.tests.analysed import analysed_conversation

pytestmark = pytest.mark.django_db(transaction=True)


def right_answers(practice):
    for item in practice.items:
        if item.kind == "multiple_choice":
            assert item.answer in item.options and len(set(item.options)) == len(item.options)
        if item.kind in ("multiple_choice", "fill_blank"):
            assert item.prompt.count("___") == 1


def test_practice_comes_from_the_learners_most_frequent_mistake(alice):
    analysed_conversation(alice)  # verb tense is the most frequent

    practice = practice_for("Give me 3 practice questions", alice)

    assert practice.from_own_sentences and len(practice.items) == 3
    assert "went" in practice.title
    assert all("Yesterday I" in item.prompt for item in practice.items)
    right_answers(practice)


def test_the_kind_asked_for_wins_over_the_most_frequent(alice):
    analysed_conversation(alice)

    practice = practice_for("Some practice on articles, please", alice)

    assert practice.from_own_sentences
    assert {item.answer for item in practice.items if item.kind != "rewrite"} <= {"an", "a"}


def test_a_kind_the_learner_has_not_got_wrong_is_practised_on_the_notes_examples(alice):
    practice = practice_for("quiz me on plural nouns", alice)

    assert practice is not None and not practice.from_own_sentences
    assert any(item.answer in ("friends", "children", "nights") for item in practice.items)
    right_answers(practice)


def test_practice_on_a_topic_keeps_to_that_topic_not_its_whole_family(alice):
    practice = practice_for("Give me 3 practice questions on the past tense.", alice)

    assert practice is not None and len(practice.items) == 3
    assert "Past simple" in practice.title
    # The verb-tense family also holds the present perfect and "I am agree": not asked for.
    assert all("Yesterday I" in item.prompt for item in practice.items)
    assert {item.answer for item in practice.items if item.kind != "rewrite"} <= {"went", "go"}
    right_answers(practice)


def test_nothing_to_practise_gives_none(alice):
    assert practice_for("Give me some practice questions", alice) is None


def test_the_chat_answers_a_practice_request_with_built_items_and_their_answers(
    scripted_llm, settings, alice
):
    settings.TUTOR_GUIDED_PROVIDERS = ["local", "scripted"]
    analysed_conversation(alice)

    conversation = services.conversation_create(
        owner=alice,
        text="Give me 3 practice questions on the past tense",
        task_type="test_generation",
    )
    drain_queue()
    reply = first_reply(conversation)
    reply.refresh_from_db()

    assert reply.status == "complete" and reply.model == tutoring.PRACTICE_SOURCE
    lines = reply.content.splitlines()
    assert lines[2] == tutoring.LABELS["en"]["practice_own"]
    assert [line[:3] for line in lines if line[:1].isdigit()] == ["1. ", "2. ", "3. "]
    assert lines[-1].startswith("**Answers:** 1. went")
    assert not [c for c in scripted_llm.calls if c.profile == "test_generation"]  # no model text


def test_the_chat_says_honestly_when_it_has_nothing_to_practise(scripted_llm, settings, alice):
    settings.TUTOR_GUIDED_PROVIDERS = ["local", "scripted"]

    conversation = services.conversation_create(
        owner=alice, text="Give me practice questions", task_type="test_generation"
    )
    drain_queue()
    reply = first_reply(conversation)
    reply.refresh_from_db()

    assert reply.content == tutoring.LABELS["en"]["no_practice"]
