"""API: judges and judge runs (staff only), under /api/judges/ and /api/judge-runs/."""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from evaluation import services
from evaluation.models import Dimension, Judge, JudgeRun
from parakh.api import SlugRelatedField, as_drf_error
from parakh.permissions import IsStaff
from parakh.transitions import DomainError
from synth.models import ModelEndpoint


class JudgeSerializer(serializers.ModelSerializer):
    endpoint = serializers.PrimaryKeyRelatedField(queryset=ModelEndpoint.objects.all())

    class Meta:
        model = Judge
        fields = ["id", "name", "endpoint", "prompt_version", "params", "created_at"]
        read_only_fields = ["id", "created_at"]


class JudgeRunSerializer(serializers.ModelSerializer):
    dimensions = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)

    class Meta:
        model = JudgeRun
        fields = [
            "id",
            "judge",
            "mode",
            "dimensions",
            "selection",
            "status",
            "counts",
            "error",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


class JudgeRunWriteSerializer(serializers.Serializer):
    """Input of POST /api/judge-runs/: the run is created and started at once."""

    judge = serializers.PrimaryKeyRelatedField(queryset=Judge.objects.all())
    mode = serializers.ChoiceField(choices=JudgeRun.Mode.choices, default=JudgeRun.Mode.SINGLE)
    dimensions = SlugRelatedField(
        slug_field="slug", queryset=Dimension.objects.filter(is_active=True), many=True
    )
    selection = serializers.DictField(required=False, default=dict)


class JudgeViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = JudgeSerializer
    permission_classes = [IsStaff]
    queryset = Judge.objects.order_by("pk")

    def perform_create(self, serializer: JudgeSerializer) -> None:
        try:
            serializer.instance = services.judge_create(**serializer.validated_data)
        except DjangoValidationError as error:
            raise as_drf_error(error) from error


class JudgeRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = JudgeRunSerializer
    permission_classes = [IsStaff]
    queryset = JudgeRun.objects.prefetch_related("dimensions").order_by("-pk")
    filterset_fields = ["judge", "status", "mode"]

    @extend_schema(request=JudgeRunWriteSerializer, responses={201: JudgeRunSerializer})
    def create(self, request: Request) -> Response:
        payload = JudgeRunWriteSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            run = services.judge_run_create(**payload.validated_data, created_by=request.user)
            run = services.judge_run_start(run=run)
        except DjangoValidationError as error:
            raise as_drf_error(error) from error
        return Response(JudgeRunSerializer(run).data, status=status.HTTP_201_CREATED)

    def _act(self, change) -> Response:
        try:
            run = change(run=self.get_object())
        except DomainError as error:
            return Response({"detail": str(error)}, status=status.HTTP_409_CONFLICT)
        run = self.get_queryset().get(pk=run.pk)
        return Response(JudgeRunSerializer(run).data)

    @extend_schema(request=None, responses={200: JudgeRunSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        return self._act(services.judge_run_cancel)

    @extend_schema(request=None, responses={200: JudgeRunSerializer})
    @action(detail=True, methods=["post"])
    def resume(self, request: Request, pk: str) -> Response:
        return self._act(services.judge_run_resume)


router = SimpleRouter()
router.register("judges", JudgeViewSet, basename="judge")
router.register("judge-runs", JudgeRunViewSet, basename="judge-run")

urlpatterns = router.urls
