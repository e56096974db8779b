"""Periodic housekeeping run by every worker (declared in ops/tasks.py)."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult


def prune_finished_tasks() -> int:
    """Deletes finished task rows past their retention, so the queue stays small and its
    scans fast. Replies and other results live in their own tables; these rows are only
    the queue's bookkeeping."""
    cutoff = timezone.now() - timedelta(days=settings.TASK_RESULT_RETENTION_DAYS)
    deleted, _ = DBTaskResult.objects.finished().filter(finished_at__lt=cutoff).delete()
    return deleted
