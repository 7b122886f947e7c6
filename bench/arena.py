"""Bradley–Terry with a 1 000-resample bootstrap interval on 100 k battles among 10 models,
beside the naive approach (resample the battles and refit once per resample).

The naive loop is timed on fewer resamples and extrapolated linearly (each resample costs
the same); the output says so. Also times online Elo averaged over 20 orders. No database:
battles are simulated from known strengths, and the recovered order is checked.

    .venv/bin/python bench/arena.py [--battles 100000] [--models 10] [--resamples 1000]
"""

import argparse
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from evaluation import arena


def simulate(n_models: int, n_battles: int, seed: int) -> arena.Battles:
    """Evenly spaced strengths (natural log), so model i's true rank is i."""
    rng = np.random.default_rng(seed)
    strengths = np.linspace(-1.5, 1.5, n_models)
    a = rng.integers(0, n_models, n_battles)
    b = (a + rng.integers(1, n_models, n_battles)) % n_models
    p_a = 1 / (1 + np.exp(strengths[b] - strengths[a]))
    score = (rng.random(n_battles) < p_a).astype(float)
    score[rng.random(n_battles) < 0.1] = 0.5
    return arena.Battles.of(a, b, score, n_models)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--battles", type=int, default=100_000)
    parser.add_argument("--models", type=int, default=10)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--naive-resamples", type=int, default=20)
    parser.add_argument("--elo-repeats", type=int, default=20)
    args = parser.parse_args()

    battles = simulate(args.models, args.battles, seed=1)
    start = time.perf_counter()
    ranking = arena.bradley_terry(battles, resamples=args.resamples, seed=0)
    bt_s = time.perf_counter() - start

    rng = np.random.default_rng(0)
    start = time.perf_counter()
    for _ in range(args.naive_resamples):
        idx = rng.integers(0, len(battles), len(battles))
        drawn = arena.Battles.of(battles.a[idx], battles.b[idx], battles.score[idx], args.models)
        arena.bradley_terry(drawn, resamples=0)
    naive_s = time.perf_counter() - start
    naive_full_s = naive_s / args.naive_resamples * args.resamples

    start = time.perf_counter()
    elo = arena.elo(battles, repeats=args.elo_repeats)
    elo_s = time.perf_counter() - start

    print(f"date: {datetime.now(UTC).isoformat(timespec='seconds')}")
    print(
        f"machine: {platform.node()} {platform.machine()} {platform.processor() or ''} "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, numpy {np.__version__}"
    )
    print(f"data: {args.battles:,} battles among {args.models} models, 10% ties")
    print(
        f"Bradley-Terry + {args.resamples} bootstrap resamples (multinomial over cells, "
        f"fits stacked): {bt_s:.2f} s (goal <= 5 s)"
    )
    widths = ranking.high - ranking.low
    print(f"  mean 95% interval width: {widths.mean():.1f} Elo points")
    print(
        f"  true order recovered: {list(np.argsort(ranking.ratings)) == list(range(args.models))}"
    )
    print(
        f"naive (resample battles, refit): {args.naive_resamples} resamples took {naive_s:.2f} s; "
        f"extrapolated to {args.resamples}: {naive_full_s:.1f} s"
    )
    print(
        f"online Elo, {args.elo_repeats} orders of {args.battles:,} battles: {elo_s:.2f} s; "
        f"order recovered: {list(np.argsort(elo)) == list(range(args.models))}"
    )


if __name__ == "__main__":
    main()
