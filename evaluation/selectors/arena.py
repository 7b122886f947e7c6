"""Arena reads: battles from preferences, leaderboards, win rates, human–judge agreement
and the chosen/rejected pairs for preference tuning."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.db.models import QuerySet

from .. import arena
from ..models import Preference, RaterKind

RATER_KINDS = ("llm", "human", "all")
METHODS = ("bt", "elo")


def arena_settings() -> dict:
    """Elo's K and start rating, the permutation repeats and the bootstrap resamples."""
    return {
        "k": float(getattr(settings, "PARAKH_ARENA_ELO_K", 4.0)),
        "start": float(getattr(settings, "PARAKH_ARENA_START_RATING", arena.START)),
        "repeats": int(getattr(settings, "PARAKH_ARENA_ELO_REPEATS", 20)),
        "resamples": int(getattr(settings, "PARAKH_ARENA_RESAMPLES", 1000)),
        # Each Elo resample replays every battle in Python, so Elo gets fewer by default.
        "elo_resamples": int(getattr(settings, "PARAKH_ARENA_ELO_RESAMPLES", 100)),
    }


def arena_preferences(*, language: str | None = None, raters: str = "llm") -> QuerySet:
    """Preferences of LLM judges, of humans, or of both, optionally in one language."""
    preferences = Preference.objects.all()
    if raters == "llm":
        preferences = preferences.filter(rater__kind=RaterKind.LLM)
    elif raters == "human":
        preferences = preferences.filter(rater__kind=RaterKind.HUMAN)
    else:
        preferences = preferences.filter(rater__kind__in=[RaterKind.LLM, RaterKind.HUMAN])
    if language:
        preferences = preferences.filter(comparison__prompt__language=language)
    return preferences


def arena_battles(
    *, language: str | None = None, raters: str = "llm"
) -> tuple[list[str], arena.Battles]:
    """Every preference as one battle between the two responses' models."""
    rows = list(
        arena_preferences(language=language, raters=raters).values_list(
            "comparison__response_a__model_name",
            "comparison__response_b__model_name",
            "comparison__response_a_id",
            "winner_id",
        )
    )
    models = sorted({row[0] for row in rows} | {row[1] for row in rows})
    index = {name: i for i, name in enumerate(models)}
    a = [index[row[0]] for row in rows]
    b = [index[row[1]] for row in rows]
    score = [0.5 if winner is None else float(winner == first) for _, _, first, winner in rows]
    return models, arena.Battles.of(a, b, score, len(models))


@dataclass(frozen=True)
class Leaderboard:
    language: str | None
    raters: str
    method: str
    battles: int
    resamples: int
    # One row per model, best first: model, rating, low, high, battles, wins, ties, losses.
    rows: list[dict]
    models: list[str]
    win_rates: list[list[float | None]]


def arena_leaderboard(
    *,
    language: str | None = None,
    raters: str = "llm",
    method: str = "bt",
    resamples: int | None = None,
    seed: int = 0,
) -> Leaderboard:
    options = arena_settings()
    if resamples is None:
        resamples = options["elo_resamples" if method == "elo" else "resamples"]
    models, battles = arena_battles(language=language, raters=raters)
    if method == "elo":
        ranking = arena.elo_bootstrap(
            battles,
            k=options["k"],
            start=options["start"],
            repeats=options["repeats"],
            resamples=resamples,
            seed=seed,
        )
    else:
        ranking = arena.bradley_terry(
            battles, start=options["start"], resamples=resamples, seed=seed
        )
    rates, games = arena.win_rates(battles)
    wins = np.zeros(len(models), dtype=int)
    ties = np.zeros(len(models), dtype=int)
    np.add.at(wins, battles.a[battles.score == 1], 1)
    np.add.at(wins, battles.b[battles.score == 0], 1)
    np.add.at(ties, battles.a[battles.score == 0.5], 1)
    np.add.at(ties, battles.b[battles.score == 0.5], 1)
    played = games.sum(axis=1)
    rows = [
        {
            "model": name,
            "rating": round(float(ranking.ratings[i]), 1),
            "low": None if ranking.low is None else round(float(ranking.low[i]), 1),
            "high": None if ranking.high is None else round(float(ranking.high[i]), 1),
            "battles": int(played[i]),
            "wins": int(wins[i]),
            "ties": int(ties[i]),
            "losses": int(played[i] - wins[i] - ties[i]),
        }
        for i, name in enumerate(models)
    ]
    order = sorted(range(len(models)), key=lambda i: -rows[i]["rating"])
    return Leaderboard(
        language=language,
        raters=raters,
        method=method,
        battles=len(battles),
        resamples=ranking.resamples,
        rows=[rows[i] for i in order],
        models=[models[i] for i in order],
        win_rates=[
            [None if np.isnan(rates[i, j]) else round(float(rates[i, j]), 3) for j in order]
            for i in order
        ],
    )


