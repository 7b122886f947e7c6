from django.urls import include, path
from rest_framework.routers import SimpleRouter

from .views import DimensionViewSet, RatingViewSet

router = SimpleRouter()
router.register("dimensions", DimensionViewSet, basename="dimension")
router.register("ratings", RatingViewSet, basename="rating")

urlpatterns = [
    *router.urls,
    path("", include("evaluation.api.dashboards")),
    path("", include("evaluation.api.exports")),
    path("", include("evaluation.api.judges")),
    path("", include("evaluation.api.arena")),
]
