"""What follows what, in one place: each hook an app calls after a change, and the
functions of later stages that follow it. Read top to bottom, it is the path from a
learner's message to a lesson (docs/message-to-lesson.md walks it file by file).

Connected once at start-up (config.apps); the hooks call their subscribers after commit.
"""

from collections.abc import Callable

from analysis import hooks as analysis_hooks
from analysis import services as analysis
from conversations import hooks as conversation_hooks
from conversations.tasks import summarise_conversation
from core.hooks import Hook, Slot, Subscriber
from teaching import services as teaching
from teaching.practice import practice_for

SUBSCRIPTIONS: tuple[tuple[Hook, Subscriber], ...] = (
    # A learner message is stored: check it at once without a model (its marks reach the
    # learner within a second); its batch of ANALYSIS_BATCH_SIZE may be complete now.
    (conversation_hooks.message_posted, analysis.checks_queue),
    (conversation_hooks.message_posted, analysis.on_message_posted),
    # Turns left the context window: fold them into the rolling summary.
    (conversation_hooks.summary_due, summarise_conversation.enqueue),
    # The conversation ended: analyse what is left, then cluster its mistakes.
    (conversation_hooks.conversation_ended, analysis.on_conversation_ended),
    # Its mistakes are clustered: build the lessons.
    (analysis_hooks.conversation_clustered, teaching.run_for_conversation),
    # An external conversation's are: its lessons come from a run across the learner's
    # conversations, every source.
    (analysis_hooks.external_conversation_clustered, teaching.run_for_external_conversation),
)


# What the chat asks of later stages: its corrections are the analysis's, so the tutor's
# reply and the marks on the learner's message agree.
PROVISIONS: tuple[tuple[Slot, Callable[..., object]], ...] = (
    (conversation_hooks.message_correction, analysis.message_correction),
    (conversation_hooks.text_correction, analysis.text_correction),
    # Practice asked for in the chat is the lesson builder's verified items.
    (conversation_hooks.practice_items, practice_for),
)


def connect() -> None:
    for hook, subscriber in SUBSCRIPTIONS:
        hook.subscribe(subscriber)
    for slot, provider in PROVISIONS:
        slot.provide(provider)
