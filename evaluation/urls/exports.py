"""URLs of the exports pages (names prefixed, inside the "evaluation" namespace)."""

from django.urls import path

from evaluation.views import exports

urlpatterns = [
    path("", exports.export_list, name="export-list"),
    path("start/", exports.export_start, name="export-start"),
    path("<int:pk>/row/", exports.export_row, name="export-row"),
    path("<int:pk>/files/<path:name>", exports.export_download, name="export-download"),
]
