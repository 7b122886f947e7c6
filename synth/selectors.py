"""Reads of the synth app."""

from django.db.models import Count, QuerySet

from .models import Sample


def sample_list() -> QuerySet[Sample]:
    return Sample.objects.select_related("source", "job")


def sample_counts_by_language() -> dict[str, dict[str, int]]:
    """{language: {status: count}} for the overview pages."""
    counts: dict[str, dict[str, int]] = {}
    rows = Sample.objects.values("language", "status").annotate(n=Count("pk")).order_by()
    for row in rows:
        counts.setdefault(row["language"], {})[row["status"]] = row["n"]
    return counts


def demo_sample_count() -> int:
    return Sample.objects.filter(is_demo=True).count()
