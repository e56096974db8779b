"""The learner's data: purging a private conversation's raw chat, export, deletion."""

import json
import logging

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core import serializers
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from teaching.models import CollectionItem, Focus, PurgeLog, TeachingRun
from teaching.selectors import modules_visible_to

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
            # The model-free checks' analyses too: a message whose batch failed keeps its
            # check's, with the learner's sentence in it.
            ours = Q(batch__conversation=conversation) | Q(message__conversation=conversation)
            _, gone = utterances.objects.filter(ours).delete()
            analyses = gone.get("analysis.UtteranceAnalysis", 0)
        _trim_teaching_copies(conversation)
        _, removed = conversation.messages.all().delete()
        messages = removed.get("conversations.Message", 0)
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


def _trim_teaching_copies(conversation) -> None:
    """The teaching run kept the learner's sentences to write its modules; once purged,
    only the sentence a module quotes stays (in the module and its focus)."""
    TeachingRun.objects.filter(conversation=conversation).update(groups=[])
    for focus in Focus.objects.filter(run__conversation=conversation).select_related("module"):
        module = getattr(focus, "module", None)
        quoted = module.content.get("learner_sentence") if module and module.content else None
        kept = [e for e in focus.examples if e.get("sentence") == quoted][:1]
        if kept != focus.examples:
            focus.examples = kept
            focus.save(update_fields=["examples"])
    # A review's items may come from any of the learner's sentences, this chat's too; the
    # next review is built again from what is left.
    CollectionItem.objects.filter(learner_id=conversation.owner_id).exclude(review={}).update(
        review={}
    )


# -- Export and deletion -----------------------------------------------------------------

# Rows that are about a learner but not theirs to take: staff's review of a module, the
# admin log, an integration's configuration.
NOT_EXPORTED = {"admin.LogEntry", "teaching.ValidationReport", "analysis.Integration"}
USER_FIELDS = ("username", "email", "first_name", "last_name", "date_joined", "last_login")


def _owner_paths(user_model) -> dict[str, str]:
    """Per model label, the lookup from its rows to their learner: a foreign key to the
    user, or one hop through a model that has one (messages through conversations)."""
    direct: dict[type, str] = {}
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if field.is_relation and field.related_model is user_model and model not in direct:
                direct[model] = field.name
    paths = {m._meta.label: name for m, name in direct.items()}
    for model in apps.get_models():
        if model in direct or model is user_model:
            continue
        for field in model._meta.concrete_fields:
            if field.is_relation and field.related_model in direct:
                paths[model._meta.label] = f"{field.name}__{direct[field.related_model]}"
                break
    return paths


def learner_export(*, user) -> dict:
    """Everything of the learner's, as JSON-ready data, model by model. Lessons are the
    ones they can see (validated or approved), as everywhere else."""
    data: dict = {
        "exported_at": timezone.now().isoformat(),
        "user": {name: getattr(user, name) for name in USER_FIELDS},
        "data": {},
    }
    data["user"] = json.loads(json.dumps(data["user"], cls=DjangoJSONEncoder))
    for label, path in sorted(_owner_paths(get_user_model()).items()):
        if label in NOT_EXPORTED:
            continue
        rows = apps.get_model(label)._default_manager.filter(**{path: user})
        if label == "teaching.Module":
            rows = modules_visible_to(user)
        elif label == "teaching.Focus":
            rows = rows.filter(module__in=modules_visible_to(user))
        exported = json.loads(serializers.serialize("json", rows.order_by("pk")))
        if exported:
            data["data"][label] = [{"id": row["pk"], **row["fields"]} for row in exported]
    return data


def learner_delete(*, user) -> None:
    """Delete the account and everything of theirs. Rows that only point at them (their
    model-usage accounting) are deleted too rather than kept anonymised."""
    with transaction.atomic():
        llm_calls = _model("llm.LLMCall")
        if llm_calls is not None:
            llm_calls.objects.filter(user=user).delete()
        user_id = user.pk
        user.delete()
    logger.info("Deleted account %s and all of its data", user_id)
