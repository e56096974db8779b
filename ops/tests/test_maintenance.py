import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from ops.maintenance import prune_finished_tasks
from ops.tests import sample_tasks

pytestmark = pytest.mark.django_db


def test_pruning_deletes_only_finished_tasks_past_retention(settings):
    settings.TASK_RESULT_RETENTION_DAYS = 2
    old, recent, waiting = (sample_tasks.note_time.enqueue() for _ in range(3))
    long_ago = timezone.now() - timezone.timedelta(days=3)
    DBTaskResult.objects.filter(id=old.id).update(status="SUCCESSFUL", finished_at=long_ago)
    DBTaskResult.objects.filter(id=recent.id).update(status="FAILED", finished_at=timezone.now())

    assert prune_finished_tasks() == 1

    remaining = {str(pk) for pk in DBTaskResult.objects.values_list("id", flat=True)}
    assert remaining == {recent.id, waiting.id}
