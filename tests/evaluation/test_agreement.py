"""Agreement core: pure functions, no database."""

import math

import krippendorff
import numpy as np
import pytest

from evaluation.agreement import (
    LEVELS,
    NO_EXPECTED_DISAGREEMENT,
    NO_PAIRABLE_UNIT,
    NO_RATINGS,
    ONE_VALUE,
    AlphaInterval,
    AlphaResult,
    alpha,
    alpha_numpy,
    bootstrap_alpha,
    confusion_matrix,
    consensus,
    exact_agreement,
    value_counts,
    within_one_agreement,
)
from evaluation.models import Dimension

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: four coders,
# twelve units, values 1-5, None = missing.
WORKED = {
    "A": [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    "B": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    "C": [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    "D": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
}
WORKED_CATEGORIES = [1, 2, 3, 4, 5]
WORKED_EXPECTED = {"nominal": 0.743, "ordinal": 0.815, "interval": 0.849, "ratio": 0.797}


def worked_pairs() -> tuple[np.ndarray, np.ndarray]:
    units, values = [], []
    for row in WORKED.values():
        for unit, value in enumerate(row, start=1):
            if value is not None:
                units.append(unit)
                values.append(value)
    return np.array(units), np.array(values)


def worked_counts() -> np.ndarray:
    return value_counts(*worked_pairs(), WORKED_CATEGORIES)


def test_levels_match_the_dimension_model():
    assert set(LEVELS) == set(Dimension.Level.values)


# ---------------------------------------------------------------------------- worked example


@pytest.mark.parametrize("level", LEVELS)
def test_worked_example_data_reproduces_the_paper_with_the_package(level):
    data = [[np.nan if v is None else v for v in row] for row in WORKED.values()]
    value = krippendorff.alpha(
        reliability_data=data, value_domain=WORKED_CATEGORIES, level_of_measurement=level
    )
    assert round(value, 3) == WORKED_EXPECTED[level]


@pytest.mark.parametrize("level", LEVELS)
def test_worked_example_through_value_counts_and_alpha(level):
    result = alpha(worked_counts(), level=level, categories=WORKED_CATEGORIES)
    assert result.reason == ""
    assert round(result.value, 3) == WORKED_EXPECTED[level]
    # Unit 12 has a single rating and is not pairable; the paper's n.. is 40.
    assert (result.n_units, result.n_ratings) == (11, 40)


@pytest.mark.parametrize("level", LEVELS)
def test_numpy_alpha_on_the_worked_example(level):
    value = alpha_numpy(worked_counts(), level=level, categories=WORKED_CATEGORIES)
    assert round(value, 3) == WORKED_EXPECTED[level]


# ---------------------------------------------------------------------------- value counts


def test_value_counts_rows_follow_sorted_unit_ids():
    counts = value_counts(np.array(["b", "a", "b", "b"]), np.array([2, 0, 2, 1]), [0, 1, 2])
    np.testing.assert_array_equal(counts, [[1, 0, 0], [0, 1, 2]])


def test_value_counts_of_the_worked_example():
    counts = worked_counts()
    assert counts.shape == (12, 5)
    np.testing.assert_array_equal(counts[0], [3, 0, 0, 0, 0])
    np.testing.assert_array_equal(counts[5], [1, 1, 1, 1, 0])
    np.testing.assert_array_equal(counts[11], [0, 0, 1, 0, 0])


def test_value_counts_names_values_outside_the_categories():
    with pytest.raises(ValueError, match=r"Values not in the categories \[0, 1, 2\]: 3, 7"):
        value_counts(np.array([1, 1, 2, 2]), np.array([0, 7, 3, 7]), [0, 1, 2])


def test_value_counts_of_nothing():
    counts = value_counts(np.array([], dtype=int), np.array([], dtype=int), [0, 1, 2])
    assert counts.shape == (0, 3)


# ---------------------------------------------------------------------------- numpy alpha


@pytest.mark.parametrize("level", LEVELS)
def test_numpy_alpha_equals_the_package_on_random_counts(level):
    rng = np.random.default_rng(7)
    checked = 0
    for _ in range(100):
        n_categories = int(rng.integers(2, 7))
        categories = np.sort(rng.choice(np.arange(0, 12), n_categories, replace=False))
        counts = rng.integers(0, 4, size=(int(rng.integers(2, 40)), n_categories))
        expected = alpha(counts, level=level, categories=categories)
        got = alpha_numpy(counts, level=level, categories=categories)
        if expected.value is None:
            assert got is None
            continue
        direct = krippendorff.alpha(
            value_counts=counts[counts.sum(axis=1) >= 2],
            value_domain=categories,
            level_of_measurement=level,
        )
        assert got == pytest.approx(direct, abs=1e-9)
        assert got == pytest.approx(expected.value, abs=1e-9)
        checked += 1
    assert checked > 90


# ---------------------------------------------------------------------------- not computable


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize(
    ("counts", "reason"),
    [
        (np.zeros((0, 3), dtype=int), NO_RATINGS),
        (np.zeros((4, 3), dtype=int), NO_RATINGS),
        (np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1]]), NO_PAIRABLE_UNIT),
        (np.array([[0, 3, 0], [0, 2, 0]]), ONE_VALUE),
        # The lone 2 is on an unpairable unit and is dropped first.
        (np.array([[0, 3, 0], [0, 2, 0], [0, 0, 1]]), ONE_VALUE),
    ],
)
def test_not_computable_is_answered_not_raised(counts, reason, level):
    result = alpha(counts, level=level, categories=[0, 1, 2])
    assert result.value is None
    assert result.reason == reason
    interval = bootstrap_alpha(counts, level=level, categories=[0, 1, 2], resamples=50)
    assert interval == AlphaInterval(None, None, None, 0, reason)


