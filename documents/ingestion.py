"""Ingestion on the shared job mechanism (ops.jobs): claimed, kept alive, retried, swept.

The work is documents.indexing.document_index; this module reports its progress (stored
on the job row, then published to the owner) and maps its outcomes onto the job: a file
that cannot be read fails at once with the reason, anything unexpected is retried.
"""

from django.conf import settings

from documents import events, indexing, parsing
from documents.models import Ingestion
from ops import jobs


def register() -> None:
    from documents.tasks import ingest_document

    jobs.register(
        Ingestion,
        task=ingest_document,
        on_change=events.send_ingestion,
        max_attempts=settings.DOCUMENT_INGEST_MAX_ATTEMPTS,
    )


def ingestion_run(*, ingestion_id: int, task_id: str = "") -> None:
    jobs.run(Ingestion, ingestion_id, work=ingestion_process, task_id=task_id)


def ingestion_process(ingestion: Ingestion) -> None:
    document = ingestion.document
    try:
        indexing.document_index(
            document=document,
            progress=lambda stage, done, total: progress_report(ingestion, stage, done, total),
            lost=lambda: jobs.lost(ingestion),
            still_ours=lambda count: _mark_indexed(ingestion, count),
        )
    except parsing.ParseError as exc:
        raise jobs.Failed(exc.user_message) from exc
    except indexing.Stopped:
        return  # cancelled or given up: the row already says so


def _mark_indexed(ingestion: Ingestion, count: int) -> bool:
    """The last progress, written only while the attempt is still ours."""
    return bool(
        Ingestion.objects.filter(
            pk=ingestion.pk, status=jobs.JobStatus.RUNNING, attempts=ingestion.attempts
        ).update(stage="indexed", done=count, total=count)
    )


def progress_report(ingestion: Ingestion, stage: str, done: int, total: int) -> None:
    """Store the progress while the attempt is still ours, then tell the owner."""
    updated = Ingestion.objects.filter(
        pk=ingestion.pk, status=jobs.JobStatus.RUNNING, attempts=ingestion.attempts
    ).update(stage=stage, done=done, total=total)
    if updated:
        ingestion.stage, ingestion.done, ingestion.total = stage, done, total
        events.send_ingestion(ingestion)
