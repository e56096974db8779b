"""The tutor's chat replies: on a guided profile (the built-in model's) the reply opens
with the analysis's correction, then the model's short reply without grammar claims; on
a free profile the model gets the correction as grounding."""

import pytest

from analysis.models import UtteranceAnalysis
from conversations import services, tutoring
from conversations.tests.conftest import drain_queue, first_reply
from llm.models import LLMCall, ReplyStyle, TaskProfile

pytestmark = pytest.mark.django_db(transaction=True)

MISTAKE = "He go to school every day."


@pytest.fixture
def guided(settings):
    settings.TUTOR_GUIDED_PROVIDERS = ["local", "scripted"]


def ask(alice, text, **kwargs):
    conversation = services.conversation_create(owner=alice, text=text, **kwargs)
    drain_queue()
    reply = first_reply(conversation)
    reply.refresh_from_db()
    return conversation, reply


def test_the_reply_opens_with_the_same_correction_as_the_marks(scripted_llm, guided, alice):
    scripted_llm.queue("That sounds busy! Which school do you go to?")

    conversation, reply = ask(alice, MISTAKE)

    marks = UtteranceAnalysis.objects.get(message__conversation=conversation, message__seq=1)
    assert marks.corrected == "He goes to school every day."
    assert reply.status == "complete"
    assert reply.content.startswith(f"**Correction:** *{marks.corrected}*\n")
    # The grammar note explains it, with the learner's own words.
    assert "*he/she/it* + verb + *-s*: *He goes*, not *He go*" in reply.content
    assert reply.content.endswith("\n\nThat sounds busy! Which school do you go to?")


def test_a_message_without_a_mistake_gets_no_correction(scripted_llm, guided, alice):
    scripted_llm.queue("Lovely! What did you see there?")

    _, reply = ask(alice, "I went to the park yesterday.")

    assert reply.content == "Lovely! What did you see there?"


def test_the_models_grammar_claims_and_role_play_are_left_out(scripted_llm, guided, alice):
    scripted_llm.queue(
        "Nice to meet you! I added an apostrophe to child. What do you like to do?\n"
        "Jessica: I like to dance.",
        chunk_size=3,
    )

    _, reply = ask(alice, "Hello, I am Ana and I like music.")

    assert reply.content == "Nice to meet you! What do you like to do?"


def test_a_reply_cut_at_another_speakers_turn_ends_the_models_call(scripted_llm, guided, alice):
    scripted_llm.queue(
        "Nice to meet you! What do you like to do?\nJessica: I like to dance. " + "La " * 50,
        chunk_size=3,
    )

    _, reply = ask(alice, "Hello, I am Ana and I like music.")

    # The model's stream is ended where the reply stops, and its call recorded with what
    # was read: left open, it held the built-in model from background work (the analysis
    # waited for ever) and the call was never counted.
    assert reply.content == "Nice to meet you! What do you like to do?"
    call = LLMCall.objects.get(task="chat")
    assert call.status == "ok"
    assert 0 < call.completion_tokens < 40


def test_a_reply_with_nothing_left_asks_a_question(scripted_llm, guided, alice):
    scripted_llm.queue("You should say 'I like music'.")

    _, reply = ask(alice, "I like music.")

    assert reply.content == tutoring.FALLBACK_QUESTION


def test_a_reply_that_asks_nothing_ends_with_a_question(scripted_llm, guided, alice):
    scripted_llm.queue("Music is great. I like jazz.")

    _, reply = ask(alice, "I like music.")

    assert reply.content == f"Music is great. I like jazz. {tutoring.FALLBACK_QUESTION}"


def test_the_guided_prompt_asks_for_a_short_reply_and_no_grammar(scripted_llm, guided, alice):
    ask(alice, MISTAKE)

    (call,) = [c for c in scripted_llm.calls if c.profile == "chat"]
    system = call.messages[0]["content"]
    assert "Do not talk about grammar" in system
    assert "ask one short question back" in system
    assert call.messages[-1] == {"role": "user", "content": MISTAKE}


def test_a_free_profile_gets_the_correction_as_grounding(scripted_llm, alice):
    scripted_llm.queue("You mean: He goes to school every day. Nice!")

    _, reply = ask(alice, MISTAKE)

    (call,) = [c for c in scripted_llm.calls if c.profile == "chat"]
    assert (
        'corrected the learner\'s last message to: "He goes to school every day."'
        in (call.messages[0]["content"])
    )
    assert reply.content == "You mean: He goes to school every day. Nice!"


def test_the_style_follows_the_provider_unless_the_profile_is_named(settings, scripted_llm):
    settings.TUTOR_GUIDED_PROVIDERS = ["local"]
    assert tutoring.style("chat") == tutoring.FREE
    settings.TUTOR_STYLE_BY_PROFILE = {"chat": "guided"}
    assert tutoring.style("chat") == tutoring.GUIDED
    assert tutoring.style("doubt_solver") == tutoring.FREE


def test_staff_choose_the_style_on_the_profile(settings, scripted_llm):
    settings.TUTOR_GUIDED_PROVIDERS = ["scripted"]
    assert tutoring.style("doubt_solver") == tutoring.GUIDED
    profile = TaskProfile.objects.get(name="doubt_solver")
    profile.reply_style = ReplyStyle.FREE
    profile.save()  # as the admin saves it: the profile cache is cleared

    assert tutoring.style("doubt_solver") == tutoring.FREE
    assert tutoring.style("chat") == tutoring.GUIDED  # by its provider still
    settings.TUTOR_STYLE_BY_PROFILE = {"doubt_solver": "guided"}
    assert tutoring.style("doubt_solver") == tutoring.GUIDED  # the environment forces one
