"""The prompt stays within the profile's budget, keeps the newest turns, and a rolling
summary stands in for the turns that fell out."""

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

import llm
from conversations import context, services
from conversations.models import Conversation, Message

pytestmark = pytest.mark.django_db

SENTENCE = "Yesterday I goed to the market with my sister and we buyed many fruits. "


def long_conversation(owner, turns: int) -> tuple[Conversation, Message]:
    """`turns` finished exchanges, then a new learner message with its pending reply."""
    conversation = Conversation.objects.create(owner=owner, title="Long", last_seq=turns * 2)
    now = timezone.now()
    rows = []
    for turn in range(turns):
        rows.append(
            Message(
                conversation=conversation,
                seq=2 * turn + 1,
                role="user",
                content=f"Turn {turn}: " + SENTENCE * (1 + turn % 3),
                created_at=now,
            )
        )
        rows.append(
            Message(
                conversation=conversation,
                seq=2 * turn + 2,
                role="assistant",
                content=f"Answer {turn}: you went, you bought. " * (1 + turn % 4),
                created_at=now,
            )
        )
    Message.objects.bulk_create(rows)
    _, reply = services.message_post(
        conversation=conversation, author=owner, text="What did we talk about first?"
    )
    return conversation, reply


def test_a_500_turn_conversation_prompt_stays_under_budget(scripted_llm, alice):
    _conversation, reply = long_conversation(alice, turns=500)
    budget = llm.get_profile("chat").context_budget

    prompt = context.build_prompt(reply)

    assert llm.count_tokens("chat", prompt) <= budget
    assert prompt[0]["role"] == "system"
    assert prompt[-1] == {"role": "user", "content": "What did we talk about first?"}
    assert prompt[-2]["content"].startswith("Answer 499:")
    assert len(prompt) < 200  # far from all 1,001 messages
    # The newest turns are kept in order, with nothing skipped between them.
    kept = [int(m["content"].split(":")[0].split()[1]) for m in prompt[1:-1]]
    assert kept == sorted(kept) and kept[-1] == 499


def test_turns_that_fell_out_are_summarised_in_the_background_and_used(scripted_llm, alice):
    conversation, reply = long_conversation(alice, turns=500)
    budget = llm.get_profile("chat").context_budget

    context.build_prompt(reply)
    conversation.refresh_from_db()
    (summary_task,) = DBTaskResult.objects.filter(task_path__endswith="summarise_conversation")
    assert conversation.summary_target_seq > 900
    assert summary_task.args_kwargs == {"args": [conversation.pk], "kwargs": {}}

    scripted_llm.set_default(text="The learner practised past tenses at the market.")
    services.conversation_summarise(conversation_id=conversation.pk)
    conversation.refresh_from_db()
    prompt = context.build_prompt(Message.objects.get(pk=reply.pk))

    assert conversation.summary == "The learner practised past tenses at the market."
    assert conversation.summary_through_seq == conversation.summary_target_seq
    summary_calls = [c for c in scripted_llm.calls if c.profile == "summary"]
    assert len(summary_calls) > 1  # 900+ messages do not fit one summary request
    summary_budget = llm.get_profile("summary").context_budget
    assert all(llm.count_tokens("summary", c.messages) <= summary_budget for c in summary_calls)
    assert "Turn 0:" in summary_calls[0].messages[-1]["content"]
    assert "practised past tenses at the market" in prompt[0]["content"]
    assert llm.count_tokens("chat", prompt) <= budget


def test_token_counts_are_cached_so_a_turn_costs_the_window_not_the_history(
    scripted_llm, alice, django_assert_max_num_queries
):
    conversation, reply = long_conversation(alice, turns=500)
    context.build_prompt(reply)
    counted = Message.objects.filter(conversation=conversation, token_count__isnull=False).count()
    assert 0 < counted < 250

    with django_assert_max_num_queries(12):
        context.build_prompt(Message.objects.select_related("conversation__owner").get(pk=reply.pk))


