"""Raters and ratings: every write of a score, whoever gave it."""

from collections.abc import Mapping

from django.core.exceptions import ValidationError
from django.db import transaction

from synth.models import Sample

from ..models import Dimension, Judge, Rater, Rating


def rater_for_user(*, user) -> Rater:
    """The user's Rater, created on first use. Free when the caller loaded it with the user
    (``select_related("annotator__rater")``)."""
    try:
        return user.rater
    except Rater.DoesNotExist:
        rater, _ = Rater.objects.get_or_create(user=user, defaults={"kind": Rater.Kind.HUMAN})
        user.rater = rater
        return rater


def rater_for_judge(*, judge: Judge) -> Rater:
    rater, _ = Rater.objects.get_or_create(judge=judge, defaults={"kind": Rater.Kind.LLM})
    return rater


def rater_gold() -> Rater:
    rater, _ = Rater.objects.get_or_create(kind=Rater.Kind.GOLD)
    return rater


def rater_adjudicated() -> Rater:
    rater, _ = Rater.objects.get_or_create(kind=Rater.Kind.ADJUDICATED)
    return rater


def rating_upsert(
    *,
    sample: Sample,
    dimension: Dimension,
    rater: Rater,
    value: int,
    rationale: str = "",
) -> Rating:
    """Store a rater's value for a sample and dimension, replacing an earlier one.

    One row per (sample, dimension, rater), held by a unique constraint: a double submit
    or a redelivered task updates instead of duplicating.
    """
    rating = Rating(
        sample=sample, dimension=dimension, rater=rater, value=value, rationale=rationale
    )
    rating.full_clean(validate_unique=False, validate_constraints=False)
    with transaction.atomic():
        rating, _ = Rating.objects.update_or_create(
            sample=sample,
            dimension=dimension,
            rater=rater,
            defaults={"value": value, "rationale": rationale},
        )
    return rating


def ratings_upsert_bulk(
    *, sample: Sample, rater: Rater, values: Mapping[Dimension, int], rationale: str = ""
) -> None:
    """One rater's values for several dimensions of one sample, in one statement (an
    annotator's submit): INSERT … ON CONFLICT (sample, dimension, rater) DO UPDATE."""
    for dimension, value in values.items():
        if not dimension.scale_min <= value <= dimension.scale_max:
            raise ValidationError(
                {
                    "value": f"{value} is outside {dimension.slug}'s scale "
                    f"{dimension.scale_min}–{dimension.scale_max}."
                }
            )
    Rating.objects.bulk_create(
        [
            Rating(
                sample=sample, dimension=dimension, rater=rater, value=value, rationale=rationale
            )
            for dimension, value in values.items()
        ],
        update_conflicts=True,
        unique_fields=["sample", "dimension", "rater"],
        update_fields=["value", "rationale", "updated_at"],
    )
