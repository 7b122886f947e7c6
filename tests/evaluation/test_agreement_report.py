"""Agreement reports from the Rating table: the selector, the cached refresh and the queue."""

from datetime import timedelta

import pytest
from django.core.cache import cache

from evaluation import selectors, services
from evaluation.agreement import NO_PAIRABLE_UNIT, ONE_VALUE
from evaluation.models import Dimension, Judgment, Rater, Rating
from evaluation.selectors import ALL_LANGUAGES, AgreementFilter
from evaluation.services import rater_adjudicated, rater_gold
from tests.evaluation.test_agreement import WORKED, WORKED_EXPECTED
from tests.factories import (
    DimensionFactory,
    HumanRaterFactory,
    JudgeRaterFactory,
    RatingFactory,
    SampleFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


def worked_dimensions() -> list[Dimension]:
    return [
        DimensionFactory(slug=f"worked_{level}", level=level, scale_min=1, scale_max=5)
        for level in WORKED_EXPECTED
    ]


def test_worked_example_posted_through_the_api_gives_krippendorffs_figures(staff_api):
    """Krippendorff (2011): 4 coders, 12 units, entered as ratings through /api/ratings/."""
    dimensions = worked_dimensions()
    samples = SampleFactory.create_batch(12, language="hi")
    raters = [HumanRaterFactory(user=UserFactory(username=f"coder_{c}")) for c in WORKED]
    for rater, row in zip(raters, WORKED.values(), strict=True):
        for sample, value in zip(samples, row, strict=True):
            if value is None:
                continue
            for dimension in dimensions:
                response = staff_api.post(
                    "/api/ratings/",
                    {
                        "sample": sample.pk,
                        "dimension": dimension.slug,
                        "rater": rater.pk,
                        "value": value,
                    },
                    format="json",
                )
                assert response.status_code == 201, response.content
    assert Rating.objects.count() == 41 * 4

    parts = selectors.agreement_report_build(filters=AgreementFilter(), resamples=200)
    grid = parts["overview"]["grid"]
    for dimension in dimensions:
        humans = grid["hi"][dimension.slug]["humans"]
        assert round(humans["value"], 3) == WORKED_EXPECTED[dimension.level]
        assert humans["low"] <= humans["value"] <= humans["high"]
        assert grid["hi"][dimension.slug]["items"] == 12
        assert grid["hi"][dimension.slug]["human_ratings"] == 41
        assert grid[ALL_LANGUAGES][dimension.slug]["humans"]["value"] == humans["value"]


def test_judge_against_consensus_humans_plus_judge_and_annotators():
    dimension = DimensionFactory(slug="fluency", scale_min=0, scale_max=2)
    samples = SampleFactory.create_batch(6, language="ta")
    humans = [HumanRaterFactory() for _ in range(3)]
    human_values = [[0, 0, 1], [1, 1, 1], [2, 2, 1], [2, 2, 2], [0, 1, 0], [1, 2, 2]]
    for sample, values in zip(samples, human_values, strict=True):
        for rater, value in zip(humans, values, strict=True):
            RatingFactory(sample=sample, dimension=dimension, rater=rater, value=value)
    judge = JudgeRaterFactory()
    # Lower medians of the humans: 0 1 2 2 0 2; the adjudicated value of sample 6 is 1.
    RatingFactory(sample=samples[5], dimension=dimension, rater=rater_adjudicated(), value=1)
    for sample, value in zip(samples, [0, 1, 1, 2, 2, 1], strict=True):
        RatingFactory(sample=sample, dimension=dimension, rater=judge, value=value)
    # Gold on two samples: the first annotator matches one of them.
    RatingFactory(sample=samples[0], dimension=dimension, rater=rater_gold(), value=0)
    RatingFactory(sample=samples[1], dimension=dimension, rater=rater_gold(), value=2)

    parts = selectors.agreement_report_build(filters=AgreementFilter(), resamples=100)
    cell = parts["cell:ta:fluency"]
    entry = cell["judges"][str(judge.judge_id)]
    versus = entry["vs_consensus"]
    # Judge 0 1 1 2 2 1 against consensus 0 1 2 2 0 1: four exact, five within one.
    assert versus["n"] == 6
    assert versus["exact"] == pytest.approx(4 / 6)
    assert versus["within_one"] == pytest.approx(5 / 6)
    assert entry["confusion"] == [[1, 0, 0], [0, 2, 1], [1, 0, 1]]
    assert entry["distribution"] == [1, 3, 2]
    assert entry["with_humans"]["n_ratings"] == 24
    assert cell["human_distribution"] == [4, 7, 7]

    by_name = {row["rater"]: row for row in cell["annotators"]}
    first = by_name[humans[0].pk]
    assert first["ratings"] == 6
    assert first["gold_n"] == 2
    assert first["gold_accuracy"] == pytest.approx(0.5)
    # The first annotator against the lower median of the other two: 0 1 1 2 0 2 vs
    # 0 1 2 2 0 1 -> 4 of 6 exact.
    assert first["vs_rest"]["exact"] == pytest.approx(4 / 6)

    worst = cell["disagreements"][0]
    assert worst["spread"] == 1
    assert set(worst["judges"]) == {str(judge.judge_id)}
    assert all(d["spread"] == 1 for d in cell["disagreements"])
    assert {d["sample"] for d in cell["disagreements"]} == {samples[i].pk for i in (0, 2, 4, 5)}


def test_judge_pairs_and_parse_failures_on_the_judges_part():
    dimension = DimensionFactory(slug="adequacy", scale_min=0, scale_max=2)
    samples = SampleFactory.create_batch(4, language="hi")
    humans = [HumanRaterFactory() for _ in range(2)]
    first, second = JudgeRaterFactory(), JudgeRaterFactory()
    for i, sample in enumerate(samples):
        for rater in humans:
            RatingFactory(sample=sample, dimension=dimension, rater=rater, value=i % 3)
        RatingFactory(sample=sample, dimension=dimension, rater=first, value=i % 3)
        RatingFactory(sample=sample, dimension=dimension, rater=second, value=[0, 1, 2, 2][i])
    for i, sample in enumerate(samples):
        Judgment.objects.create(
            judge=first.judge,
            sample=sample,
            dimension=dimension,
            prompt_version="v1",
            error="no JSON" if i == 0 else "",
        )
    parts = selectors.agreement_report_build(filters=AgreementFilter(), resamples=50)
    pair = parts["cell:hi:adequacy"]["judge_pairs"][0]
    assert pair["n"] == 4
    assert pair["exact"] == pytest.approx(3 / 4)
    row = parts["judges"]["rows"][0]
    columns = {column["judge"]: column for column in row["judges"]}
    assert columns[first.judge_id]["parse_failure_rate"] == pytest.approx(1 / 4)
    assert columns[first.judge_id]["vs_consensus"]["exact"] == 1.0
    assert columns[second.judge_id]["parse_failure_rate"] is None


@pytest.mark.parametrize(
    ("values", "reason"),
    [([[1], [2], [0]], NO_PAIRABLE_UNIT), ([[1, 1], [1, 1, 1]], ONE_VALUE)],
)
def test_not_computable_cells_say_why(values, reason):
    dimension = DimensionFactory(slug="coherence", scale_min=0, scale_max=2)
    raters = [HumanRaterFactory() for _ in range(3)]
    for unit in values:
        sample = SampleFactory()
        for rater, value in zip(raters, unit, strict=False):
            RatingFactory(sample=sample, dimension=dimension, rater=rater, value=value)
    parts = selectors.agreement_report_build(filters=AgreementFilter(), resamples=50)
    humans = parts["overview"]["grid"]["hi"]["coherence"]["humans"]
    assert humans["value"] is None
    assert humans["reason"] == reason


def test_filters_narrow_the_ratings():
    dimension = DimensionFactory(slug="fidelity")
    rater = HumanRaterFactory()
    hindi = RatingFactory(sample=SampleFactory(language="hi"), dimension=dimension, rater=rater)
    RatingFactory(sample=SampleFactory(language="ur"), dimension=dimension, rater=rater)
    RatingFactory(
        sample=SampleFactory(language="hi", task_type="summarization"),
        dimension=dimension,
        rater=rater,
    )
    languages = selectors.agreement_report_build(
        filters=AgreementFilter(languages=("hi",)), resamples=10
    )
    assert languages["overview"]["languages"] == ["hi"]
    assert languages["overview"]["grid"]["hi"]["fidelity"]["ratings"] == 2
    task = selectors.agreement_report_build(
        filters=AgreementFilter(task_types=("summarization",)), resamples=10
    )
    assert task["overview"]["grid"]["hi"]["fidelity"]["ratings"] == 1
    chosen = selectors.agreement_report_build(
        filters=AgreementFilter(sample_ids=(hindi.sample_id,)), resamples=10
    )
    assert chosen["overview"]["grid"][ALL_LANGUAGES]["fidelity"]["ratings"] == 1
    today = hindi.created_at.date()
    until_today = selectors.agreement_report_build(
        filters=AgreementFilter(rated_from=today, rated_to=today), resamples=10
    )
    assert until_today["overview"]["grid"][ALL_LANGUAGES]["fidelity"]["ratings"] == 3
    later = selectors.agreement_report_build(
        filters=AgreementFilter(rated_from=today + timedelta(days=1)), resamples=10
    )
    assert later["overview"]["grid"] == {}


def test_filter_keys_are_stable():
    assert (
        AgreementFilter(languages=("hi", "ta")).key == AgreementFilter(languages=("ta", "hi")).key
    )
    assert AgreementFilter(languages=("hi",)).key != AgreementFilter().key
    round_trip = AgreementFilter.from_dict(AgreementFilter(sample_ids=(3, 1)).as_dict())
    assert round_trip == AgreementFilter(sample_ids=(1, 3))


def test_refresh_is_queued_once_stored_and_goes_stale_when_ratings_change(
    django_capture_on_commit_callbacks,
):
    dimension = DimensionFactory(slug="fluency")
    raters = [HumanRaterFactory() for _ in range(2)]
    sample = SampleFactory()
    for rater, value in zip(raters, [0, 2], strict=True):
        RatingFactory(sample=sample, dimension=dimension, rater=rater, value=value)
    filters = AgreementFilter()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        state = services.agreement_report_ensure(filters=filters)
        assert state == {"data": None, "stale": True, "pending": True}
        # A second view before the first recompute ran queues nothing more.
        assert services.agreement_report_ensure(filters=filters)["pending"] is True
    assert len(callbacks) == 1

    state = services.agreement_report_ensure(filters=filters)
    assert state["stale"] is False and state["pending"] is False
    assert state["data"]["grid"]["hi"]["fluency"]["ratings"] == 2
    assert not selectors.agreement_report_pending(filters=filters)

    RatingFactory(sample=SampleFactory(), dimension=dimension, rater=raters[0])
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        state = services.agreement_report_ensure(filters=filters)
    assert state["stale"] is True and state["data"]["grid"]["hi"]["fluency"]["ratings"] == 2
    assert len(callbacks) == 1
    fresh = selectors.agreement_report_cached(filters=filters)
    assert fresh["grid"]["hi"]["fluency"]["ratings"] == 3
    assert Rater.objects.count() == 2
