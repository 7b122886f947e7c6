"""URLs of the dashboards pages (names prefixed, inside the "evaluation" namespace)."""

from django.urls import path

from ..views import dashboards

urlpatterns = [
    path("", dashboards.overview, name="agreement-overview"),
    path("judges/", dashboards.judges, name="agreement-judges"),
    path(
        "cells/<str:language>/<slug:dimension>/",
        dashboards.cell,
        name="agreement-cell",
    ),
]
