"""Reads of the documents app. Every read is scoped to the owner: another learner's
document does not exist for them (404)."""

from core.errors import NotFound
from documents import search
from documents.models import Chunk, Document

NOT_FOUND = "No such document."


def document_list_for(user):
    return Document.objects.filter(owner=user).select_related("ingestion").defer("data", "text")


def documents_ready_for(user):
    """The user's indexed documents, as a picker lists them."""
    return Document.objects.filter(owner=user, indexed_at__isnull=False).only("pk", "title")


def document_get_for(user, document_id: int) -> Document:
    document = document_list_for(user).filter(pk=document_id).first()
    if document is None:
        raise NotFound(NOT_FOUND)
    return document


def documents_owned(user, document_ids) -> list[Document]:
    """The documents among `document_ids` that `user` owns; NotFound if any is not."""
    wanted = {int(i) for i in document_ids}
    found = list(document_list_for(user).filter(pk__in=wanted))
    if len(found) != len(wanted):
        raise NotFound(NOT_FOUND, detail={"document_ids": sorted(wanted - {d.pk for d in found})})
    return found


def chunks_of(document: Document):
    return Chunk.objects.filter(document=document).defer("vector").order_by("ordinal")


def chunks_search_for(user, *, document_ids, query: str) -> list[search.Hit]:
    """Retrieval over the user's own indexed documents among `document_ids`."""
    documents = [
        d
        for d in document_list_for(user).filter(pk__in=list(document_ids))
        if d.indexed_at is not None
    ]
    return search.search(query=query, documents=documents, user=user)