def test_short_conversations_are_sent_whole_and_need_no_summary(scripted_llm, alice):
    _conversation, reply = long_conversation(alice, turns=3)

    prompt = context.build_prompt(reply)

    assert len(prompt) == 1 + 6 + 1
    assert not DBTaskResult.objects.filter(task_path__endswith="summarise_conversation").exists()


def test_superseded_and_failed_replies_are_left_out(scripted_llm, alice):
    conversation, reply = long_conversation(alice, turns=2)
    Message.objects.filter(conversation=conversation, seq=2).update(superseded=True)
    Message.objects.filter(conversation=conversation, seq=4).update(status="failed")

    prompt = context.build_prompt(reply)

    contents = [m["content"] for m in prompt[1:]]
    assert not any(c.startswith(("Answer 0", "Answer 1")) for c in contents)
    assert len(contents) == 3


def test_a_learner_message_larger_than_the_budget_is_cut_to_fit(scripted_llm, alice):
    _conversation, reply = long_conversation(alice, turns=1)
    profile = llm.get_profile("chat")
    profile.context_budget = 200
    profile.save(update_fields=["context_budget"])
    Message.objects.filter(pk=reply.reply_to_id).update(content="word " * 2000)

    prompt = context.build_prompt(reply)

    assert llm.count_tokens("chat", prompt) <= 200
    assert prompt[-1]["content"].startswith("word word")


@pytest.mark.parametrize("with_profile", [True, False])
def test_the_system_prompt_is_filled_for_the_learner_as_the_gateway_fills_it(
    scripted_llm, alice, django_user_model, with_profile
):
    owner = alice if with_profile else django_user_model.objects.create_user("no-profile")
    _conversation, reply = long_conversation(owner, turns=1)
    list(llm.stream("chat", [{"role": "user", "content": "Hi"}], user=owner))

    prompt = context.build_prompt(reply)

    (gateway_call,) = scripted_llm.calls
    assert prompt[0] == gateway_call.messages[0]
    assert "{learner_" not in prompt[0]["content"]


def set_budget(task: str, tokens: int) -> None:
    profile = llm.get_profile(task)
    profile.context_budget = tokens
    profile.save(update_fields=["context_budget"])


def test_a_summary_that_fills_the_budget_gives_way_to_the_learners_message(scripted_llm, alice):
    conversation, reply = long_conversation(alice, turns=2)
    set_budget("chat", 300)
    Conversation.objects.filter(pk=conversation.pk).update(summary="They practised. " * 200)

    prompt = context.build_prompt(Message.objects.get(pk=reply.pk))

    assert prompt[-1] == {"role": "user", "content": "What did we talk about first?"}
    assert "They practised." not in prompt[0]["content"]
    assert llm.count_tokens("chat", prompt) <= 300


def test_beside_a_summary_a_long_learner_message_is_cut_to_what_fits(scripted_llm, alice):
    conversation, reply = long_conversation(alice, turns=2)
    set_budget("chat", 400)
    system = context.system_prompt("chat", alice) + "\n\n" + context.SUMMARY_NOTE
    spare = 400 - llm.count_tokens("chat", [{"role": "system", "content": system}])
    summary = "They practised. " * ((spare - 100) // llm.count_tokens("chat", "They practised. "))
    Conversation.objects.filter(pk=conversation.pk).update(summary=summary)
    Message.objects.filter(pk=reply.reply_to_id).update(content="word " * 2000)

    prompt = context.build_prompt(Message.objects.get(pk=reply.pk))

    assert "They practised." in prompt[0]["content"]
    assert len(prompt) == 2  # no room for older turns
    assert prompt[-1]["content"].startswith("word word")
    assert llm.count_tokens("chat", prompt) <= 400


def test_the_learners_message_goes_in_even_when_the_system_prompt_overflows(scripted_llm, alice):
    conversation, reply = long_conversation(alice, turns=2)
    set_budget("chat", 20)  # less than the system prompt alone
    Conversation.objects.filter(pk=conversation.pk).update(summary="They practised. " * 50)

    prompt = context.build_prompt(Message.objects.get(pk=reply.pk))

    assert prompt[-1] == {"role": "user", "content": "What did we talk about first?"}
    assert "They practised." not in prompt[0]["content"]
