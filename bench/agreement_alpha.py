"""Alpha and its 1 000-resample bootstrap interval on 1 M ratings of one (language, dimension),
beside the naive approach (krippendorff.alpha once per resample).

The naive loop is timed on fewer resamples and extrapolated linearly to 1 000 (each resample
costs the same); the output says so. No database: ratings are simulated.

    .venv/bin/python bench/agreement_alpha.py [--ratings 1000000] [--naive-resamples 20]
"""

import argparse
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import krippendorff
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from evaluation.agreement import alpha, bootstrap_alpha, value_counts

CATEGORIES = [0, 1, 2, 3, 4]


def simulate(n_ratings: int, raters_per_unit: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n_units = n_ratings // raters_per_unit
    truth = rng.choice(5, size=n_units, p=[0.1, 0.2, 0.4, 0.2, 0.1])
    noise = rng.choice([-1, 0, 1], p=[0.2, 0.6, 0.2], size=(n_units, raters_per_unit))
    values = np.clip(truth[:, None] + noise, 0, 4).ravel()
    units = np.repeat(np.arange(n_units), raters_per_unit)
    return units, values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ratings", type=int, default=1_000_000)
    parser.add_argument("--raters-per-unit", type=int, default=3)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--naive-resamples", type=int, default=20)
    parser.add_argument("--level", default="ordinal")
    args = parser.parse_args()

    units, values = simulate(args.ratings, args.raters_per_unit, seed=1)
    start = time.perf_counter()
    counts = value_counts(units, values, CATEGORIES)
    counts_s = time.perf_counter() - start

    start = time.perf_counter()
    point = alpha(counts, level=args.level, categories=CATEGORIES)
    point_s = time.perf_counter() - start

    start = time.perf_counter()
    interval = bootstrap_alpha(
        counts, level=args.level, categories=CATEGORIES, resamples=args.resamples, seed=0
    )
    boot_s = time.perf_counter() - start

    rng = np.random.default_rng(0)
    n_units = counts.shape[0]
    start = time.perf_counter()
    for _ in range(args.naive_resamples):
        drawn = counts[rng.integers(0, n_units, size=n_units)]
        krippendorff.alpha(
            value_counts=drawn, value_domain=CATEGORIES, level_of_measurement=args.level
        )
    naive_s = time.perf_counter() - start
    naive_full_s = naive_s / args.naive_resamples * args.resamples

    print(f"date: {datetime.now(UTC).isoformat(timespec='seconds')}")
    print(
        f"machine: {platform.node()} {platform.machine()} {platform.processor() or ''} "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, numpy {np.__version__}"
    )
    print(
        f"data: {args.ratings:,} ratings, {n_units:,} units x {args.raters_per_unit} raters, "
        f"{len(CATEGORIES)} categories, level {args.level}"
    )
    print(f"value counts: {counts_s * 1000:.0f} ms")
    print(f"alpha alone (krippendorff package): {point.value:.4f} in {point_s * 1000:.0f} ms")
    # bootstrap_alpha returns the package's alpha and the interval: one call does both.
    print(
        f"bootstrap_alpha, alpha + {args.resamples} resamples (vectorised): {boot_s:.2f} s, "
        f"{interval.value:.4f} 95% [{interval.low:.4f}, {interval.high:.4f}]"
    )
    print(f"value counts + alpha + interval: {counts_s + boot_s:.2f} s (goal <= 1 s)")
    print(
        f"naive (krippendorff.alpha per resample): {args.naive_resamples} resamples took "
        f"{naive_s:.2f} s; extrapolated to {args.resamples}: {naive_full_s:.1f} s "
        f"({naive_full_s / boot_s:.0f}x slower)"
    )


if __name__ == "__main__":
    main()
