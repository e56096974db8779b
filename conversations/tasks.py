"""Background tasks: ids in, one service call. Replies are claimed before summaries."""

from django_tasks import TaskContext, task

REPLY_PRIORITY = 10


@task(priority=REPLY_PRIORITY, takes_context=True)
def generate_reply(context: TaskContext, reply_id: int) -> None:
    from conversations.services import reply_generate

    reply_generate(reply_id=reply_id, task_id=str(context.task_result.id))


@task()
def summarise_conversation(conversation_id: int) -> None:
    from conversations.services import conversation_summarise

    conversation_summarise(conversation_id=conversation_id)
