from django.core.exceptions import ValidationError as DjangoValidationError
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from evaluation import selectors, services
from evaluation.models import Dimension, Rater, Rating
from parakh.api import UtcIsoDateTimeFilter, as_drf_error
from synth.languages import LANGUAGE_CHOICES
from synth.task_types import TaskType

from .serializers import DimensionSerializer, RatingSerializer, RatingWriteSerializer


class DimensionViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The rubric: every signed-in user reads it; staff edit guidelines and anchors."""

    serializer_class = DimensionSerializer
    lookup_field = "slug"
    lookup_value_regex = r"[-a-zA-Z0-9_]+"
    filterset_fields = ["kind", "level", "is_active"]
    queryset = Dimension.objects.all()

    def perform_update(self, serializer: DimensionSerializer) -> None:
        instance = serializer.instance
        for field, value in serializer.validated_data.items():
            setattr(instance, field, value)
        try:
            instance.full_clean()
        except DjangoValidationError as error:
            raise as_drf_error(error) from error
        serializer.save()


class RatingFilter(filters.FilterSet):
    dimension = filters.CharFilter(field_name="dimension__slug")
    rater_kind = filters.ChoiceFilter(field_name="rater__kind", choices=Rater.Kind.choices)
    language = filters.ChoiceFilter(field_name="sample__language", choices=LANGUAGE_CHOICES)
    task_type = filters.ChoiceFilter(field_name="sample__task_type", choices=TaskType.choices)
    updated_after = UtcIsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Rating
        fields = ["sample", "rater", "dimension", "rater_kind", "language", "task_type"]


class RatingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Human, judge, gold and adjudicated ratings; annotators see only their own."""

    serializer_class = RatingSerializer
    filterset_class = RatingFilter
    queryset = Rating.objects.none()  # for the schema; requests use get_queryset()

    def get_queryset(self):
        return selectors.rating_list_visible_to(user=self.request.user).order_by("pk")

    @extend_schema(request=RatingWriteSerializer, responses={201: RatingSerializer})
    def create(self, request: Request) -> Response:
        payload = RatingWriteSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            rating = services.rating_upsert(**payload.validated_data)
        except DjangoValidationError as error:
            raise as_drf_error(error) from error
        return Response(RatingSerializer(rating).data, status=status.HTTP_201_CREATED)
