"""Live ingestion events on the owner's own socket (/ws/events/): `document.progress`,
then `document.ready` or `document.failed`. At most once, like every event: the
documents API tells the truth to a client that missed one."""

from core.events import user_event_on_commit
from documents.models import Document, Ingestion

_TYPES = {"done": "document.ready", "failed": "document.failed"}


def ingestion_data(ingestion: Ingestion) -> dict:
    return {
        "status": ingestion.status,
        "stage": ingestion.stage,
        "done": ingestion.done,
        "total": ingestion.total,
        "error": ingestion.error,
        "attempts": ingestion.attempts,
        "label": progress_label(ingestion),
    }


def progress_label(ingestion: Ingestion) -> str:
    if ingestion.status == "done":
        return f"Ready: {ingestion.total} passages indexed"
    if ingestion.status == "failed":
        return f"Failed: {ingestion.error}"
    if ingestion.status == "cancelled":
        return "Cancelled"
    if ingestion.status == "queued":
        return "Waiting to start"
    return {
        "waiting": "Starting",
        "parsed": "Read the file",
        "chunked": f"Cut into {ingestion.total} passages",
        "embedded": f"Embedded {ingestion.done} of {ingestion.total}",
        "indexed": f"Indexed {ingestion.total} passages",
    }.get(ingestion.stage, ingestion.stage)


def document_event(document_id: int, ingestion: Ingestion) -> dict:
    return {
        "type": _TYPES.get(ingestion.status, "document.progress"),
        "document_id": document_id,
        "ingestion": ingestion_data(ingestion),
    }


def send_ingestion(ingestion: Ingestion) -> None:
    """Publish `ingestion`'s state to its owner, once what it says is committed."""
    owner_id = (
        Document.objects.filter(pk=ingestion.document_id).values_list("owner_id", flat=True).first()
    )
    if owner_id is None:
        return  # deleted meanwhile: nobody to tell
    event = document_event(ingestion.document_id, ingestion)
    user_event_on_commit(owner_id, lambda: event)
