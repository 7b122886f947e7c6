"""evaluation.arena on simulated battles: known strengths in, rankings and intervals out."""

import numpy as np
import pytest

from evaluation import arena
from evaluation.arena import Battles

LN10 = np.log(10.0)


def simulate(strengths: np.ndarray, n: int, rng: np.random.Generator, tie_rate: float = 0.0):
    """Battles between random pairs, won with Bradley–Terry probabilities (natural-log
    strengths); a share of them turned into ties at random, which keeps the order but
    pulls the expected scores towards one half."""
    m = strengths.size
    a = rng.integers(0, m, n)
    b = (a + rng.integers(1, m, n)) % m
    p_a = 1.0 / (1.0 + np.exp(strengths[b] - strengths[a]))
    score = (rng.random(n) < p_a).astype(float)
    score[rng.random(n) < tie_rate] = 0.5
    return Battles.of(a, b, score, m)


def to_log_strength(ratings: np.ndarray) -> np.ndarray:
    """Bradley–Terry ratings are centred on START (mean log-strength 0)."""
    return (ratings - arena.START) * LN10 / arena.SCALE


def test_bradley_terry_recovers_the_true_order_and_values():
    rng = np.random.default_rng(7)
    strengths = np.linspace(-1.5, 1.5, 8)
    battles = simulate(strengths, 40_000, rng)
    ranking = arena.bradley_terry(battles, resamples=200)
    assert list(np.argsort(ranking.ratings)) == list(range(8))
    assert np.allclose(to_log_strength(ranking.ratings), strengths - strengths.mean(), atol=0.06)
    assert np.all(ranking.low < ranking.ratings) and np.all(ranking.ratings < ranking.high)
    assert ranking.ratings.mean() == pytest.approx(arena.START)


def test_bradley_terry_intervals_cover_the_true_values_at_about_95_percent():
    rng = np.random.default_rng(11)
    strengths = np.array([-1.0, -0.4, 0.0, 0.3, 1.1])
    truth = strengths - strengths.mean()
    covered = []
    for _ in range(80):
        battles = simulate(strengths, 1_500, rng)
        ranking = arena.bradley_terry(battles, resamples=300, seed=int(rng.integers(1 << 30)))
        low, high = to_log_strength(ranking.low), to_log_strength(ranking.high)
        covered.extend((low <= truth) & (truth <= high))
    coverage = float(np.mean(covered))
    assert 0.89 <= coverage <= 0.99, coverage


def test_ties_count_half():
    # Two models that only ever tie are rated equal; a third that beats both is above them.
    battles = Battles.of([0, 0, 2, 2], [1, 1, 0, 1], [0.5, 0.5, 1, 1], 3)
    ratings = arena.bradley_terry(battles, resamples=0).ratings
    assert ratings[0] == pytest.approx(ratings[1])
    assert ratings[2] > ratings[0]
    rates, games = arena.win_rates(battles)
    assert rates[0, 1] == 0.5 and games[0, 1] == 2 and games[1, 2] == 1
    assert rates[2, 1] == 1.0 and rates[1, 2] == 0.0
    assert np.isnan(rates[0, 0])


def test_elo_recovers_the_order_and_does_not_depend_on_battle_order():
    rng = np.random.default_rng(3)
    strengths = np.linspace(-1.2, 1.2, 6)
    battles = simulate(strengths, 6_000, rng, tie_rate=0.1)
    ratings = arena.elo(battles, k=4, start=1500, repeats=30)
    assert list(np.argsort(ratings)) == list(range(6))
    # Every update is zero-sum, so the mean stays at the start rating.
    assert ratings.mean() == pytest.approx(1500)
    reversed_battles = Battles.of(battles.a[::-1], battles.b[::-1], battles.score[::-1], 6)
    again = arena.elo(reversed_battles, k=4, start=1500, repeats=30, seed=5)
    assert np.abs(again - ratings).max() < 10
    ranking = arena.elo_bootstrap(battles, k=4, resamples=50)
    assert np.all(ranking.low <= ranking.ratings) and np.all(ranking.ratings <= ranking.high)


def test_elo_k_factor_matters_for_one_battle():
    battles = Battles.of([0], [1], [1.0], 2)
    assert arena.elo(battles, k=32, start=1000, repeats=1).tolist() == [1016.0, 984.0]


def test_battles_are_validated():
    with pytest.raises(ValueError, match="itself"):
        Battles.of([0], [0], [1], 2)
    with pytest.raises(ValueError, match=r"0, 0\.5 or 1"):
        Battles.of([0], [1], [0.7], 2)
    with pytest.raises(ValueError, match=r"0\.\.1"):
        Battles.of([0], [2], [1], 2)


def test_pair_agreement_counts_ties():
    first, second, tie = arena.FIRST, arena.SECOND, arena.TIE
    result = arena.pair_agreement(
        human_units=[1, 1, 2, 3, 9],
        human_outcomes=[first, first, tie, second, first],
        judge_units=[1, 2, 3, 4],
        judge_outcomes=[first, tie, first, second],
    )
    assert result.comparisons == 3
    assert result.pairs == 4
    assert result.exact == pytest.approx(0.75)
    assert result.alpha.value is not None and result.alpha.n_units == 3


def test_no_battles_give_no_interval():
    empty = Battles.of([], [], [], 0)
    assert arena.bradley_terry(empty).ratings.size == 0
    assert arena.elo_bootstrap(empty).low is None
    two = Battles.of([], [], [], 2)
    assert arena.bradley_terry(two).ratings.tolist() == [arena.START, arena.START]
