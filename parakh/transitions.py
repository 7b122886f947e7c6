"""Guarded status transitions, shared by every model that has a status field.

A model declares its legal moves as data (``TRANSITIONS = {from: {to, ...}}``); services
call ``check_transition()`` or ``run_transition()``, so that an illegal move raises
``InvalidTransition`` instead of silently writing a status the rest of the system does not
expect.
"""

from collections.abc import Mapping, Set

from django.db import models
from django.utils import timezone


class DomainError(Exception):
    """A request that the domain rules refuse; views turn it into a 4xx with its message."""


class InvalidTransition(DomainError):
    def __init__(self, obj: object, current: str, target: str) -> None:
        # str(): TextChoices members would otherwise print as GenerationJobStatus.COMPLETED.
        self.current = current = str(current)
        self.target = target = str(target)
        name = type(obj).__name__
        super().__init__(
            f"{name} {getattr(obj, 'pk', '')} cannot go from {current!r} to {target!r}."
        )


def check_transition(
    obj: object, *, current: str, target: str, allowed: Mapping[str, Set[str]]
) -> None:
    if target not in allowed.get(current, frozenset()):
        raise InvalidTransition(obj, current, target)


class RunStatus(models.TextChoices):
    """The lifecycle of every job-like row: generation jobs, judge runs, exports."""

    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


RUN_TRANSITIONS = {
    RunStatus.PENDING: {RunStatus.RUNNING, RunStatus.CANCELLED},
    RunStatus.RUNNING: {RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED},
    RunStatus.FAILED: {RunStatus.PENDING},  # retry
    RunStatus.CANCELLED: {RunStatus.PENDING},  # resume
    RunStatus.COMPLETED: set(),
}
FINISHED = frozenset({RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED})


def run_transition(run, *, to: str, error: str = ""):
    """Move a job-like row (GenerationJob, JudgeRun) and keep its timestamps in step.

    The row has ``status``, ``TRANSITIONS``, ``started_at``, ``finished_at``, ``error`` and
    ``updated_at``; its statuses are RunStatus and its moves RUN_TRANSITIONS.
    """
    check_transition(run, current=run.status, target=to, allowed=run.TRANSITIONS)
    now = timezone.now()
    run.status = to
    update_fields = ["status", "updated_at"]
    if to == RunStatus.RUNNING and run.started_at is None:
        run.started_at = now
        update_fields.append("started_at")
    if to in FINISHED:
        run.finished_at = now
        update_fields.append("finished_at")
    elif to == RunStatus.PENDING:
        # A retry or resume: the run is not finished any more.
        run.finished_at = None
        update_fields.append("finished_at")
    if error or to == RunStatus.FAILED:
        run.error = error
        update_fields.append("error")
    run.save(update_fields=update_fields)
    return run
