"""Rankings from pairwise battles: online Elo, Bradley–Terry maximum likelihood, bootstrap
intervals, the win-rate matrix, and human–judge agreement on the same pairs. Pure numpy;
no database access.

A battle is (a, b, score): model indices a and b, and a's score, 1 (a won), 0 (b won) or
0.5 (a tie; "both bad" counts as a tie too). See docs/arena.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from . import agreement

# Ratings are reported on the Elo scale: 400 points = ten to one odds.
SCALE = 400.0
START = 1000.0
SCORES = (0.0, 0.5, 1.0)

# Upper bound on the resample × models × models cells iterated at once by the bootstrap.
_BOOTSTRAP_CHUNK_CELLS = 5_000_000
# Upper bound on the resample × battle indices drawn at once by the Elo bootstrap.
_ELO_CHUNK_INDICES = 10_000_000


@dataclass(frozen=True)
class Battles:
    """Battles as three equal-length arrays; ``n_models`` fixes the rating vector's size."""

    a: np.ndarray
    b: np.ndarray
    score: np.ndarray
    n_models: int

    @classmethod
    def of(cls, a, b, score, n_models: int) -> Battles:
        a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
        score = np.asarray(score, dtype=np.float64)
        if not (a.ndim == b.ndim == score.ndim == 1 and a.shape == b.shape == score.shape):
            raise ValueError("a, b and score must be one-dimensional and of equal length.")
        if a.size and (min(a.min(), b.min()) < 0 or max(a.max(), b.max()) >= n_models):
            raise ValueError(f"model indices must lie in 0..{n_models - 1}.")
        if np.any(a == b):
            raise ValueError("a model cannot battle itself.")
        if not np.isin(score, SCORES).all():
            raise ValueError("score must be 0, 0.5 or 1.")
        return cls(a, b, score, n_models)

    def __len__(self) -> int:
        return int(self.a.size)


@dataclass(frozen=True)
class Ranking:
    """Ratings on the Elo scale with their bootstrap 95 % interval (None without one)."""

    ratings: np.ndarray
    low: np.ndarray | None
    high: np.ndarray | None
    resamples: int


# ---------------------------------------------------------------------------- online Elo


def _elo_run(battles: Battles, order: np.ndarray, *, k: float, start: float) -> np.ndarray:
    """Online Elo over battles taken in each row's order, every row at once: (R, n) → (R, m)."""
    runs = order.shape[0]
    ratings = np.full((runs, battles.n_models), start, dtype=np.float64)
    rows = np.arange(runs)
    for step in range(order.shape[1]):
        idx = order[:, step]
        a, b, score = battles.a[idx], battles.b[idx], battles.score[idx]
        expected = 1.0 / (1.0 + 10.0 ** ((ratings[rows, b] - ratings[rows, a]) / SCALE))
        delta = k * (score - expected)
        ratings[rows, a] += delta
        ratings[rows, b] -= delta
    return ratings


def elo(
    battles: Battles, *, k: float = 4.0, start: float = START, repeats: int = 20, seed: int = 0
) -> np.ndarray:
    """Online Elo averaged over ``repeats`` random orders of the battles, so the result does
    not depend on the order they were recorded in."""
    rng = np.random.default_rng(seed)
    order = np.argsort(rng.random((repeats, len(battles))), axis=1)
    return _elo_run(battles, order, k=k, start=start).mean(axis=0)


