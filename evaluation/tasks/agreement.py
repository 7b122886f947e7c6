"""Celery entry points for agreement: take a filter, call one service."""

from celery import shared_task

from ..selectors.agreement import AgreementFilter
from ..services.agreement import agreement_report_refresh


@shared_task(acks_late=True, reject_on_worker_lost=True)
def agreement_report_compute(filters: dict) -> None:
    """Recompute and cache the agreement report of one filter (AgreementFilter.as_dict()).

    Idempotent: it overwrites the same cache keys with figures from the current ratings.
    Runs on the cpu queue (CELERY_TASK_ROUTES)."""
    agreement_report_refresh(filters=AgreementFilter.from_dict(filters))
