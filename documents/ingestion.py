"""Ingestion on the shared job mechanism (core.jobs): claimed, kept alive, retried, swept.

The work is documents.indexing.document_index; this module reports its progress (stored
on the job row, then published to the owner) and maps its outcomes onto the job: a file
that cannot be read fails at once with the reason, anything unexpected is retried.
"""

from core import jobs
from documents import events, indexing, parsing
from documents.models import Ingestion


def ingestion_process(ingestion: Ingestion) -> None:
    document = ingestion.document
    try:
        indexing.document_index(
            document=document,
            progress=lambda stage, done, total: progress_report(ingestion, stage, done, total),
            lost=lambda: _lost(ingestion),
            still_ours=lambda count: _mark_indexed(ingestion, count),
        )
    except parsing.ParseError as exc:
        raise jobs.Failed(exc.user_message) from exc
    except indexing.Stopped:
        return  # cancelled or given up: the row already says so


def _lost(ingestion: Ingestion) -> bool:
    # The heartbeat learns of a cancel only every JOB_HEARTBEAT_SECONDS; asking the row
    # (one indexed read per embedding batch, or four times a second while a file is parsed)
    # lets a cancel stop the work within a second.
    return jobs.lost(ingestion) or not Ingestion.objects.filter(jobs.mine(ingestion)).exists()


def _mark_indexed(ingestion: Ingestion, count: int) -> bool:
    """The last progress, written only while the attempt is still ours."""
    return bool(
        Ingestion.objects.filter(jobs.mine(ingestion)).update(
            stage="indexed", done=count, total=count
        )
    )


def progress_report(ingestion: Ingestion, stage: str, done: int, total: int) -> None:
    """Store the progress while the attempt is still ours, then tell the owner."""
    updated = Ingestion.objects.filter(jobs.mine(ingestion)).update(
        stage=stage, done=done, total=total
    )
    if not updated:
        # Cancelled, deleted or superseded by a retry: this attempt stops here.
        raise indexing.Stopped
    ingestion.stage, ingestion.done, ingestion.total = stage, done, total
    events.send_ingestion(ingestion)
