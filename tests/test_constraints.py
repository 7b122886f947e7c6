"""The database itself refuses what the domain forbids, whatever code path writes."""

import pytest
from django.db import IntegrityError, transaction

from annotate.models import Assignment, Batch
from evaluation.models import Rater, Rating
from synth.models import Sample
from tests.factories import (
    AssignmentFactory,
    DimensionFactory,
    HumanRaterFactory,
    JudgeFactory,
    RatingFactory,
    SampleFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def refused(callable_, *args, **kwargs) -> bool:
    try:
        with transaction.atomic():
            callable_(*args, **kwargs)
    except IntegrityError:
        return True
    return False


def test_database_is_postgresql():
    from django.db import connection

    assert connection.vendor == "postgresql", "the suite proves constraints on PostgreSQL"


def test_duplicate_rating_is_refused_by_the_database():
    rating = RatingFactory()
    assert refused(
        Rating.objects.create,
        sample=rating.sample,
        dimension=rating.dimension,
        rater=rating.rater,
        value=2,
    )
    assert Rating.objects.count() == 1


def test_same_sample_and_dimension_by_another_rater_is_accepted():
    rating = RatingFactory()
    other = HumanRaterFactory()
    Rating.objects.create(sample=rating.sample, dimension=rating.dimension, rater=other, value=0)
    assert Rating.objects.filter(sample=rating.sample).count() == 2


@pytest.mark.parametrize("value", [-1, 3, 100])
def test_rating_outside_the_dimension_scale_is_refused_by_the_database(value):
    dimension = DimensionFactory(scale_min=0, scale_max=2)
    sample, rater = SampleFactory(), HumanRaterFactory()
    assert refused(
        Rating.objects.create, sample=sample, dimension=dimension, rater=rater, value=value
    )


def test_rating_update_outside_the_scale_is_refused_by_the_database():
    rating = RatingFactory(value=1)
    assert refused(Rating.objects.filter(pk=rating.pk).update, value=7)
    rating.refresh_from_db()
    assert rating.value == 1


def test_narrowing_a_scale_below_existing_ratings_is_refused():
    dimension = DimensionFactory(scale_min=1, scale_max=5)
    RatingFactory(dimension=dimension, value=5)
    assert refused(type(dimension).objects.filter(pk=dimension.pk).update, scale_max=3)
    # Widening is fine.
    type(dimension).objects.filter(pk=dimension.pk).update(scale_max=7)


def test_dimension_scale_must_be_ordered():
    assert refused(DimensionFactory, scale_min=2, scale_max=2)


def test_unknown_status_is_refused_by_the_database():
    sample = SampleFactory()
    assert refused(Sample.objects.filter(pk=sample.pk).update, status="approved-by-magic")
    assert refused(Sample.objects.filter(pk=sample.pk).update, language="xx")


def test_sample_content_hash_is_unique():
    sample = SampleFactory()
    assert refused(SampleFactory, content_hash=sample.content_hash)


def test_rater_identity_must_match_its_kind():
    user, judge = UserFactory(), JudgeFactory()
    assert refused(Rater.objects.create, kind=Rater.Kind.HUMAN)  # human without user
    assert refused(Rater.objects.create, kind=Rater.Kind.LLM, user=user)  # llm with a user
    assert refused(Rater.objects.create, kind=Rater.Kind.HUMAN, user=user, judge=judge)
    Rater.objects.create(kind=Rater.Kind.GOLD)
    assert refused(Rater.objects.create, kind=Rater.Kind.GOLD)  # only one gold rater


def test_an_annotator_gets_a_sample_once_per_batch():
    assignment = AssignmentFactory()
    assert refused(
        Assignment.objects.create,
        batch=assignment.batch,
        sample=assignment.sample,
        annotator=assignment.annotator,
    )


def test_batch_overlap_must_be_positive():
    assert refused(Batch.objects.create, name="empty", language="hi", overlap=0)
