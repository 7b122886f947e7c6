"""Celery entry points of the synth app: take ids, call one service."""

from celery import shared_task

from . import services


@shared_task(acks_late=True, reject_on_worker_lost=True)
def filter_sample(sample_id: int) -> str | None:
    """Run the quality filters on one sample (queue "cpu"; idempotent by status guard)."""
    sample = services.sample_filter(sample_id=sample_id)
    return sample.status if sample is not None else None
