"""The rolling summary: turns that left the context window, folded into a short text.

Runs as its own task. Each step summarises the previous summary plus the next turns that
fit the `summary` profile's budget, and stores the result only if no other run moved the
summary on meanwhile (a conditional update), so duplicate runs are harmless.
"""

import logging
from pathlib import Path

import llm
from conversations import context
from conversations.models import Conversation, Message
from llm.prompts import render

logger = logging.getLogger(__name__)

PROFILE = "summary"
TEMPLATE = (Path(__file__).parent.parent / "prompts" / "summary_update.txt").read_text()
SPEAKERS = {"user": "Learner", "assistant": "Tutor"}


def conversation_summarise(*, conversation_id: int) -> None:
    """Bring the conversation's summary up to its `summary_target_seq`."""
    conversation = Conversation.objects.select_related("owner").filter(pk=conversation_id).first()
    while conversation and conversation.summary_through_seq < conversation.summary_target_seq:
        turns = _next_turns(conversation)
        if not turns:
            return
        try:
            text = _summarise(conversation, turns)
        except llm.errors.LLMError as exc:
            # The window still works without a summary; a later turn asks again.
            logger.warning("Summary of conversation %s failed: %s", conversation_id, exc)
            return
        stored = Conversation.objects.filter(
            pk=conversation.pk, summary_through_seq=conversation.summary_through_seq
        ).update(summary=text, summary_through_seq=turns[-1].seq)
        if not stored:
            return
        conversation.refresh_from_db()


def _next_turns(conversation: Conversation) -> list[Message]:
    """The unsummarised turns up to the target, as many as the summary budget allows."""
    budget = llm.get_profile(PROFILE).context_budget // 2
    rows = context.history(conversation.pk, before_seq=conversation.summary_target_seq + 1)
    taken: list[Message] = []
    for message in rows.filter(seq__gt=conversation.summary_through_seq).order_by("seq")[:200]:
        budget -= message.token_count or llm.count_tokens(PROFILE, message.content)
        if budget < 0 and taken:
            break
        taken.append(message)
    return taken


def _summarise(conversation: Conversation, turns: list[Message]) -> str:
    transcript = "\n".join(f"{SPEAKERS[m.role]}: {m.content}" for m in turns)
    request = render(
        TEMPLATE, {"previous_summary": conversation.summary or "(none)", "turns": transcript}
    )
    result = llm.complete(PROFILE, [{"role": "user", "content": request}], user=conversation.owner)
    return result.text.strip()
