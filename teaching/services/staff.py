"""Staff decisions on modules: approve, edit and approve, regenerate, reject for good.
Each is recorded by the admin in Django's LogEntry (who, when, what)."""

from django.db import transaction
from django.utils import timezone

from teaching import events
from teaching.models import Module, ModuleStatus
from teaching.rules import module_key
from teaching.schemas import ModuleContent


def module_approve(*, module: Module, content: dict | None = None) -> None:
    """Make the module visible to its learner; with `content`, edited first (validated
    against the module schema, so an edit cannot break the practice page)."""
    if content is not None:
        parsed = ModuleContent.model_validate(content)
        module.content = parsed.model_dump()
        module.title = parsed.title
        module.dedupe_key = module_key(parsed.title, module.error_type)
    module.status, module.final, module.regenerate = ModuleStatus.APPROVED, False, False
    module.updated_at = timezone.now()
    with transaction.atomic():
        module.save()
        events.module_decided_on_commit(module)


def module_reject_final(*, module: Module) -> None:
    module.status, module.final, module.regenerate = ModuleStatus.REJECTED, True, False
    module.updated_at = timezone.now()
    with transaction.atomic():
        module.save(update_fields=["status", "final", "regenerate", "updated_at"])
        events.module_decided_on_commit(module)


def module_regenerate(*, module: Module) -> bool:
    """Write the module again (generation, then validation) in its run; False when it
    was rejected for good."""
    from teaching.services.runs import run_restart

    if module.final:
        return False
    with transaction.atomic():
        Module.objects.filter(pk=module.pk).update(
            regenerate=True, status=ModuleStatus.DRAFT, updated_at=timezone.now()
        )
        run_restart(run=module.run)
    return True
