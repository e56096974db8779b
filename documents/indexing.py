"""Ingesting one document, top to bottom: parse, chunk, embed, index.

Nothing is visible to search until the last stage, which replaces the document's chunks
in one transaction: an ingestion that fails or is cancelled halfway leaves no partial
index, and one that runs again (a retry) does not duplicate chunks.
"""

from collections.abc import Callable
from pathlib import PurePath

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone

import llm
from documents import chunking, isolated, parsing
from documents.models import Chunk, Document

Progress = Callable[[str, int, int], None]


class Stopped(Exception):
    """The ingestion was cancelled or given up while it ran."""


def document_index(
    *,
    document: Document,
    progress: Progress | None = None,
    lost: Callable[[], bool] | None = None,
    still_ours: Callable[[int], bool] | None = None,
) -> int:
    """Parse, chunk, embed and index `document`; returns its number of chunks. Raises
    parsing.ParseError for a file that cannot be read or is over a limit (text, passages,
    parsing time), Stopped once `lost()` is true (also asked while the file is parsed).
    `still_ours(count)` runs inside the transaction that stores the chunks, as a
    conditional write on the job: when it says False, nothing is stored."""
    progress = progress or (lambda stage, done, total: None)
    lost = lost or (lambda: False)
    still_ours = still_ours or (lambda count: True)
    parsed = _parsed(document, lost)
    progress("parsed", 1, 1)
    spans = _chunked(parsed)
    progress("chunked", len(spans), len(spans))
    vectors = _embedded(document, spans, progress, lost)
    if lost():
        raise Stopped
    _store(document, parsed, spans, vectors, still_ours)
    progress("indexed", len(spans), len(spans))
    return len(spans)


def _parsed(document: Document, lost: Callable[[], bool]) -> parsing.Parsed:
    try:
        return isolated.parse(
            bytes(document.data),
            document.content_type,
            max_pages=settings.DOCUMENT_MAX_PAGES,
            max_chars=settings.DOCUMENT_MAX_TEXT_CHARS,
            seconds=settings.DOCUMENT_PARSE_SECONDS,
            stop=lost,
        )
    except isolated.Abandoned:
        raise Stopped from None


def _chunked(parsed: parsing.Parsed) -> list[chunking.Span]:
    spans = chunking.chunk_text(
        parsed.text,
        size=settings.DOCUMENT_CHUNK_CHARS,
        overlap=settings.DOCUMENT_CHUNK_OVERLAP,
        page_starts=parsed.page_starts,
        sections=parsed.sections,
    )
    if len(spans) > settings.DOCUMENT_MAX_CHUNKS:
        raise parsing.ParseError(
            f"This document makes more passages than we index ({len(spans):,}; the limit "
            f"is {settings.DOCUMENT_MAX_CHUNKS:,}). Split it into smaller files and upload those."
        )
    return spans


def embedding_input(span: chunking.Span) -> str:
    # The heading says what a short passage is about ("Present perfect" over "have +
    # participle"), so it is embedded with it; the stored text stays the passage itself.
    return f"{span.section}\n{span.text}" if span.section else span.text


def _embedded(document, spans, progress: Progress, lost) -> np.ndarray:
    batch = max(1, settings.DOCUMENT_EMBED_BATCH)
    parts = []
    for start in range(0, len(spans), batch):
        if lost():
            raise Stopped
        texts = [embedding_input(s) for s in spans[start : start + batch]]
        parts.append(llm.embed(texts, user=document.owner, purpose="document"))
        progress("embedded", min(start + batch, len(spans)), len(spans))
    return np.concatenate(parts) if parts else np.zeros((0, 0), dtype=np.float32)


def _store(document: Document, parsed: parsing.Parsed, spans, vectors, still_ours) -> None:
    chunks = [
        Chunk(
            document=document,
            ordinal=ordinal,
            text=span.text,
            page=span.page,
            section=span.section,
            char_start=span.start,
            char_end=span.end,
            vector=vectors[ordinal].astype(np.float32).tobytes(),
        )
        for ordinal, span in enumerate(spans)
    ]
    with transaction.atomic():
        if not still_ours(len(chunks)):
            raise Stopped  # cancelled or given up since the last check: store nothing
        Chunk.objects.filter(document=document).delete()
        Chunk.objects.bulk_create(chunks, batch_size=500)
        document.text = parsed.text
        document.pages = parsed.page_count
        document.indexed_at = timezone.now()
        if parsed.title and document.title == PurePath(document.filename).stem[:200]:
            document.title = parsed.title[:200]
        document.save(update_fields=["text", "pages", "indexed_at", "title"])
