"""Celery entry points for exports: take ids, call one service."""

from celery import shared_task

from ..services.exports import export_run


# Routed to the cpu queue by CELERY_TASK_ROUTES ("*"); celery deprecates queue= here.
@shared_task(acks_late=True, reject_on_worker_lost=True)
def run_export(export_id: int) -> str | None:
    """Write one export's files (queue "cpu"; idempotent by status guard: a finished or
    already running export is left alone)."""
    export = export_run(export_id=export_id)
    return export.status if export is not None else None