def test_one_value_reason_is_plain_words():
    assert ONE_VALUE == "every rating has the same value, so agreement is not defined"


def test_ratio_with_no_expected_disagreement_is_not_nan():
    # -1 and 1 are at ratio distance 0 (the package's convention for c + k = 0).
    result = alpha(np.array([[1, 1], [2, 0]]), level="ratio", categories=[-1, 1])
    assert result == AlphaResult(None, 2, 4, NO_EXPECTED_DISAGREEMENT)


def test_unpairable_units_are_dropped():
    counts = np.array([[2, 1, 0], [0, 2, 1], [1, 1, 1]])
    with_singletons = np.vstack([counts, [[0, 0, 1], [1, 0, 0]]])
    plain = alpha(counts, level="ordinal", categories=[0, 1, 2])
    padded = alpha(with_singletons, level="ordinal", categories=[0, 1, 2])
    assert padded == plain
    assert (padded.n_units, padded.n_ratings) == (3, 9)


def test_perfect_agreement_is_one():
    result = alpha(np.array([[2, 0], [0, 3]]), level="nominal", categories=[0, 1])
    assert result.value == pytest.approx(1.0)


def test_bad_arguments_raise():
    counts = np.array([[1, 1]])
    with pytest.raises(ValueError, match="level must be one of"):
        alpha(counts, level="Ordinal", categories=[0, 1])
    with pytest.raises(ValueError, match="3 columns"):
        alpha(counts, level="ordinal", categories=[0, 1, 2])
    with pytest.raises(ValueError, match="increasing"):
        alpha(counts, level="ordinal", categories=[1, 0])
    # Nominal categories need no order.
    assert alpha(counts, level="nominal", categories=[1, 0]).reason == ""


# ---------------------------------------------------------------------------- bootstrap


def test_bootstrap_is_seeded():
    counts = worked_counts()
    first = bootstrap_alpha(counts, level="ordinal", categories=WORKED_CATEGORIES, seed=3)
    again = bootstrap_alpha(counts, level="ordinal", categories=WORKED_CATEGORIES, seed=3)
    other = bootstrap_alpha(counts, level="ordinal", categories=WORKED_CATEGORIES, seed=4)
    assert first == again
    assert (first.low, first.high) != (other.low, other.high)


@pytest.mark.parametrize("level", LEVELS)
def test_bootstrap_interval_contains_the_worked_example_estimate(level):
    result = bootstrap_alpha(worked_counts(), level=level, categories=WORKED_CATEGORIES)
    assert result.value == pytest.approx(WORKED_EXPECTED[level], abs=5e-4)
    assert result.low <= result.value <= result.high
    assert result.high <= 1.0
    assert result.resamples >= 950
    assert result.reason == ""


def test_bootstrap_says_when_too_few_resamples_were_valid():
    # One unit in 21 carries the only other value: about a third of resamples miss it.
    counts = np.vstack([np.tile([2, 0], (20, 1)), [[0, 2]]])
    result = bootstrap_alpha(counts, level="nominal", categories=[0, 1], resamples=400)
    assert result.value == pytest.approx(1.0)
    assert 0 < result.resamples < 0.9 * 400
    assert "of 400 resamples" in result.reason
    assert result.low is not None and result.high is not None

    single = bootstrap_alpha(counts, level="nominal", categories=[0, 1], resamples=1)
    assert (single.low, single.high) == (None, None)
    assert "too few for an interval" in single.reason


CATEGORIES = [0, 1, 2, 3, 4]
TRUE_CATEGORY_P = [0.1, 0.2, 0.4, 0.2, 0.1]