def elo_bootstrap(
    battles: Battles,
    *,
    k: float = 4.0,
    start: float = START,
    repeats: int = 20,
    resamples: int = 200,
    seed: int = 0,
) -> Ranking:
    """Elo with a percentile bootstrap interval: each resample draws the battles with
    replacement, in random order."""
    rng = np.random.default_rng(seed)
    value = elo(battles, k=k, start=start, repeats=repeats, seed=seed)
    if not len(battles) or resamples < 1:
        return Ranking(value, None, None, 0)
    # The resamples' battle indices are drawn a chunk at a time: all at once would be
    # resamples × battles integers.
    chunk = max(1, _ELO_CHUNK_INDICES // len(battles))
    samples = np.concatenate(
        [
            _elo_run(
                battles,
                rng.integers(0, len(battles), size=(min(chunk, resamples - first), len(battles))),
                k=k,
                start=start,
            )
            for first in range(0, resamples, chunk)
        ]
    )
    low, high = np.percentile(samples, [2.5, 97.5], axis=0)
    return Ranking(value, low, high, resamples)


# ---------------------------------------------------------------------------- Bradley–Terry


def _cells(battles: Battles) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Battles grouped by (a, b, score): the distinct cells and how many battles each holds."""
    m = battles.n_models
    code = (battles.a * m + battles.b) * 3 + (battles.score * 2).astype(np.int64)
    cells, counts = np.unique(code, return_counts=True)
    return cells // 3 // m, cells // 3 % m, (cells % 3) / 2.0, counts


def _win_matrices(a, b, score, weights, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Per row of ``weights`` (R, cells): wins W[i, j] of i over j (ties half) and games
    N[i, j] between them, both (R, m, m)."""
    runs = weights.shape[0]
    wins = np.zeros((runs, m * m))
    games = np.zeros((runs, m * m))
    np.add.at(wins.T, a * m + b, (weights * score).T)
    np.add.at(wins.T, b * m + a, (weights * (1.0 - score)).T)
    np.add.at(games.T, a * m + b, weights.T)
    np.add.at(games.T, b * m + a, weights.T)
    return wins.reshape(runs, m, m), games.reshape(runs, m, m)


def _bt_fit(
    wins: np.ndarray, games: np.ndarray, *, tol: float, max_iter: int, prior: float
) -> np.ndarray:
    """Hunter's MM algorithm for Bradley–Terry, on a stack of (R, m, m) win matrices at once.

    ``prior`` adds that many virtual wins each way to every pair, so a model that never won
    (or never lost) in a resample keeps a finite rating. Returns log-strengths with mean 0.
    """
    m = wins.shape[-1]
    off = 1.0 - np.eye(m)
    wins = wins + prior * off
    games = games + 2 * prior * off
    total = wins.sum(axis=-1)
    strength = np.ones(wins.shape[:-1])
    for _ in range(max_iter):
        denom = (games / (strength[..., :, None] + strength[..., None, :])).sum(axis=-1)
        new = np.where(denom > 0, total / np.where(denom > 0, denom, 1.0), strength)
        # Geometric mean 1: the scale is only defined up to a constant.
        new = new / np.exp(np.log(new).mean(axis=-1, keepdims=True))
        change = np.abs(np.log(new) - np.log(strength)).max()
        strength = new
        if change < tol:
            break
    return np.log(strength)


def _to_elo_scale(log_strength: np.ndarray, start: float) -> np.ndarray:
    return start + SCALE * log_strength / np.log(10.0)


def bradley_terry(
    battles: Battles,
    *,
    start: float = START,
    tol: float = 1e-8,
    max_iter: int = 10_000,
    prior: float = 0.01,
    resamples: int = 1000,
    seed: int = 0,
) -> Ranking:
    """Bradley–Terry maximum likelihood ratings (Elo scale, mean ``start``) with a percentile
    bootstrap 95 % interval over battles.

    Resampling n battles with replacement is a multinomial draw over the distinct
    (a, b, score) cells, so each resample costs a models × models fit, not a pass over the
    battles; the fits of many resamples run together.
    """
    m = battles.n_models
    if not len(battles):
        return Ranking(np.full(m, start), None, None, 0)
    a, b, score, counts = _cells(battles)
    fit = {"tol": tol, "max_iter": max_iter, "prior": prior}
    wins, games = _win_matrices(a, b, score, counts[None, :].astype(np.float64), m)
    ratings = _to_elo_scale(_bt_fit(wins, games, **fit)[0], start)
    if resamples < 1:
        return Ranking(ratings, None, None, 0)
    rng = np.random.default_rng(seed)
    chunk = max(1, _BOOTSTRAP_CHUNK_CELLS // (m * m))
    fits = []
    for first in range(0, resamples, chunk):
        size = min(chunk, resamples - first)
        weights = rng.multinomial(len(battles), counts / counts.sum(), size=size)
        wins, games = _win_matrices(a, b, score, weights.astype(np.float64), m)
        fits.append(_bt_fit(wins, games, **fit))
    samples = _to_elo_scale(np.concatenate(fits), start)
    low, high = np.percentile(samples, [2.5, 97.5], axis=0)
    return Ranking(ratings, low, high, resamples)


def win_rates(battles: Battles) -> tuple[np.ndarray, np.ndarray]:
    """(rates, games): rates[i, j] is i's share of points against j (ties half; NaN where
    they never met), games[i, j] how many battles they had."""
    m = battles.n_models
    wins, games = _win_matrices(battles.a, battles.b, battles.score, np.ones((1, len(battles))), m)
    with np.errstate(invalid="ignore", divide="ignore"):
        rates = np.where(games[0] > 0, wins[0] / games[0], np.nan)
    return rates, games[0].astype(np.int64)


# ---------------------------------------------------------------------------- agreement

# Outcomes of one comparison in terms of its responses: the first (lower id) won, the
# second won, or neither ("both bad" is a tie here: neither was preferred).
FIRST, SECOND, TIE = 0, 1, 2
OUTCOMES = (FIRST, SECOND, TIE)


@dataclass(frozen=True)
class PairAgreement:
    """Human vs judge on the comparisons both answered: exact agreement over (human, judge)
    pairs, and Krippendorff's alpha (nominal) over every rater of those comparisons."""

    comparisons: int
    pairs: int
    exact: float | None
    alpha: agreement.AlphaResult


def pair_agreement(
    human_units: Sequence[int],
    human_outcomes: Sequence[int],
    judge_units: Sequence[int],
    judge_outcomes: Sequence[int],
) -> PairAgreement:
    """Units are comparison ids; outcomes are FIRST, SECOND or TIE. A judge has at most one
    outcome per unit; humans may have several."""
    human_units, human_outcomes = np.asarray(human_units), np.asarray(human_outcomes)
    judge_units, judge_outcomes = np.asarray(judge_units), np.asarray(judge_outcomes)
    shared = np.intersect1d(human_units, judge_units)
    keep_h = np.isin(human_units, shared)
    keep_j = np.isin(judge_units, shared)
    hu, ho = human_units[keep_h], human_outcomes[keep_h]
    ju, jo = judge_units[keep_j], judge_outcomes[keep_j]
    # The judge's outcome beside each human's, on the same comparison.
    by_unit = np.argsort(ju)
    judge_for = jo[by_unit][np.searchsorted(ju[by_unit], hu)]
    counts = agreement.value_counts(
        np.concatenate([hu, ju]), np.concatenate([ho, jo]), list(OUTCOMES)
    )
    return PairAgreement(
        comparisons=int(shared.size),
        pairs=int(hu.size),
        exact=agreement.exact_agreement(ho, judge_for) if hu.size else None,
        alpha=agreement.alpha(counts, level="nominal", categories=list(OUTCOMES)),
    )
