import pytest
from django.core.exceptions import ValidationError

from evaluation.models import Rating
from evaluation.services import ratings_upsert_bulk
from tests.factories import DimensionFactory, HumanRaterFactory, SampleFactory

pytestmark = pytest.mark.django_db


def test_bulk_upsert_writes_once_then_replaces_values():
    sample, rater = SampleFactory(), HumanRaterFactory()
    fluency, fidelity = DimensionFactory(), DimensionFactory()
    ratings_upsert_bulk(sample=sample, rater=rater, values={fluency: 2, fidelity: 1})
    first = {r.dimension_id: (r.pk, r.value, r.updated_at) for r in Rating.objects.all()}
    ratings_upsert_bulk(sample=sample, rater=rater, values={fluency: 0, fidelity: 1})
    second = {r.dimension_id: (r.pk, r.value, r.updated_at) for r in Rating.objects.all()}
    assert set(first) == set(second) == {fluency.pk, fidelity.pk}
    assert second[fluency.pk][0] == first[fluency.pk][0], "the same row, updated"
    assert second[fluency.pk][1] == 0 and second[fluency.pk][2] > first[fluency.pk][2]


def test_bulk_upsert_refuses_a_value_outside_the_scale_and_writes_nothing():
    sample, rater = SampleFactory(), HumanRaterFactory()
    fluency, fidelity = DimensionFactory(), DimensionFactory()
    with pytest.raises(ValidationError, match="outside"):
        ratings_upsert_bulk(sample=sample, rater=rater, values={fluency: 2, fidelity: 3})
    assert not Rating.objects.exists()
