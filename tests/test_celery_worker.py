"""A real Celery worker process against the real Redis, writing to the real PostgreSQL."""

import subprocess
import sys
import time
from pathlib import Path

import pytest
from celery.result import EagerResult

from parakh.celery import app as celery_app
from synth.models import Sample
from synth.tasks import filter_sample, filter_samples
from tests.factories import SampleFactory
from tests.utils import worker_env, worker_options

ROOT = Path(__file__).resolve().parents[1]


def _route(task_name: str) -> str:
    return celery_app.amqp.router.route({}, task_name, (), {})["queue"].name


def test_generation_and_judging_route_to_gpu_and_the_rest_to_cpu():
    assert _route("synth.tasks.generate_chunk") == "gpu"
    assert _route("evaluation.tasks.judging.judge_chunk") == "gpu"
    assert _route(filter_sample.name) == "cpu"
    assert _route(filter_samples.name) == "cpu"


def test_worker_settings_hold_acks_late_and_prefetch_one():
    conf = celery_app.conf
    assert conf.task_acks_late is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_serializer == "json" and conf.accept_content == ["json"]
    assert conf.broker_transport_options["visibility_timeout"] > conf.task_time_limit


@pytest.fixture
def worker(transactional_db):
    """Start `celery worker -Q cpu` on the test database; stop it afterwards."""
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "parakh", *worker_options(queue="cpu", name="test")],
        env=worker_env(),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    celery_app.control.purge()
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        yield process
    finally:
        celery_app.conf.task_always_eager = previous
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.mark.worker
def test_a_real_worker_runs_the_filter_task_and_writes_to_postgresql(worker):
    good = SampleFactory()
    english = SampleFactory(
        messages=[
            {"role": "user", "content": "दिवाली पर एक कविता लिखिए।"},
            {"role": "assistant", "content": "Lamps glow in every home tonight, sweets and songs."},
        ]
    )
    results = [filter_sample.delay(good.pk), filter_sample.delay(english.pk)]
    assert not any(isinstance(result, EagerResult) for result in results)
    deadline = time.monotonic() + 90
    for result in results:
        result.get(timeout=max(1.0, deadline - time.monotonic()))
    assert worker.poll() is None, worker.stdout.read() if worker.stdout else ""

    good.refresh_from_db()
    english.refresh_from_db()
    assert good.status == Sample.Status.PASSED
    assert good.filter_report["script"]["passed"] is True
    assert english.status == Sample.Status.REJECTED
    assert english.filter_report["script"]["value"] == 0.0
