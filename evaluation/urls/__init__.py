"""The evaluation app's staff pages, one module per area."""

from django.urls import include, path

app_name = "evaluation"

urlpatterns = [
    path("agreement/", include("evaluation.urls.dashboards")),
    path("exports/", include("evaluation.urls.exports")),
    path("judges/", include("evaluation.urls.judges")),
    path("arena/", include("evaluation.urls.arena")),
]
