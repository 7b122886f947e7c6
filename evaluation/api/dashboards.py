"""API: dashboards. Serializers, views and urlpatterns for /api/ (see evaluation/api/urls.py)."""

urlpatterns: list = []
