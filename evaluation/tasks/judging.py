"""Celery entry points for judging: take ids, call one service (queue "gpu")."""

from celery import Task, shared_task

from synth.backends import BackendUnavailable

from ..services import judging


class JudgeChunkTask(Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        # Retries are spent (or the error was not transient): the run cannot finish.
        judging.judge_run_fail(run_id=args[0], error=f"{type(exc).__name__}: {exc}")


# Idempotent (one Judgment per key, checked under the run lock), so a chunk lost with its
# worker may run again: acks_late + reject_on_worker_lost.
@shared_task(
    base=JudgeChunkTask,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(BackendUnavailable,),
    retry_backoff=5,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=8,
)
def judge_chunk(run_id: int, sample_ids: list[int]) -> dict:
    """Judge one chunk of a run's samples; a run that is not running makes it a no-op."""
    return judging.judge_chunk_process(run_id=run_id, sample_ids=sample_ids)
