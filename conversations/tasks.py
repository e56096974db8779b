"""Background tasks: ids in, one service call. Replies are claimed before summaries."""

from django_tasks import task

REPLY_PRIORITY = 10


@task(priority=REPLY_PRIORITY)
def generate_reply(reply_id: int) -> None:
    from conversations.services import reply_generate

    reply_generate(reply_id=reply_id)


@task()
def summarise_conversation(conversation_id: int) -> None:
    from conversations.services import conversation_summarise

    conversation_summarise(conversation_id=conversation_id)
