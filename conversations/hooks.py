"""Later stages that follow a conversation, called explicitly after commit.

Dependencies run one way (conversations ← analysis ← teaching), so this app cannot import
the apps built on it. They append a callable here in their AppConfig.ready(); the services
call each one with the conversation's id once the transaction that changed it commits.
A failing hook is logged and does not undo or fail the learner's request.
"""

from collections.abc import Callable
from functools import partial

from django.db import transaction

Hook = Callable[[int], None]

# A learner message was stored (also the first message of a new conversation).
after_message_posted: list[Hook] = []
# The conversation was ended (the End button, the API, or an idle timeout).
after_conversation_ended: list[Hook] = []


def call_on_commit(hooks: list[Hook], conversation_id: int) -> None:
    for hook in list(hooks):
        transaction.on_commit(partial(hook, conversation_id), robust=True)
