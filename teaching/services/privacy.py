"""The learner's data: purging a private conversation's raw chat, export, deletion."""

import logging

from django.apps import apps
from django.db import transaction

from teaching.models import PurgeLog

logger = logging.getLogger(__name__)


def _model(label: str):
    try:
        return apps.get_model(label)
    except LookupError:
        return None


def conversation_purge_raw(*, conversation) -> PurgeLog:
    """Remove a conversation's learner and tutor messages and its per-utterance analyses;
    clusters, modules and saved lessons stay. Safe to run again: it removes what is left."""
    with transaction.atomic():
        analyses = 0
        utterances = _model("analysis.UtteranceAnalysis")
        if utterances is not None:
            analyses, _ = utterances.objects.filter(batch__conversation=conversation).delete()
        messages, _ = conversation.messages.all().delete()
        log = PurgeLog.objects.create(
            learner_id=conversation.owner_id,
            conversation_id_ref=conversation.pk,
            messages_removed=messages,
            analyses_removed=analyses,
        )
    logger.info(
        "Purged private conversation %s: %s message rows, %s analysis rows",
        conversation.pk,
        messages,
        analyses,
    )
    return log
