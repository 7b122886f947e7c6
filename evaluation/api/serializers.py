from rest_framework import serializers

from evaluation.models import Dimension, Rater, Rating
from parakh.api import SlugRelatedField
from synth.models import Sample


class DimensionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Dimension
        fields = [
            "slug",
            "name",
            "kind",
            "level",
            "scale_min",
            "scale_max",
            "guidelines",
            "anchors",
            "task_types",
            "position",
            "is_active",
        ]
        # The scale is fixed once created: ratings already stored depend on it.
        read_only_fields = ["slug", "kind", "level", "scale_min", "scale_max"]


class RaterSerializer(serializers.ModelSerializer):
    name = serializers.SerializerMethodField()

    class Meta:
        model = Rater
        fields = ["id", "kind", "name"]

    def get_name(self, rater: Rater) -> str:
        if rater.user_id:
            return rater.user.username
        if rater.judge_id:
            return rater.judge.name
        return rater.kind


class RatingSerializer(serializers.ModelSerializer):
    dimension = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    rater = RaterSerializer(read_only=True)

    class Meta:
        model = Rating
        fields = [
            "id",
            "sample",
            "dimension",
            "rater",
            "value",
            "rationale",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class RatingWriteSerializer(serializers.Serializer):
    """Input of POST /api/ratings/: creates or replaces the rater's value (staff only)."""

    sample = serializers.PrimaryKeyRelatedField(queryset=Sample.objects.all())
    dimension = SlugRelatedField(slug_field="slug", queryset=Dimension.objects.all())
    rater = serializers.PrimaryKeyRelatedField(queryset=Rater.objects.all())
    value = serializers.IntegerField(min_value=-32768, max_value=32767)
    rationale = serializers.CharField(required=False, allow_blank=True, default="")

    def validate(self, attrs: dict) -> dict:
        dimension = attrs["dimension"]
        if not dimension.scale_min <= attrs["value"] <= dimension.scale_max:
            raise serializers.ValidationError(
                {
                    "value": f"{attrs['value']} is outside {dimension.slug}'s scale "
                    f"{dimension.scale_min}–{dimension.scale_max}."
                }
            )
        return attrs
