"""API: exports of the agreed subset (staff only). Create one, list them, read one, and
download its files: /api/exports/, /api/exports/<id>/, /api/exports/<id>/download/?name=."""

from urllib.parse import urlencode

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import FileResponse, Http404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from parakh.api import as_drf_error
from parakh.permissions import IsStaff
from synth.languages import LANGUAGES
from synth.task_types import TaskType

from ..export import EXPORT_FORMATS, MANIFEST_NAME, ExportCriteria
from ..models import Export
from ..services import export_create, export_directory

SMALL_INT = {"min_value": 0, "max_value": 1000}


class ExportCreateSerializer(serializers.Serializer):
    """The criteria of a new export (docs/export.md) and the formats to write."""

    dimensions = serializers.ListField(child=serializers.SlugField(max_length=50), min_length=1)
    languages = serializers.ListField(
        child=serializers.ChoiceField(choices=list(LANGUAGES)), required=False, default=list
    )
    task_types = serializers.ListField(
        child=serializers.ChoiceField(choices=TaskType.values), required=False, default=list
    )
    min_human_ratings = serializers.IntegerField(min_value=1, max_value=1000, default=2)
    max_spread = serializers.IntegerField(**SMALL_INT, default=1)
    min_scores = serializers.DictField(
        child=serializers.IntegerField(min_value=-32768, max_value=32767),
        required=False,
        default=dict,
    )
    judge = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    judge_tolerance = serializers.IntegerField(**SMALL_INT, default=1)
    exclude_flagged = serializers.BooleanField(default=True)
    include_rejected = serializers.BooleanField(default=False)
    formats = serializers.ListField(
        child=serializers.ChoiceField(choices=EXPORT_FORMATS), min_length=1, default=["jsonl"]
    )


class ExportFileSerializer(serializers.Serializer):
    name = serializers.CharField()
    bytes = serializers.IntegerField()
    sha256 = serializers.CharField()
    url = serializers.URLField()


class ExportSerializer(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    files = serializers.SerializerMethodField()
    manifest_url = serializers.SerializerMethodField()

    class Meta:
        model = Export
        fields = [
            "id",
            "status",
            "criteria",
            "formats",
            "counts",
            "progress",
            "error",
            "files",
            "manifest_url",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    def _download_url(self, export: Export, name: str) -> str:
        url = reverse("export-api-download", args=[export.pk])
        request = self.context.get("request")
        path = f"{url}?{urlencode({'name': name})}"
        return request.build_absolute_uri(path) if request else path

    @extend_schema_field(ExportFileSerializer(many=True))
    def get_files(self, export: Export) -> list[dict]:
        if export.status != Export.Status.COMPLETED:
            return []
        return [
            {**entry, "url": self._download_url(export, entry["name"])} for entry in export.files
        ]

    def get_manifest_url(self, export: Export) -> str | None:
        if export.status != Export.Status.COMPLETED:
            return None
        return self._download_url(export, MANIFEST_NAME)


class ExportViewSet(
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Exports are staff-only: the subset and its provenance are not for annotators."""

    serializer_class = ExportSerializer
    permission_classes = [IsStaff]
    filterset_fields = ["status"]
    queryset = Export.objects.select_related("created_by").order_by("-created_at", "-pk")

    @extend_schema(request=ExportCreateSerializer, responses={201: ExportSerializer})
    def create(self, request: Request) -> Response:
        payload = ExportCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        formats = data.pop("formats")
        try:
            export = export_create(
                criteria=ExportCriteria(
                    **{
                        **data,
                        "dimensions": tuple(data["dimensions"]),
                        "languages": tuple(data["languages"]),
                        "task_types": tuple(data["task_types"]),
                    }
                ),
                formats=formats,
                created_by=request.user,
            )
        except DjangoValidationError as error:
            raise as_drf_error(error) from error
        return Response(
            ExportSerializer(export, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "name",
                str,
                description="A file of the export, as listed in files; default manifest.json.",
            )
        ],
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
    )
    @action(detail=True, methods=["get"])
    def download(self, request: Request, pk: str | None = None) -> FileResponse:
        export = self.get_object()
        name = request.query_params.get("name", MANIFEST_NAME)
        recorded = {entry["name"] for entry in export.files} | {MANIFEST_NAME}
        if export.status != Export.Status.COMPLETED or name not in recorded:
            raise Http404("No such file in this export.")
        path = export_directory(export=export) / name
        if not path.is_file():
            raise Http404("The file is gone from the server.")
        return FileResponse(
            path.open("rb"),
            as_attachment=True,
            filename=f"export-{export.pk}-{name.replace('/', '-')}",
        )


router = SimpleRouter()
router.register("exports", ExportViewSet, basename="export-api")

urlpatterns = router.urls
