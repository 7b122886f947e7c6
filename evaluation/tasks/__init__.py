"""Celery tasks of the evaluation app. Imported here so that autodiscovery registers them;
judging.* runs on the gpu queue, the rest on cpu (CELERY_TASK_ROUTES)."""

from . import agreement, exports, judging

__all__ = ["agreement", "exports", "judging"]
