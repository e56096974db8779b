"""Live ingestion events on the owner's own socket (/ws/events/): `document.progress`,
then `document.ready` or `document.failed`. At most once, like every event: the
documents API tells the truth to a client that missed one."""

from core.events import user_event_on_commit
from documents.models import Document, Ingestion
from documents.serializers import IngestionSerializer

_TYPES = {"done": "document.ready", "failed": "document.failed"}


def ingestion_data(ingestion: Ingestion) -> dict:
    # The same shape as the API's, so a page updates a document from either alike.
    return dict(IngestionSerializer(ingestion).data)


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
