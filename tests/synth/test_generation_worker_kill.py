"""A gpu worker killed with SIGKILL in the middle of a chunk: the broker hands the chunk to
the next worker, and the job ends with exactly the expected samples, none lost, none twice.

Real Celery worker processes on the real Redis, writing to the real PostgreSQL; the model
is a local OpenAI-compatible server that answers after a short delay, so a chunk takes long
enough to be killed half-way.
"""

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from parakh.celery import app as celery_app
from parakh.transitions import FINISHED, RunStatus
from synth.models import GenerationCall, GenerationJob, ModelEndpoint, Sample
from synth.services.generation import generation_job_create, generation_job_start
from tests.factories import SourceFactory
from tests.synth.test_backends import ChatServer, Reply
from tests.utils import worker_env, worker_options

ROOT = Path(__file__).resolve().parents[2]
SOURCES = 12
CHUNK = 6
BATCH = 2
# Redis redelivers an unacknowledged message after the visibility timeout; production waits
# twice the task time limit (hours). The test workers wait seconds, and sweep every second.
WORKER = (
    "import sys\n"
    "from parakh.celery import app\n"
    "app.conf.broker_transport_options = {'visibility_timeout': 4,"
    " 'unacked_restore_interval': 1, 'unacked_restore_throttle': 1}\n"
    "app.worker_main(sys.argv[1:])\n"
)

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def start_worker(log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", WORKER, *worker_options(queue="gpu", name="kill")],
        env=worker_env(),
        cwd=ROOT,
        # A file, not a pipe: nobody reads the log while the worker runs, and a full pipe
        # would stall it.
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )


def wait_for(condition, *, timeout: float, what: str, log: Path):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}; worker log:\n{log.read_text()[-4000:]}")


@pytest.fixture
def real_broker():
    celery_app.control.purge()
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        yield
    finally:
        celery_app.conf.task_always_eager = previous
        # The samples' filter tasks wait on the cpu queue that no worker here serves.
        celery_app.control.purge()


def test_a_worker_killed_mid_chunk_loses_no_sample_and_duplicates_none(real_broker, tmp_path):
    sources = [
        SourceFactory(language="hi" if n % 2 else "ta", text=f"अनुच्छेद {n}: दिवाली का पर्व।")
        for n in range(SOURCES)
    ]
    with ChatServer(lambda body, n: Reply(content=f"उत्तर {n} दीपावली", delay=0.4)) as server:
        endpoint = ModelEndpoint.objects.create(
            name="slow-local",
            backend="openai",
            model="local-slow",
            base_url=server.base_url,
            max_concurrency=BATCH,
            params={"max_retries": 0},
        )
        job = generation_job_create(
            task_type="multihop_qa",
            languages=["hi", "ta"],
            endpoint=endpoint,
            params={"chunk_size": CHUNK, "batch_size": BATCH},
        )
        first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
        first = start_worker(first_log)
        try:
            generation_job_start(job=job)
            # Killed once some samples of its first chunk are stored and others are not.
            wait_for(
                lambda: 0 < Sample.objects.filter(job=job).count() < CHUNK,
                timeout=90,
                what="the first samples",
                log=first_log,
            )
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
        finally:
            if first.poll() is None:
                first.kill()
        stored_at_kill = Sample.objects.filter(job=job).count()
        assert 0 < stored_at_kill < CHUNK

        second = start_worker(second_log)
        try:
            wait_for(
                lambda: GenerationJob.objects.get(pk=job.pk).status in FINISHED,
                timeout=120,
                what="the job to finish",
                log=second_log,
            )
            assert second.poll() is None, second_log.read_text()[-4000:]
        finally:
            second.terminate()
            try:
                second.wait(timeout=20)
            except subprocess.TimeoutExpired:
                second.kill()
        requests = len(server.requests)

    job.refresh_from_db()
    assert job.status == RunStatus.COMPLETED, job.error
    samples = Sample.objects.filter(job=job)
    # Exactly one sample per source: none lost, none twice.
    assert sorted(samples.values_list("source_id", flat=True)) == sorted(s.pk for s in sources)
    assert job.counts["samples"] == SOURCES and job.counts["failed"] == 0
    assert not GenerationCall.objects.filter(job=job).exclude(error="").exists()
    # Two calls per sample; what the killed worker had in flight (one batch) may be asked
    # again, but no call whose result was stored.
    assert 2 * SOURCES <= requests <= 2 * SOURCES + BATCH
