"""Generation jobs."""

from parakh.transitions import run_transition

from ..models import GenerationJob


def generation_job_transition(*, job: GenerationJob, to: str, error: str = "") -> GenerationJob:
    """Guarded status change; illegal moves raise parakh.transitions.InvalidTransition."""
    return run_transition(job, to=to, error=error)
