"""The shapes of documents in the REST API (and the data the pages hand their script)."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from documents.models import Document, Ingestion


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


class ProgressLabelField(serializers.CharField):
    """`progress_label` of the whole ingestion (source="*"). A plain string in the schema,
    like the fields beside it, where a SerializerMethodField would be marked read-only."""

    def to_representation(self, ingestion: Ingestion) -> str:
        return progress_label(ingestion)


class IngestionSerializer(serializers.Serializer):
    status = serializers.CharField(help_text="queued, running, done, failed or cancelled.")
    stage = serializers.CharField(help_text="waiting, parsed, chunked, embedded or indexed.")
    done = serializers.IntegerField()
    total = serializers.IntegerField()
    error = serializers.CharField(help_text="Why it failed, when it did.")
    attempts = serializers.IntegerField()
    label = ProgressLabelField(
        source="*", help_text='The progress in words, e.g. "Embedded 40 of 80".'
    )


class DocumentSerializer(serializers.ModelSerializer):
    ingestion = serializers.SerializerMethodField()

    class Meta:
        model = Document
        fields = (
            "id",
            "title",
            "filename",
            "content_type",
            "size",
            "pages",
            "created_at",
            "indexed_at",
            "ingestion",
        )
        read_only_fields = fields

    @extend_schema_field(IngestionSerializer)
    def get_ingestion(self, document: Document) -> dict:
        return IngestionSerializer(document.ingestion).data


class UploadInput(serializers.Serializer):
    file = serializers.FileField(
        allow_empty_file=True, help_text=".txt, .md, .pdf (with text) or .html; 10 MB at most."
    )
