"""Every write to the evaluation app's tables, by concern; what other apps call is here."""

from .judging import judge_run_transition
from .ratings import (
    rater_adjudicated,
    rater_for_judge,
    rater_for_user,
    rater_gold,
    rating_upsert,
)

__all__ = [
    "judge_run_transition",
    "rater_adjudicated",
    "rater_for_judge",
    "rater_for_user",
    "rater_gold",
    "rating_upsert",
]
