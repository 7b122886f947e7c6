"""URLs of the judges pages (names prefixed, inside the "evaluation" namespace)."""

urlpatterns: list = []
