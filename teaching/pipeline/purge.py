"""Last stage: a conversation kept private (`keep_raw_messages` off) loses its raw chat."""

from teaching.models import TeachingRun
from teaching.services.privacy import conversation_purge_raw


def purge_private_chat(run_id: int) -> None:
    run = TeachingRun.objects.select_related("conversation").get(pk=run_id)
    if run.conversation is not None and not run.conversation.keep_raw_messages:
        conversation_purge_raw(conversation=run.conversation)
