"""Celery entry points of the synth app: take ids, call one service."""

from celery import Task, shared_task

from . import services
from .backends import BackendUnavailable
from .services import generation as generation_services


@shared_task(acks_late=True, reject_on_worker_lost=True)
def filter_sample(sample_id: int) -> str | None:
    """Run the quality filters on one sample (queue "cpu"; idempotent by status guard)."""
    sample = services.sample_filter(sample_id=sample_id)
    return sample.status if sample is not None else None


@shared_task(acks_late=True, reject_on_worker_lost=True)
def filter_samples(sample_ids: list[int]) -> dict[str, int]:
    """Run the quality filters on a batch of new samples (queue "cpu"; idempotent by each
    sample's status guard: a redelivery filters only those still waiting)."""
    return services.samples_filter(sample_ids=sample_ids)


class GenerationTask(Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo):
        # The chunk gave up (retries spent, or a fault no retry can fix): the job says so
        # instead of staying "running" for ever.
        job_id = args[0] if args else kwargs.get("job_id")
        generation_services.generation_job_fail(job_id=job_id, error=f"{type(exc).__name__}: {exc}")


@shared_task(
    base=GenerationTask,
    acks_late=True,
    # Safe only because the chunk is idempotent: a worker killed mid-chunk gets it redone.
    reject_on_worker_lost=True,
    autoretry_for=(BackendUnavailable,),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=8,
)
def generate_chunk(job_id: int, source_ids: list[int]) -> int:
    """Generate the samples of one chunk of a job (queue "gpu", routed by name)."""
    return generation_services.generation_chunk_process(job_id=job_id, source_ids=source_ids)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def filter_near_duplicates(language: str) -> dict[str, int]:
    """The corpus-level near-duplicate pass over one language's filtered samples (queue
    "cpu"). Idempotent: a rerun writes nothing new; samples filtered later are picked up by
    the next run."""
    return services.samples_filter_near_duplicates(language=language)
