"""Every write to the evaluation app's tables, by concern; what other apps call is here."""

from .agreement import (
    agreement_report_ensure,
    agreement_report_queue,
    agreement_report_refresh,
)
from .exports import export_create, export_directory, export_run, export_transition
from .judging import (
    judge_chunk_process,
    judge_create,
    judge_run_cancel,
    judge_run_create,
    judge_run_resume,
    judge_run_start,
    judge_run_transition,
    pairwise_judge,
)
from .ratings import (
    rater_adjudicated,
    rater_for_judge,
    rater_for_user,
    rater_gold,
    rating_upsert,
    ratings_upsert_bulk,
)

__all__ = [
    "agreement_report_ensure",
    "agreement_report_queue",
    "agreement_report_refresh",
    "export_create",
    "export_directory",
    "export_run",
    "export_transition",
    "judge_chunk_process",
    "judge_create",
    "judge_run_cancel",
    "judge_run_create",
    "judge_run_resume",
    "judge_run_start",
    "judge_run_transition",
    "pairwise_judge",
    "rater_adjudicated",
    "rater_for_judge",
    "rater_for_user",
    "rater_gold",
    "rating_upsert",
    "ratings_upsert_bulk",
]
