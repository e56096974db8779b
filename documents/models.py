"""Documents a learner uploaded, the chunks they were cut into, and their ingestion job.

A document belongs to its owner alone. Its bytes are kept (so a failed ingestion can be
retried) but never read by lists; its extracted `text` is what chunk offsets point into.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from core import jobs


class ContentType(models.TextChoices):
    TEXT = "text", "Plain text"
    MARKDOWN = "markdown", "Markdown"
    PDF = "pdf", "PDF"
    HTML = "html", "Web page"


class Document(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="documents"
    )
    title = models.CharField(max_length=200)
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=16, choices=ContentType)
    # Identical content uploaded twice by one owner is one document.
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    pages = models.PositiveIntegerField(null=True, blank=True)
    data = models.BinaryField()
    text = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Set when its chunks are all embedded and indexed; cached vectors are keyed by it.
    indexed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "sha256"], name="document_unique_content")
        ]

    def __str__(self) -> str:
        return self.title


class Chunk(models.Model):
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="chunks")
    ordinal = models.PositiveIntegerField()
    text = models.TextField()
    page = models.PositiveIntegerField(null=True, blank=True)
    section = models.CharField(max_length=300, blank=True)
    # Offsets into the document's extracted text: document.text[char_start:char_end].
    char_start = models.PositiveIntegerField()
    char_end = models.PositiveIntegerField()
    # float32, L2-normalised, as bytes (numpy.frombuffer reads it without a copy).
    vector = models.BinaryField()

    class Meta:
        ordering = ["document", "ordinal"]
        constraints = [
            models.UniqueConstraint(fields=["document", "ordinal"], name="chunk_unique_ordinal")
        ]

    def __str__(self) -> str:
        return f"{self.document_id}#{self.ordinal}"


class Stage(models.TextChoices):
    WAITING = "waiting", "Waiting"
    PARSED = "parsed", "Read"
    CHUNKED = "chunked", "Cut into passages"
    EMBEDDED = "embedded", "Embedding"
    INDEXED = "indexed", "Indexed"


class Ingestion(jobs.Job):
    """The background job that makes a document searchable, with its live progress."""

    document = models.OneToOneField(Document, on_delete=models.CASCADE, related_name="ingestion")
    stage = models.CharField(max_length=16, choices=Stage, default=Stage.WAITING)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"Ingestion of {self.document_id} ({self.status})"
