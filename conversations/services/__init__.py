"""Writes of the conversations app, by sub-domain; import them from here."""

from conversations.services.conversations import (
    conversation_create,
    conversation_delete,
    conversation_documents_set,
    conversation_end,
    conversation_rename,
    title_from_text,
)
from conversations.services.generation import reply_generate
from conversations.services.liveness import replies_sweep
from conversations.services.messages import message_post, reply_cancel, reply_regenerate
from conversations.services.summary import conversation_summarise

__all__ = [
    "conversation_create",
    "conversation_delete",
    "conversation_documents_set",
    "conversation_end",
    "conversation_rename",
    "conversation_summarise",
    "message_post",
    "replies_sweep",
    "reply_cancel",
    "reply_generate",
    "reply_regenerate",
    "title_from_text",
]
