"""Reads of dimensions and ratings."""

from django.db.models import Q, QuerySet

from ..models import Dimension, Rating


def dimension_list(*, task_type: str | None = None, kind: str | None = None) -> list[Dimension]:
    """Active dimensions in display order, narrowed to those a task type uses."""
    dimensions = Dimension.objects.filter(is_active=True)
    if kind:
        dimensions = dimensions.filter(kind=kind)
    result = list(dimensions)
    if task_type:
        result = [dimension for dimension in result if dimension.applies_to(task_type)]
    return result


def rating_list_visible_to(*, user) -> QuerySet[Rating]:
    """Staff see every rating; an annotator only their own."""
    ratings = Rating.objects.select_related("dimension", "rater", "rater__user", "rater__judge")
    if user.is_staff:
        return ratings
    return ratings.filter(Q(rater__user=user))