def arena_languages() -> list[str]:
    return sorted(
        set(Preference.objects.values_list("comparison__prompt__language", flat=True).distinct())
    )


def _outcome_codes(rows) -> tuple[list[int], list[int]]:
    """(comparison ids, outcomes) with FIRST/SECOND meaning the lower/higher response id."""
    units, outcomes = [], []
    for comparison, response_a, response_b, winner in rows:
        units.append(comparison)
        if winner is None:
            outcomes.append(arena.TIE)
        else:
            outcomes.append(arena.FIRST if winner == min(response_a, response_b) else arena.SECOND)
    return units, outcomes


def arena_agreement(*, language: str | None = None) -> list[dict]:
    """Per LLM judge: how it agrees with the humans on the comparisons both answered."""
    fields = (
        "comparison_id",
        "comparison__response_a_id",
        "comparison__response_b_id",
        "winner_id",
    )
    human = _outcome_codes(
        arena_preferences(language=language, raters="human").values_list(*fields)
    )
    report = []
    judges = (
        arena_preferences(language=language, raters="llm")
        .values_list("rater_id", "rater__judge__name")
        .distinct()
        .order_by("rater__judge__name")
    )
    for rater_id, name in judges:
        rows = arena_preferences(language=language, raters="llm").filter(rater_id=rater_id)
        result = arena.pair_agreement(*human, *_outcome_codes(rows.values_list(*fields)))
        report.append(
            {
                "judge": name,
                "comparisons": result.comparisons,
                "pairs": result.pairs,
                "exact": result.exact,
                "alpha": result.alpha.value,
                "alpha_reason": result.alpha.reason,
            }
        )
    return report


def preference_pairs(*, language: str | None = None, raters: str = "all") -> Iterator[dict]:
    """Chosen/rejected records for preference tuning (DPO and the like): one per preference
    with a winner; ties and "both bad" have no chosen response and are left out."""
    preferences = (
        arena_preferences(language=language, raters=raters)
        .filter(outcome=Preference.Outcome.WIN)
        .select_related(
            "comparison__prompt",
            "comparison__response_a",
            "comparison__response_b",
            "rater__judge",
        )
        .order_by("pk")
    )
    for preference in preferences.iterator(chunk_size=2000):
        comparison = preference.comparison
        chosen, rejected = comparison.response_a, comparison.response_b
        if preference.winner_id == rejected.pk:
            chosen, rejected = rejected, chosen
        rater = preference.rater
        yield {
            "prompt_id": comparison.prompt.external_id,
            "language": comparison.prompt.language,
            "domain": comparison.prompt.domain,
            "prompt": [{"role": "user", "content": comparison.prompt.text}],
            "chosen": [{"role": "assistant", "content": chosen.text}],
            "rejected": [{"role": "assistant", "content": rejected.text}],
            "chosen_model": chosen.model_name,
            "rejected_model": rejected.model_name,
            "rater": rater.kind if rater.kind != RaterKind.LLM else f"llm:{rater.judge.name}",
        }
