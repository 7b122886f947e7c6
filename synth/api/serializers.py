from rest_framework import serializers

from synth.languages import LANGUAGE_CHOICES, get_language
from synth.models import Sample, Source
from synth.task_types import TaskType


class MessageSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=["system", "user", "assistant"])
    content = serializers.CharField(trim_whitespace=False)


class SourceSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Source
        fields = ["id", "kind", "title", "url", "license"]


class SampleSerializer(serializers.ModelSerializer):
    messages = MessageSerializer(many=True)
    source = SourceSummarySerializer(read_only=True)
    flores = serializers.SerializerMethodField()

    class Meta:
        model = Sample
        fields = [
            "id",
            "language",
            "flores",
            "task_type",
            "messages",
            "status",
            "generator",
            "template_version",
            "params",
            "filter_report",
            "source",
            "job",
            "is_demo",
            "content_hash",
            "created_at",
        ]
        read_only_fields = fields

    def get_flores(self, sample: Sample) -> str:
        return get_language(sample.language).flores


class SampleCreateSerializer(serializers.Serializer):
    """Input of POST /api/samples/: one sample in chat format (idempotent on content)."""

    language = serializers.ChoiceField(choices=LANGUAGE_CHOICES)
    task_type = serializers.ChoiceField(choices=TaskType.choices)
    messages = MessageSerializer(many=True, allow_empty=False)
    generator = serializers.CharField(max_length=300)
    template_version = serializers.CharField(max_length=50, required=False, default="")
    params = serializers.DictField(required=False, default=dict)
    source = serializers.PrimaryKeyRelatedField(
        queryset=Source.objects.all(), required=False, allow_null=True, default=None
    )
