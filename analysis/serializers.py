"""The shapes of analysis results, shared by the REST API and the live events."""

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from analysis.core import feedback
from analysis.core.annotate import detect_language
from analysis.core.taxonomy import ErrorType
from analysis.models import AnalysisBatch, DetectedError, ErrorCluster, UtteranceAnalysis
from analysis.selectors import cluster_examples
from core.api import StrictCharField

TYPE_LABELS = dict(ErrorType.choices)


def type_label(error_type: str) -> str:
    return TYPE_LABELS.get(error_type, error_type.replace("_", " ").capitalize())


class ErrorTypeLabelField(serializers.CharField):
    """The row's error type as learners read it ("Verb tense")."""

    def __init__(self, **kwargs) -> None:
        super().__init__(source="error_type", read_only=True, **kwargs)

    def to_representation(self, value: str) -> str:
        return type_label(value)


class BatchSerializer(serializers.ModelSerializer):
    message_count = serializers.SerializerMethodField()

    class Meta:
        model = AnalysisBatch
        fields = (
            "id",
            "sequence",
            "status",
            "attempts",
            "error",
            "message_count",
            "created_at",
            "started_at",
            "finished_at",
        )

    def get_message_count(self, batch: AnalysisBatch) -> int:
        count = getattr(batch, "message_count", None)
        return count if count is not None else batch.items.count()


class NoteSerializer(serializers.Serializer):
    """A reviewed grammar note (grammar/), in the learner's explanation language."""

    id = serializers.CharField()
    title = serializers.CharField()
    rule = serializers.CharField()
    pattern = serializers.CharField(help_text="Filled with the learner's own words.")
    example = serializers.ListField(child=serializers.CharField(), help_text="[wrong, right]")
    tip = serializers.CharField()
    language = serializers.CharField()


class DetectedErrorSerializer(serializers.ModelSerializer):
    """A mistake as the learner sees it. Pass `language` (the learner's explanation
    language) in the context; the note and "more" are in it."""

    error_type_label = ErrorTypeLabelField()
    note = serializers.SerializerMethodField()
    more = serializers.SerializerMethodField()

    class Meta:
        model = DetectedError
        fields = (
            "id",
            "start",
            "end",
            "original",
            "correction",
            "error_type",
            "error_type_label",
            "source_type",
            "explanation",
            "confidence",
            "note",
            "more",
        )

    @extend_schema_field(NoteSerializer(allow_null=True))
    def get_note(self, error: DetectedError) -> dict | None:
        return feedback.note_for_edit(error, self._language())

    @extend_schema_field(serializers.CharField())
    def get_more(self, error: DetectedError) -> str:
        """The model's own explanation, where it may stand beside the note; else ""."""
        language = self._language()
        note = feedback.note_for_edit(error, language)
        detected = detect_language(error.explanation, expected=language)
        return feedback.more_explanation(error, note, language=language, detected=detected)

    def _language(self) -> str:
        return self.context.get("language", "en")


class UtteranceSerializer(serializers.ModelSerializer):
    message_seq = serializers.IntegerField(
        help_text="The message's seq in our chats; its arrival number in external ones."
    )
    errors = DetectedErrorSerializer(many=True, read_only=True)

    class Meta:
        model = UtteranceAnalysis
        fields = (
            "id",
            "message_seq",
            "text",
            "corrected",
            "language",
            "level",
            "topics",
            "priority",
            "has_errors",
            "low_confidence",
            "errors",
            "created_at",
        )


class ExampleSerializer(serializers.Serializer):
    """One error of a cluster, with the sentence it was found in."""

    id = serializers.IntegerField()
    text = serializers.CharField(source="utterance.text")
    start = serializers.IntegerField()
    end = serializers.IntegerField()
    original = serializers.CharField()
    correction = serializers.CharField()
    explanation = serializers.CharField()


class ClusterSerializer(serializers.ModelSerializer):
    error_type_label = ErrorTypeLabelField()
    top_edits = serializers.ListField(child=serializers.ListField(child=serializers.CharField()))
    examples = serializers.SerializerMethodField()

    class Meta:
        model = ErrorCluster
        fields = (
            "id",
            "rank",
            "name",
            "description",
            "error_type",
            "error_type_label",
            "size",
            "score",
            "top_edits",
            "examples",
        )

    @extend_schema_field(ExampleSerializer(many=True))
    def get_examples(self, cluster: ErrorCluster) -> list[dict]:
        return ExampleSerializer(cluster_examples(cluster), many=True).data


class ConversationAnalysisSerializer(serializers.Serializer):
    batch_size = serializers.SerializerMethodField()
    ended = serializers.BooleanField()
    batches = BatchSerializer(many=True)
    utterances = UtteranceSerializer(many=True)
    clusters = ClusterSerializer(many=True)

    def get_batch_size(self, _) -> int:
        return settings.ANALYSIS_BATCH_SIZE


class TrendSeriesSerializer(serializers.Serializer):
    cluster_id = serializers.IntegerField()
    name = serializers.CharField()
    direction = serializers.ChoiceField(choices=["new", "shrinking", "persisting"])
    counts = serializers.ListField(child=serializers.IntegerField())


class LevelPointSerializer(serializers.Serializer):
    day = serializers.DateField()
    level = serializers.CharField()


class LearnerAnalysisSerializer(serializers.Serializer):
    utterances = serializers.IntegerField()
    with_errors = serializers.IntegerField()
    errors = serializers.IntegerField()
    clusters = ClusterSerializer(many=True)
    days = serializers.ListField(child=serializers.DateField())
    trend = TrendSeriesSerializer(many=True)
    levels = LevelPointSerializer(many=True)


class ExternalMessageInput(serializers.Serializer):
    message_id = StrictCharField(max_length=100)
    speaker = StrictCharField(max_length=100)
    role = StrictCharField(
        max_length=32, help_text='"learner" messages are analysed; any other role is context.'
    )
    # Its length limit is checked by the service (413, not 400), and told here.
    text = StrictCharField(
        help_text=f"At most {settings.ANALYSIS_INGEST_TEXT_MAX_CHARS} characters (413 beyond)."
    )
    sent_at = serializers.DateTimeField()
    learner = StrictCharField(
        max_length=100,
        required=False,
        default="",
        allow_blank=True,
        help_text=(
            "With an integration's API key: the learner's id as the integration knows them "
            "(required on a conversation's first message). Ignored with a learner's JWT."
        ),
    )


class ExternalMessageSerializer(serializers.Serializer):
    message_id = serializers.CharField()
    speaker = serializers.CharField()
    role = serializers.CharField()
    sent_at = serializers.DateTimeField()
    arrival = serializers.IntegerField()
    created = serializers.BooleanField()


class ExternalConversationSerializer(serializers.Serializer):
    external_id = serializers.CharField()
    ended_at = serializers.DateTimeField(allow_null=True)
    messages = serializers.IntegerField()
    analysis = ConversationAnalysisSerializer()
