"""Writes of the documents app: upload (checked, deduplicated, queued), delete, cancel and
retry of an ingestion."""

import hashlib
import re
from pathlib import PurePath

from django.conf import settings
from django.db import IntegrityError, transaction

from core import jobs
from core.errors import Conflict, TooLarge, UserFacingError
from documents import parsing
from documents.models import Document, Ingestion

FILENAME_MAX = 255


def check_size(size: int) -> None:
    """A file over the limit is a 413 that names it."""
    if size > settings.DOCUMENT_MAX_BYTES:
        megabytes = settings.DOCUMENT_MAX_BYTES / (1024 * 1024)
        raise TooLarge(
            f"This file is larger than the limit of {megabytes:g} MB.",
            detail={"max_bytes": settings.DOCUMENT_MAX_BYTES, "size": size},
        )


def document_upload(*, owner, filename: str, data: bytes) -> tuple[Document, bool]:
    """Store an upload and queue its ingestion; `(document, created)`. The same content
    uploaded again by its owner returns the document it already is."""
    check_size(len(data))
    filename = clean_filename(filename)
    kind = parsing.detect_type(data, filename)
    pages = parsing.check(data, kind, max_pages=settings.DOCUMENT_MAX_PAGES)
    digest = hashlib.sha256(data).hexdigest()
    existing = Document.objects.filter(owner=owner, sha256=digest).defer("data", "text").first()
    if existing is not None:
        return existing, False
    if Document.objects.filter(owner=owner).count() >= settings.DOCUMENTS_PER_USER:
        raise UserFacingError(
            f"You have {settings.DOCUMENTS_PER_USER} documents, the most one account may keep. "
            "Delete one to upload another."
        )
    try:
        with transaction.atomic():
            document = Document.objects.create(
                owner=owner,
                title=PurePath(filename).stem[:200] or filename[:200],
                filename=filename,
                content_type=kind,
                sha256=digest,
                size=len(data),
                pages=pages,
                data=data,
            )
            jobs.enqueue(Ingestion.objects.create(document=document))
    except IntegrityError:
        # The same file raced in from a second request: the first one won.
        return Document.objects.get(owner=owner, sha256=digest), False
    return document, True


def clean_filename(filename: str) -> str:
    name = PurePath(filename.replace("\\", "/")).name
    name = re.sub(r"[\x00-\x1f\x7f]", "", name).strip()
    return (name or "document")[-FILENAME_MAX:]


def document_delete(*, document: Document) -> None:
    """Delete the document with its chunks and vectors (the lexical index follows by
    trigger); a running ingestion notices at its next heartbeat and stops."""
    document.delete()


def ingestion_cancel(*, document: Document) -> Ingestion:
    ingestion = document.ingestion
    if not jobs.cancel(ingestion):
        raise Conflict("This document is not being processed, so there is nothing to cancel.")
    return ingestion


def ingestion_retry(*, document: Document) -> Ingestion:
    ingestion = document.ingestion
    if not jobs.retry(ingestion):
        raise Conflict("Only a failed or cancelled document can be processed again.")
    Ingestion.objects.filter(pk=ingestion.pk).update(stage="waiting", done=0, total=0)
    ingestion.refresh_from_db()
    return ingestion
