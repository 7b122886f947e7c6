"""URLs of the exports pages (names prefixed, inside the "evaluation" namespace)."""

urlpatterns: list = []
