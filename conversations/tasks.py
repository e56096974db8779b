"""Background tasks of the chat: ids in, one service call. Replies are claimed first."""

from django_tasks import task

from conversations.models import Message
from conversations.services import conversation_summarise, reply_generate
from conversations.services.liveness import ReplyKind
from core import jobs

REPLY_PRIORITY = 10


@jobs.task(Message, kind=ReplyKind, priority=REPLY_PRIORITY, claims_itself=True)
def generate_reply(reply_id: int, *, task_id: str = "") -> None:
    reply_generate(reply_id=reply_id, task_id=task_id)


@task()
def summarise_conversation(conversation_id: int) -> None:
    conversation_summarise(conversation_id=conversation_id)
