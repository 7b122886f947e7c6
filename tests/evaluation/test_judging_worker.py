"""A real `celery worker -Q gpu` judging against a local chat server, SIGKILLed mid-run:
the chunk it held is delivered again to a second worker, and nothing is lost or doubled."""

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db.models import Count
from kombu import Connection

from evaluation import services
from evaluation.models import JudgeRun, Judgment, Rating
from parakh.celery import app as celery_app
from synth.models import ModelEndpoint
from tests.evaluation.test_judging import answer
from tests.factories import DimensionFactory, ModelEndpointFactory, SampleFactory
from tests.synth.test_backends import ChatServer, Reply
from tests.utils import worker_env, worker_options

ROOT = Path(__file__).resolve().parents[2]


def start_worker() -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "parakh",
            *worker_options(queue="gpu", name="judge"),
        ],
        env=worker_env(),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.1)


def redeliver_unacked() -> None:
    """What Redis does once the visibility timeout has passed (hours in production): put a
    delivered, never acknowledged task back on its queue."""
    options = {"visibility_timeout": 1}
    with Connection(settings.CELERY_BROKER_URL, transport_options=options) as conn:
        time.sleep(1.2)
        conn.default_channel.qos.restore_visible(num=100, interval=1)


@pytest.mark.worker
def test_a_worker_killed_mid_run_loses_and_duplicates_nothing(transactional_db):
    celery_app.control.purge()
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    workers: list[subprocess.Popen] = []
    # Slow enough that the kill lands inside a chunk, not between runs.
    with ChatServer(lambda body, n: Reply(content=answer(body), delay=0.25)) as server:
        try:
            endpoint = ModelEndpointFactory(
                backend=ModelEndpoint.Backend.OPENAI,
                base_url=server.base_url,
                model="judge-model",
                max_concurrency=1,
                params={"max_retries": 1, "backoff_s": 0.01},
            )
            judge = services.judge_create(name="killed", endpoint=endpoint, prompt_version="v1")
            SampleFactory.create_batch(8)
            # get_or_create: an earlier transactional test may have flushed the seeded rubric.
            dimensions = [DimensionFactory(slug="fluency"), DimensionFactory(slug="toxicity")]
            run = services.judge_run_create(judge=judge, dimensions=dimensions)

            workers.append(start_worker())
            services.judge_run_start(run=run, chunk_size=2)
            wait_for(lambda: Judgment.objects.count() >= 4, 120, "the first chunks")
            # Kill while the next chunk is in flight: its requests are half answered.
            wait_for(lambda: len(server.requests) % 4 in (1, 2, 3), 30, "a chunk in flight")
            workers[0].send_signal(signal.SIGKILL)
            workers[0].wait(timeout=10)
            done_at_kill = Judgment.objects.count()
            assert done_at_kill < 16

            redeliver_unacked()
            workers.append(start_worker())
            wait_for(
                lambda: JudgeRun.objects.get(pk=run.pk).status == JudgeRun.Status.COMPLETED,
                120,
                "the run to complete",
            )
        finally:
            celery_app.conf.task_always_eager = previous
            for worker in workers:
                if worker.poll() is None:
                    worker.terminate()
                    try:
                        worker.wait(timeout=20)
                    except subprocess.TimeoutExpired:
                        worker.kill()

    run.refresh_from_db()
    assert run.counts["done"] == 16 and run.counts["failed"] == 0
    per_key = Judgment.objects.values("sample", "dimension").annotate(n=Count("pk"))
    assert len(per_key) == 16 and {row["n"] for row in per_key} == {1}
    assert Rating.objects.filter(rater__judge=judge).count() == 16
    # Only the chunk lost with the first worker was asked twice, and only its 4 keys.
    assert 16 < len(server.requests) <= 16 + 4
