"""The shapes of documents in the REST API (and the data the pages hand their script)."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from documents.events import ingestion_data
from documents.models import Document


class IngestionSerializer(serializers.Serializer):
    status = serializers.CharField(help_text="queued, running, done, failed or cancelled.")
    stage = serializers.CharField(help_text="waiting, parsed, chunked, embedded or indexed.")
    done = serializers.IntegerField()
    total = serializers.IntegerField()
    error = serializers.CharField(help_text="Why it failed, when it did.")
    attempts = serializers.IntegerField()
    label = serializers.CharField(help_text='The progress in words, e.g. "Embedded 40 of 80".')


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
        return ingestion_data(document.ingestion)


class UploadInput(serializers.Serializer):
    file = serializers.FileField(
        allow_empty_file=True, help_text=".txt, .md, .pdf (with text) or .html; 10 MB at most."
    )
