from django.core.exceptions import ValidationError as DjangoValidationError
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from parakh.api import UtcIsoDateTimeFilter, as_drf_error
from parakh.permissions import IsStaff
from synth import selectors, services
from synth.models import Sample

from .serializers import SampleCreateSerializer, SampleSerializer


class SampleFilter(filters.FilterSet):
    created_after = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Sample
        fields = ["language", "task_type", "status", "generator", "is_demo", "source", "job"]


class SampleViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Samples in chat format. Staff only: annotators see their items on the annotation pages."""

    permission_classes = [IsStaff]
    serializer_class = SampleSerializer
    filterset_class = SampleFilter
    ordering = ["-created_at"]

    def get_queryset(self):
        return selectors.sample_list()

    @extend_schema(
        request=SampleCreateSerializer,
        responses={201: SampleSerializer, 200: SampleSerializer},
        description="Create a sample; an identical sample already stored is returned (200).",
    )
    def create(self, request: Request) -> Response:
        payload = SampleCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            sample, created = services.sample_create(**payload.validated_data)
        except DjangoValidationError as error:
            raise as_drf_error(error) from error
        if created:
            services.sample_queue_filter(sample=sample)
        return Response(
            SampleSerializer(sample).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )
