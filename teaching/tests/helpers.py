"""Rows for the learner-side tests: modules in every status, without running the model."""

from conversations.models import Conversation
from teaching.models import Focus, Module, ModuleStatus, TeachingRun
from teaching.tests.conftest import group, module_for


def module_row(user, *, status=ModuleStatus.VALIDATED, n=1, conversation=None, **fields) -> Module:
    conversation = conversation or Conversation.objects.create(owner=user, title=f"Chat {n}")
    run, _ = TeachingRun.objects.get_or_create(
        conversation=conversation, scope="conversation", defaults={"learner": user}
    )
    g = group(n, **{k: fields.pop(k) for k in ("language", "error_type") if k in fields})
    focus = Focus.objects.create(
        run=run,
        key=f"{g['key']}|{Focus.objects.count()}",
        position=run.focuses.count(),
        language=g["language"],
        error_type=g["error_type"],
        cluster_name=fields.pop("cluster_name", "Past simple"),
        reason="r",
        examples=g["examples"],
    )
    content = module_for(n)
    return Module.objects.create(
        learner=user,
        run=run,
        focus=focus,
        conversation=conversation,
        status=status,
        language=focus.language,
        error_type=focus.error_type,
        cluster_name=focus.cluster_name,
        title=fields.pop("title", content["title"]),
        content=content,
        **fields,
    )