def simulate(rng: np.random.Generator, n_units: int, n_raters: int = 3) -> np.ndarray:
    """True category per unit; each rater is off by one 40% of the time and misses 10%."""
    truth = rng.choice(len(CATEGORIES), size=n_units, p=TRUE_CATEGORY_P)
    noise = rng.choice([-1, 0, 1], p=[0.2, 0.6, 0.2], size=(n_units, n_raters))
    values = np.clip(truth[:, None] + noise, 0, len(CATEGORIES) - 1)
    rated = rng.random((n_units, n_raters)) < 0.9
    units = np.repeat(np.arange(n_units), n_raters).reshape(n_units, n_raters)
    return value_counts(units[rated], values[rated], CATEGORIES)


@pytest.mark.parametrize("level", ["ordinal", "nominal"])
def test_bootstrap_interval_covers_the_true_alpha_at_about_its_nominal_rate(level):
    rng = np.random.default_rng(2024)
    true_alpha = alpha(simulate(rng, 20_000), level=level, categories=CATEGORIES).value
    datasets = 200
    covered = 0
    for i in range(datasets):
        result = bootstrap_alpha(
            simulate(rng, 150), level=level, categories=CATEGORIES, resamples=1000, seed=i
        )
        covered += result.low <= true_alpha <= result.high
    assert 0.88 <= covered / datasets <= 0.99


# ---------------------------------------------------------------------------- judge vs humans

JUDGE = [0, 1, 2, 2, 1]
HUMANS = [0, 2, 2, 0, 1]


def test_exact_and_within_one_agreement():
    assert exact_agreement(JUDGE, HUMANS) == pytest.approx(3 / 5)
    assert within_one_agreement(JUDGE, HUMANS) == pytest.approx(4 / 5)


def test_confusion_matrix_rows_are_the_first_argument():
    matrix = confusion_matrix(JUDGE, HUMANS, [0, 1, 2])
    np.testing.assert_array_equal(matrix, [[1, 0, 0], [0, 1, 1], [1, 0, 1]])
    assert matrix.sum() == len(JUDGE)
    assert np.trace(matrix) / matrix.sum() == exact_agreement(JUDGE, HUMANS)


def test_judge_comparison_of_nothing():
    assert exact_agreement([], []) is None
    assert within_one_agreement([], []) is None
    np.testing.assert_array_equal(confusion_matrix([], [], [0, 1, 2]), np.zeros((3, 3)))


def test_judge_comparison_rejects_bad_input():
    with pytest.raises(ValueError, match="equal length"):
        exact_agreement([0, 1], [0])
    with pytest.raises(ValueError, match="Values not in the categories"):
        confusion_matrix([0, 5], [0, 1], [0, 1, 2])


# ---------------------------------------------------------------------------- consensus


def test_consensus_is_the_lower_median():
    counts = np.array(
        [
            [2, 1, 0],  # 0 0 1 -> 0
            [1, 1, 0],  # 0 1 -> lower median 0
            [0, 1, 1],  # 1 2 -> 1
            [0, 0, 0],  # no ratings -> -1
            [1, 0, 2],  # 0 2 2 -> 2
            [1, 1, 1],  # 0 1 2 -> 1
            [0, 2, 2],  # 1 1 2 2 -> 1
        ]
    )
    np.testing.assert_array_equal(consensus(counts, [0, 1, 2]), [0, 0, 1, -1, 2, 1, 1])
    np.testing.assert_array_equal(consensus(counts, [1, 2, 3], missing=0), [1, 1, 2, 0, 3, 2, 2])


def test_consensus_mode_ties_to_the_first_category():
    counts = np.array([[1, 1, 0], [0, 1, 3], [0, 0, 0]])
    np.testing.assert_array_equal(consensus(counts, [0, 1, 2], method="mode"), [0, 2, -1])


def test_consensus_of_the_worked_example_stays_on_the_scale():
    values = consensus(worked_counts(), WORKED_CATEGORIES)
    np.testing.assert_array_equal(values, [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, 1, 3])
    assert not np.isnan(values.astype(float)).any()


def test_consensus_rejects_an_ambiguous_missing_marker_and_unknown_methods():
    with pytest.raises(ValueError, match="missing=-1"):
        consensus(np.array([[1, 1, 1]]), [-1, 0, 1])
    with pytest.raises(ValueError, match="method"):
        consensus(np.array([[1, 1]]), [0, 1], method="mean")


def test_no_nan_anywhere_on_the_worked_example():
    counts = worked_counts()
    for level in LEVELS:
        result = bootstrap_alpha(counts, level=level, categories=WORKED_CATEGORIES, resamples=200)
        assert all(math.isfinite(x) for x in (result.value, result.low, result.high))
