"""API shapes. Modules are only ever serialised after the visibility selector let them
through; the staff-only fields (report, rejection reason) are not in these shapes."""

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from teaching import events, selectors
from teaching.models import CollectionItem, Module, PracticeAttempt, TeachingRun


class ModuleSerializer(serializers.ModelSerializer):
    content = serializers.JSONField(read_only=True)
    practice_url = serializers.SerializerMethodField()

    class Meta:
        model = Module
        fields = [
            "id",
            "title",
            "language",
            "error_type",
            "cluster_name",
            "status",
            "conversation",
            "content",
            "validated_at",
            "created_at",
            "practice_url",
        ]
        read_only_fields = fields

    def get_practice_url(self, module: Module) -> str:
        return events.module_brief(module)["url"]


class ProgressSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    ready = serializers.IntegerField()
    held_back = serializers.IntegerField()
    pending = serializers.IntegerField()
    more_coming = serializers.BooleanField()
    text = serializers.CharField(help_text='e.g. "3 of 7 ready, more coming"')
    note = serializers.CharField(help_text="what to do instead when a run ends with none ready")


class RunSerializer(serializers.ModelSerializer):
    stage_label = serializers.CharField(source="get_stage_display", read_only=True)
    progress = serializers.SerializerMethodField()

    class Meta:
        model = TeachingRun
        fields = [
            "id",
            "scope",
            "conversation",
            "status",
            "stage",
            "stage_label",
            "error",
            "progress",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields

    @extend_schema_field(ProgressSerializer)
    def get_progress(self, run: TeachingRun) -> dict:
        return selectors.run_progress(run)


class HeldBackSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class CorrectionSerializer(serializers.Serializer):
    sentence = serializers.CharField()
    corrected = serializers.CharField()


class PractiseSerializer(serializers.Serializer):
    title = serializers.CharField()
    url = serializers.CharField()
    why = serializers.CharField()


class LessonsSerializer(serializers.Serializer):
    run = RunSerializer(allow_null=True)
    modules = ModuleSerializer(many=True)
    held_back = HeldBackSerializer(many=True, help_text="lessons a teacher is checking")
    corrections = CorrectionSerializer(many=True, help_text="the learner's own, to read")
    practise = PractiseSerializer(many=True, help_text="due reviews, then unpractised lessons")


class TagsField(serializers.ListField):
    child = serializers.CharField(max_length=100, allow_blank=True)


class CollectionItemSerializer(serializers.ModelSerializer):
    module = ModuleSerializer(read_only=True)

    class Meta:
        model = CollectionItem
        fields = [
            "id",
            "module",
            "notes",
            "tags",
            "due_at",
            "reviews",
            "last_reviewed_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class CollectionSaveInput(serializers.Serializer):
    module = serializers.IntegerField(min_value=1)
    notes = serializers.CharField(
        required=False, allow_blank=True, max_length=settings.TEACHING_NOTES_MAX_CHARS
    )
    tags = TagsField(required=False, max_length=settings.TEACHING_MAX_TAGS)


class CollectionUpdateInput(serializers.Serializer):
    notes = serializers.CharField(
        required=False, allow_blank=True, max_length=settings.TEACHING_NOTES_MAX_CHARS
    )
    tags = TagsField(required=False, max_length=settings.TEACHING_MAX_TAGS)


class PracticeInput(serializers.Serializer):
    answers = serializers.ListField(
        child=serializers.CharField(max_length=300, allow_blank=True, trim_whitespace=False),
        max_length=8,
    )
    review = serializers.BooleanField(
        default=False, help_text="answers to the saved lesson's review in progress (its items)"
    )


class PracticeCheckInput(serializers.Serializer):
    index = serializers.IntegerField(min_value=0, max_value=7)
    answer = serializers.CharField(max_length=300, allow_blank=True, trim_whitespace=False)
    review = serializers.BooleanField(
        default=False, help_text="an item of the saved lesson's review in progress"
    )


class PracticeCheckSerializer(serializers.Serializer):
    answer = serializers.CharField()
    correct = serializers.BooleanField()
    expected = serializers.CharField()
    rationale = serializers.CharField()
    feedback = serializers.ListField(child=serializers.CharField())


class PracticeResultSerializer(serializers.ModelSerializer):
    score = serializers.FloatField(read_only=True)
    due_at = serializers.SerializerMethodField()

    class Meta:
        model = PracticeAttempt
        fields = ["id", "module", "answers", "correct", "total", "score", "rating", "due_at"]
        read_only_fields = fields

    def get_due_at(self, attempt: PracticeAttempt) -> str | None:
        """When the saved lesson is next due for review (null when it is not saved)."""
        return attempt.item.due_at.isoformat() if attempt.item else None
