import pytest

from annotate.models import Batch
from annotate.services import batch_transition
from evaluation.models import JudgeRun
from evaluation.services import judge_run_transition
from parakh.transitions import InvalidTransition
from synth.models import GenerationJob, Sample
from synth.services import generation_job_transition, sample_transition
from tests.factories import BatchFactory, JudgeFactory, ModelEndpointFactory, SampleFactory

pytestmark = pytest.mark.django_db


def test_generation_job_moves_through_its_lifecycle_and_stamps_times():
    job = GenerationJob.objects.create(
        task_type="summarization",
        languages=["hi"],
        endpoint=ModelEndpointFactory(),
        template_version="v1",
    )
    generation_job_transition(job=job, to=GenerationJob.Status.RUNNING)
    assert job.started_at is not None and job.finished_at is None
    generation_job_transition(job=job, to=GenerationJob.Status.FAILED, error="CUDA out of memory")
    job.refresh_from_db()
    assert job.status == "failed" and job.error == "CUDA out of memory" and job.finished_at
    generation_job_transition(job=job, to=GenerationJob.Status.PENDING)  # retry
    job.refresh_from_db()
    assert job.finished_at is None


def test_completed_job_cannot_run_again():
    job = GenerationJob.objects.create(
        task_type="summarization",
        languages=["hi"],
        endpoint=ModelEndpointFactory(),
        template_version="v1",
        status=GenerationJob.Status.COMPLETED,
    )
    with pytest.raises(InvalidTransition, match="cannot go from 'completed' to 'running'"):
        generation_job_transition(job=job, to=GenerationJob.Status.RUNNING)
    job.refresh_from_db()
    assert job.status == "completed"


def test_judge_run_cannot_skip_running():
    run = JudgeRun.objects.create(judge=JudgeFactory())
    with pytest.raises(InvalidTransition):
        judge_run_transition(run=run, to=JudgeRun.Status.COMPLETED)


def test_sample_cannot_return_to_generated():
    sample = SampleFactory(status=Sample.Status.PASSED)
    with pytest.raises(InvalidTransition):
        sample_transition(sample=sample, to=Sample.Status.GENERATED)
    sample_transition(sample=sample, to=Sample.Status.REJECTED)
    sample.refresh_from_db()
    assert sample.status == "rejected"


def test_draft_batch_cannot_close_before_opening():
    batch = BatchFactory(status=Batch.Status.DRAFT)
    with pytest.raises(InvalidTransition):
        batch_transition(batch=batch, to=Batch.Status.CLOSED)
    batch_transition(batch=batch, to=Batch.Status.OPEN)
    batch_transition(batch=batch, to=Batch.Status.CLOSED)
    assert Batch.objects.get(pk=batch.pk).status == "closed"
