"""The prompt for a reply: the task profile's system prompt, a rolling summary of the
turns that no longer fit, then the newest turns that fit the profile's token budget.

Each message's token count is computed once and cached on its row, and the history is
read newest first in small pages until the budget is spent, so building a context costs
the size of the window, not the length of the conversation. The turns that fell out are
summarised in the background (the `summary_due` hook queues it) and the
stored summary stands in for them from then on.
"""

from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Q

import llm
from conversations import grounding, hooks
from conversations.models import Conversation, Message, Mode, Role, Status
from llm.prompts import learner_variables

PAGE = 40
# Tokens kept free for the framing a provider adds around the messages.
FRAMING_RESERVE = 8
SUMMARY_NOTE = "Summary of the earlier part of this conversation (for context only):\n"
# The learner's newest message always goes in, with at least this many of its tokens:
# when the system prompt and the summary leave less room, the summary is left out, and
# if the system prompt alone leaves less (a profile whose budget is too small for its own
# prompt), the prompt goes over the budget rather than lose the learner's words.
NEWEST_MIN_TOKENS = 64


@dataclass
class Window:
    turns: list[dict[str, str]]
    # Highest seq left out of the window (0 when everything fits).
    cut_seq: int
    # Rows whose token count was computed for this window and is not stored yet.
    counted: list[Message] = field(default_factory=list)


@dataclass
class Prompt:
    messages: list[dict[str, str]]
    window: Window
    conversation: Conversation
    # A `rag` reply's sources, stored with it once it is written, and their passages.
    citations: list[dict] = field(default_factory=list)
    passages: dict[int, str] = field(default_factory=dict)
    # The learner message the reply answers.
    learner_message_id: int | None = None
    learner_text: str = ""


def build_prompt(reply: Message) -> list[dict[str, str]]:
    """The messages to send the model for `reply`, within the profile's context budget."""
    prompt = prepare(reply)
    record(prompt)
    return prompt.messages


def prepare(reply: Message) -> Prompt:
    """The prompt, reading only; `record` then stores what building it learnt."""
    conversation = reply.conversation
    task = reply.task_type
    budget = llm.get_profile(task).context_budget - FRAMING_RESERVE
    instructions = system_prompt(task, conversation.owner)
    message_id, text = learner_message(reply)
    grounded = grounding.Grounding(instructions="")
    if conversation.mode == Mode.RAG:
        grounded = grounding.ground(conversation, text)
        instructions += "\n\n" + grounded.instructions
    system = _system_message(instructions, conversation.summary)
    room = budget - llm.count_tokens(task, [system])
    if room < NEWEST_MIN_TOKENS and conversation.summary:
        # The learner's own message matters more than a summary of older turns.
        system = _system_message(instructions, "")
        room = budget - llm.count_tokens(task, [system])
    window = newest_turns(reply, budget=room)
    return Prompt(
        messages=[system, *window.turns],
        window=window,
        conversation=conversation,
        citations=grounded.citations,
        passages=grounded.passages,
        learner_message_id=message_id,
        learner_text=text,
    )


def learner_text(reply: Message) -> str:
    """The learner message `reply` answers (what a `rag` reply retrieves for)."""
    return learner_message(reply)[1]


def learner_message(reply: Message) -> tuple[int | None, str]:
    """The id and text of the learner message `reply` answers."""
    if reply.reply_to_id:
        rows = Message.objects.filter(pk=reply.reply_to_id)
    else:
        rows = history(reply.conversation_id, before_seq=reply.seq).filter(role=Role.USER)
    found = rows.order_by("-seq").values_list("pk", "content").first()
    return found if found else (None, "")


def _system_message(instructions: str, summary: str) -> dict[str, str]:
    if summary:
        # One system message: some chat templates accept only one.
        instructions += "\n\n" + SUMMARY_NOTE + summary
    return {"role": "system", "content": instructions}


def record(prompt: Prompt) -> None:
    """Cache the token counts computed, and ask for a summary (the `summary_due` hook)
    when enough turns have left the window unsummarised. Kept out of `prepare` so that no
    write stands between a learner and the first token."""
    if prompt.window.counted:
        Message.objects.bulk_update(prompt.window.counted, ["token_count"])
    if _summary_target_advanced(prompt.conversation, prompt.window.cut_seq):
        hooks.summary_due.call(prompt.conversation.pk)


def system_prompt(task: str, user) -> str:
    """The profile's system prompt, filled for `user` as the gateway fills it."""
    return llm.system_prompt(task, **learner_variables(user))


def history(conversation_id: int, *, before_seq: int):
    """The messages a model may see: learner messages and replies that produced text,
    without replies that were replaced by a regenerated one."""
    return (
        Message.objects.filter(conversation_id=conversation_id, seq__lt=before_seq)
        .filter(Q(role=Role.USER) | Q(status__in=[Status.COMPLETE, Status.CANCELLED]))
        .exclude(superseded=True)
        .exclude(content="")
    )


def newest_turns(reply: Message, *, budget: int) -> Window:
    """The newest messages before `reply` that fit `budget` tokens, oldest first."""
    taken: list[dict[str, str]] = []
    counted: list[Message] = []
    rows = history(reply.conversation_id, before_seq=reply.seq).order_by("-seq")
    start = 0
    while True:
        page = list(rows.only("pk", "seq", "role", "content", "token_count")[start : start + PAGE])
        counted += _count_missing(reply.task_type, page)
        for message in page:
            cost = message.token_count or 0
            if cost > budget:
                if not taken:  # the learner's own message always goes in, cut to fit
                    room = max(budget, NEWEST_MIN_TOKENS)
                    taken.append(_truncated(reply.task_type, message, room))
                    return Window(turns=taken, cut_seq=message.seq - 1, counted=counted)
                return Window(turns=taken[::-1], cut_seq=message.seq, counted=counted)
            budget -= cost
            taken.append({"role": message.role, "content": message.content})
        if len(page) < PAGE:
            return Window(turns=taken[::-1], cut_seq=0, counted=counted)
        start += PAGE


def _count_missing(task: str, messages: list[Message]) -> list[Message]:
    missing = [m for m in messages if m.token_count is None]
    for message in missing:
        message.token_count = llm.count_tokens(
            task, [{"role": message.role, "content": message.content}]
        )
    return missing


def _truncated(task: str, message: Message, budget: int) -> dict[str, str]:
    """The start of an over-long message, cut until it fits (token counts are not
    proportional to characters, so shrink and recount a few times); never empty."""
    text = message.content
    tokens = message.token_count or 1
    while len(text) > 1:
        text = text[: max(1, int(len(text) * max(budget, 0) / tokens * 0.95))]
        tokens = llm.count_tokens(task, [{"role": message.role, "content": text}])
        if tokens <= budget:
            break
    return {"role": message.role, "content": text}


def _summary_target_advanced(conversation: Conversation, cut_seq: int) -> bool:
    """Whether enough messages have fallen out of the window unsummarised to want a
    summary; the target moves on once, so only one caller queues it."""
    if cut_seq - conversation.summary_through_seq < settings.CONTEXT_SUMMARY_MIN_MESSAGES:
        return False
    return bool(
        Conversation.objects.filter(pk=conversation.pk, summary_target_seq__lt=cut_seq).update(
            summary_target_seq=cut_seq
        )
    )
