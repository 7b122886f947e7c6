"""Agreement between raters: Krippendorff's alpha, its bootstrap interval, and the simple
judge-versus-consensus figures. Pure functions on numpy arrays; no database access.

Units are samples, coders are raters (humans or judges), values are a dimension's scale
points. Everything starts from a value-counts matrix: one row per unit, one column per
category, each cell the number of raters who gave that unit that value. See docs/agreement.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import krippendorff
import numpy as np

LEVELS = ("nominal", "ordinal", "interval", "ratio")

NO_RATINGS = "no ratings"
NO_PAIRABLE_UNIT = "no unit has two or more ratings"
ONE_VALUE = "every rating has the same value, so agreement is not defined"
NO_EXPECTED_DISAGREEMENT = (
    "the values used are all at distance zero from each other at this level, "
    "so agreement is not defined"
)

# A bootstrap interval is reported without a warning only when at least this share of the
# resamples had two or more distinct values (the others are skipped).
MIN_VALID_SHARE = 0.95

# Upper bound on the resample × unit weight matrix built at once by bootstrap_alpha.
_BOOTSTRAP_CHUNK_CELLS = 2_000_000


@dataclass(frozen=True)
class AlphaResult:
    """Krippendorff's alpha, or None with the reason it is not computable.

    n_units: pairable units (two or more ratings); n_ratings: the ratings on them (the
    pairable values, Krippendorff's n..). Ratings on units with a single rating are not
    counted: they carry no information about agreement.
    """

    value: float | None
    n_units: int
    n_ratings: int
    reason: str = ""


@dataclass(frozen=True)
class AlphaInterval:
    """A percentile bootstrap interval for alpha.

    resamples: the resamples the interval was computed from (the degenerate ones skipped).
    reason: "" when the point estimate and interval are fine; otherwise why value/low/high
    are None, or a warning that too many resamples were degenerate.
    """

    value: float | None
    low: float | None
    high: float | None
    resamples: int
    reason: str = ""


# ---------------------------------------------------------------------------- value counts


def _categories_array(categories: Sequence[int], *, ordered: bool) -> np.ndarray:
    cats = np.asarray(categories)
    if cats.ndim != 1 or cats.size == 0:
        raise ValueError("categories must be a non-empty one-dimensional sequence.")
    if np.unique(cats).size != cats.size:
        raise ValueError(f"categories must be distinct, got {cats.tolist()}.")
    if ordered and cats.size > 1 and not np.all(np.diff(cats) > 0):
        raise ValueError(f"categories must be in increasing order, got {cats.tolist()}.")
    return cats


def _category_columns(values: np.ndarray, cats: np.ndarray) -> np.ndarray:
    """Column index of each value in cats; ValueError naming the values not in cats."""
    order = np.argsort(cats, kind="stable")
    sorted_cats = cats[order]
    pos = np.searchsorted(sorted_cats, values)
    pos_clipped = np.minimum(pos, sorted_cats.size - 1)
    known = sorted_cats[pos_clipped] == values
    if not np.all(known):
        unknown = np.unique(values[~known])
        raise ValueError(
            f"Values not in the categories {cats.tolist()}: {', '.join(map(str, unknown))}."
        )
    return order[pos_clipped]


def value_counts(unit_ids: np.ndarray, values: np.ndarray, categories: Sequence[int]) -> np.ndarray:
    """The units × categories count matrix of flat (unit, value) pairs.

    Rows follow np.unique(unit_ids) (sorted unit ids); columns follow `categories`. Values
    not in `categories` raise ValueError naming them.
    """
    unit_ids = np.asarray(unit_ids)
    values = np.asarray(values)
    if unit_ids.shape != values.shape or unit_ids.ndim != 1:
        raise ValueError("unit_ids and values must be one-dimensional and of equal length.")
    cats = _categories_array(categories, ordered=False)
    if values.size == 0:
        return np.zeros((0, cats.size), dtype=np.int64)
    columns = _category_columns(values, cats)
    units, rows = np.unique(unit_ids, return_inverse=True)
    flat = np.bincount(rows * cats.size + columns, minlength=units.size * cats.size)
    return flat.reshape(units.size, cats.size).astype(np.int64)


def _check_counts(counts: np.ndarray, cats: np.ndarray) -> np.ndarray:
    counts = np.asarray(counts)
    if counts.ndim != 2 or counts.shape[1] != cats.size:
        raise ValueError(
            f"counts must be a units × categories matrix with {cats.size} columns, "
            f"got shape {counts.shape}."
        )
    if counts.size and (counts.min() < 0 or not np.all(counts == np.round(counts))):
        raise ValueError("counts must be non-negative whole numbers.")
    return counts.astype(np.int64)


def _check_level(level: str) -> None:
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}, got {level!r}.")


def _pairable(counts: np.ndarray) -> np.ndarray:
    return counts[counts.sum(axis=1) >= 2]


def _not_computable_reason(counts: np.ndarray, pairable: np.ndarray) -> str:
    if counts.sum() == 0:
        return NO_RATINGS
    if pairable.shape[0] == 0:
        return NO_PAIRABLE_UNIT
    if np.count_nonzero(pairable.sum(axis=0)) < 2:
        return ONE_VALUE
    return ""


# ---------------------------------------------------------------------------- alpha


def alpha(counts: np.ndarray, *, level: str, categories: Sequence[int]) -> AlphaResult:
    """Krippendorff's alpha of a value-counts matrix, computed by the krippendorff package.

    The level is always passed on explicitly (the package would default to interval).
    Units with fewer than two ratings are dropped first. Not-computable cases return
    value None with a reason; this never raises on them and never returns NaN.
    """
    _check_level(level)
    cats = _categories_array(categories, ordered=level != "nominal")
    counts = _check_counts(counts, cats)
    pairable = _pairable(counts)
    n_units, n_ratings = int(pairable.shape[0]), int(pairable.sum())
    reason = _not_computable_reason(counts, pairable)
    if reason:
        return AlphaResult(None, n_units, n_ratings, reason)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = float(
            krippendorff.alpha(value_counts=pairable, value_domain=cats, level_of_measurement=level)
        )
    if not np.isfinite(value):
        return AlphaResult(None, n_units, n_ratings, NO_EXPECTED_DISAGREEMENT)
    return AlphaResult(value, n_units, n_ratings)


def _unit_coincidences(pairable: np.ndarray) -> np.ndarray:
    """Each pairable unit's contribution to the coincidence matrix, shape (U, V, V):
    (n_uc n_uk − [c = k] n_uc) / (n_u − 1)."""
    counts = pairable.astype(np.float64)
    n_u = counts.sum(axis=1)
    outer = counts[:, :, None] * counts[:, None, :]
    v = counts.shape[1]
    idx = np.arange(v)
    outer[:, idx, idx] -= counts
    return outer / (n_u - 1)[:, None, None]


def _distances(level: str, cats: np.ndarray, n_v: np.ndarray) -> np.ndarray:
    """Squared distances δ²(c, k), shape (V, V), or (R, V, V) for ordinal with n_v (R, V)."""
    c = cats.astype(np.float64)[:, None]
    k = cats.astype(np.float64)[None, :]
    if level == "nominal":
        return (c != k).astype(np.float64)
    if level == "interval":
        return (c - k) ** 2
    if level == "ratio":
        total = c + k
        ratio = np.divide(c - k, total, out=np.zeros(np.broadcast(c, k).shape), where=total != 0)
        return ratio**2
    # Ordinal: (sum of the marginals from c to k, minus half of the two ends)².
    v = cats.size
    idx = np.arange(v)
    lo = np.minimum(idx[:, None], idx[None, :])
    hi = np.maximum(idx[:, None], idx[None, :])
    cumulative = np.concatenate([np.zeros((n_v.shape[0], 1)), np.cumsum(n_v, axis=1)], axis=1)
    between = cumulative[:, hi + 1] - cumulative[:, lo]
    ends = (n_v[:, lo] + n_v[:, hi]) / 2
    return (between - ends) ** 2


def _alpha_from_coincidences(o: np.ndarray, *, level: str, cats: np.ndarray) -> np.ndarray:
    """Alpha of each coincidence matrix in o (R, V, V); NaN where it is not defined."""
    n_v = o.sum(axis=1)
    n = n_v.sum(axis=1)
    expected = n_v[:, :, None] * n_v[:, None, :]
    v = cats.size
    idx = np.arange(v)
    expected[:, idx, idx] -= n_v
    d = _distances(level, cats, n_v)
    observed_disagreement = (o * d).sum(axis=(1, 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        expected_disagreement = (expected * d).sum(axis=(1, 2)) / (n - 1)
        values = 1 - observed_disagreement / expected_disagreement
    defined = (np.count_nonzero(n_v > 0, axis=1) >= 2) & (expected_disagreement > 0)
    return np.where(defined, values, np.nan)


def alpha_numpy(counts: np.ndarray, *, level: str, categories: Sequence[int]) -> float | None:
    """The same alpha as `alpha`, computed here in numpy (the engine of the bootstrap).
    None where alpha is not defined."""
    _check_level(level)
    cats = _categories_array(categories, ordered=level != "nominal")
    counts = _check_counts(counts, cats)
    if _pairable(counts).shape[0] == 0:
        return None
    return alpha_from_coincidences(coincidences(counts), level=level, categories=categories)


def coincidences(counts: np.ndarray) -> np.ndarray:
    """The coincidence matrix (V, V) of a value-counts matrix's pairable units. Coincidence
    matrices add up, so alpha over data read in chunks is alpha of their sum."""
    pairable = _pairable(np.asarray(counts).astype(np.int64))
    if pairable.shape[0] == 0:
        return np.zeros((pairable.shape[1], pairable.shape[1]))
    return _unit_coincidences(pairable).sum(axis=0)


def alpha_from_coincidences(
    o: np.ndarray, *, level: str, categories: Sequence[int]
) -> float | None:
    """Alpha of a coincidence matrix (see `coincidences`); None where it is not defined."""
    _check_level(level)
    cats = _categories_array(categories, ordered=level != "nominal")
    value = _alpha_from_coincidences(np.asarray(o, dtype=np.float64)[None], level=level, cats=cats)
    return float(value[0]) if np.isfinite(value[0]) else None


# ---------------------------------------------------------------------------- bootstrap


def _distinct_rows(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """np.unique(rows, axis=0, return_counts=True), faster: each row of small counts is
    read as one integer in base (max + 1), and a 1-D unique is a plain sort."""
    base = int(rows.max()) + 1 if rows.size else 1
    if rows.shape[1] * np.log2(max(base, 2)) >= 62:  # would overflow int64: the slow way
        return np.unique(rows, axis=0, return_counts=True)
    weights = base ** np.arange(rows.shape[1], dtype=np.int64)
    _, first, multiplicity = np.unique(rows @ weights, return_index=True, return_counts=True)
    return rows[first], multiplicity


def bootstrap_alpha(
    counts: np.ndarray,
    *,
    level: str,
    categories: Sequence[int],
    resamples: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> AlphaInterval:
    """Percentile bootstrap interval for alpha, resampling pairable units with replacement.

    Vectorised over resamples: each resample is a row of weights (how many times each
    distinct unit was drawn) and every resample's coincidence matrix is one matrix product.
    Resamples with fewer than two distinct values are skipped. Same seed, same interval.
    """
    if resamples < 1:
        raise ValueError("resamples must be at least 1.")
    if not 0 < confidence < 1:
        raise ValueError("confidence must be between 0 and 1.")
    point = alpha(counts, level=level, categories=categories)
    if point.value is None:
        return AlphaInterval(None, None, None, 0, point.reason)

    cats = np.asarray(categories)
    pairable = _pairable(np.asarray(counts).astype(np.int64))
    n_units, v = pairable.shape
    # Units with the same value counts are interchangeable: resample the distinct rows with
    # multinomial weights (the same distribution as drawing units with replacement). With a
    # few raters on a small scale a million units collapse to a few dozen rows.
    distinct, multiplicity = _distinct_rows(pairable)
    n_distinct = distinct.shape[0]
    per_unit = _unit_coincidences(distinct).reshape(n_distinct, v * v)
    probabilities = multiplicity / n_units

    rng = np.random.default_rng(seed)
    chunk = max(1, _BOOTSTRAP_CHUNK_CELLS // n_distinct)
    values = []
    for start in range(0, resamples, chunk):
        m = min(chunk, resamples - start)
        weights = rng.multinomial(n_units, probabilities, size=m).astype(np.float64)
        o = (weights @ per_unit).reshape(m, v, v)
        values.append(_alpha_from_coincidences(o, level=level, cats=cats))
    all_values = np.concatenate(values)
    valid = all_values[np.isfinite(all_values)]

    if valid.size < 2:
        return AlphaInterval(
            point.value,
            None,
            None,
            int(valid.size),
            f"only {valid.size} of {resamples} resamples had two or more distinct values, "
            "too few for an interval",
        )
    tail = (1 - confidence) / 2
    low, high = np.quantile(valid, [tail, 1 - tail])
    reason = ""
    if valid.size < MIN_VALID_SHARE * resamples:
        reason = (
            f"only {valid.size} of {resamples} resamples had two or more distinct values; "
            "the interval uses those and may be too narrow"
        )
    return AlphaInterval(point.value, float(low), float(high), int(valid.size), reason)


# ---------------------------------------------------------------------------- judge vs humans


def _pair(a: Sequence[int] | np.ndarray, b: Sequence[int] | np.ndarray):
    a, b = np.asarray(a), np.asarray(b)
    if a.ndim != 1 or a.shape != b.shape:
        raise ValueError("a and b must be one-dimensional and of equal length.")
    return a, b


def exact_agreement(a: Sequence[int] | np.ndarray, b: Sequence[int] | np.ndarray) -> float | None:
    """Share of pairs with a == b; None when there are no pairs."""
    a, b = _pair(a, b)
    if a.size == 0:
        return None
    return float(np.mean(a == b))


def within_one_agreement(
    a: Sequence[int] | np.ndarray, b: Sequence[int] | np.ndarray
) -> float | None:
    """Share of pairs with |a − b| ≤ 1; None when there are no pairs."""
    a, b = _pair(a, b)
    if a.size == 0:
        return None
    return float(np.mean(np.abs(a.astype(np.float64) - b.astype(np.float64)) <= 1))


def confusion_matrix(
    a: Sequence[int] | np.ndarray, b: Sequence[int] | np.ndarray, categories: Sequence[int]
) -> np.ndarray:
    """Counts of (a, b) pairs: rows are a's value, columns b's, both in `categories` order.
    All zeros when there are no pairs; values not in `categories` raise ValueError."""
    a, b = _pair(a, b)
    cats = _categories_array(categories, ordered=False)
    if a.size == 0:
        return np.zeros((cats.size, cats.size), dtype=np.int64)
    rows, columns = _category_columns(a, cats), _category_columns(b, cats)
    flat = np.bincount(rows * cats.size + columns, minlength=cats.size * cats.size)
    return flat.reshape(cats.size, cats.size).astype(np.int64)


# ---------------------------------------------------------------------------- consensus


def consensus(
    counts: np.ndarray,
    categories: Sequence[int],
    method: str = "median",
    *,
    missing: int = -1,
) -> np.ndarray:
    """One consensus value per unit (row of counts), always a value of the scale.

    median: the lower median of the unit's ratings (for an even count, the lower of the two
    middle values). mode: the most frequent value, ties to the first in `categories`.
    Units with no ratings get `missing` (-1 by default), which must not be a category.
    """
    if method not in ("median", "mode"):
        raise ValueError(f"method must be 'median' or 'mode', got {method!r}.")
    cats = _categories_array(categories, ordered=method == "median")
    if missing in set(cats.tolist()):
        raise ValueError(f"missing={missing} is one of the categories; choose another marker.")
    counts = _check_counts(counts, cats)
    n_u = counts.sum(axis=1)
    if method == "median":
        position = (n_u - 1) // 2  # 0-based rank of the lower median
        columns = np.argmax(np.cumsum(counts, axis=1) > position[:, None], axis=1)
    else:
        columns = np.argmax(counts, axis=1)
    return np.where(n_u > 0, cats[columns], missing).astype(np.int64)
