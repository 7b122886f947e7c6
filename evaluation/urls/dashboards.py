"""URLs of the dashboards pages (names prefixed, inside the "evaluation" namespace)."""

urlpatterns: list = []
