"""Generation pipeline overhead: samples per second through Celery + Redis + PostgreSQL.

    .venv/bin/python bench/pipeline.py [--samples 5000] [--workers 2] [--chunk-size 100]

The model is an instant OpenAI-compatible server on 127.0.0.1 (it answers each request at
once), so what is measured is everything else: fan-out of chunks onto the gpu queue, the
workers' idempotency look-ups, the real openai backend's HTTP calls, sample rows, counters
and the filter tasks queued per batch. Timed from generation_job_start until the job is
completed. Runs against a database of its own (default
postgres://postgres@127.0.0.1:5432/parakh_bench_pipeline, dropped and recreated).
Goal (issue #3): >= 1 000 samples/s.
"""

import argparse
import asyncio
import json
import os
import platform
import queue
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ANSWER = json.dumps(
    {
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "दिवाली रोशनी का त्योहार है।"},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 50, "completion_tokens": 8},
    }
).encode()


RESPONSE = (
    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
    + f"content-length: {len(ANSWER)}\r\n\r\n".encode()
    + ANSWER
)


async def _answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Keep-alive HTTP/1.1: read each request's head and body, answer the canned reply at
    once. No header parsing beyond content-length: http.server's (email.parser, a thread
    per connection) capped the figure at the harness's speed, not the pipeline's."""
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            # One write: status, headers and body in a single segment, so Nagle's algorithm
            # and the client's delayed ACK cannot add 40 ms to every answer.
            writer.write(RESPONSE)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


def start_instant_server() -> int:
    """The instant OpenAI-compatible server on an event loop of its own thread; its port."""
    ready: queue.Queue = queue.Queue()

    def serve() -> None:
        loop = asyncio.new_event_loop()
        server = loop.run_until_complete(
            asyncio.start_server(_answer, "127.0.0.1", 0, backlog=1024)
        )
        ready.put(server.sockets[0].getsockname()[1])
        loop.run_forever()

    threading.Thread(target=serve, daemon=True).start()
    return ready.get(timeout=10)


def recreate_database(database_url: str) -> None:
    import psycopg

    name = database_url.rsplit("/", 1)[1]
    admin_url = database_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--chunk-size", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/parakh_bench_pipeline"
    )
    parser.add_argument(
        "--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/10")
    )
    args = parser.parse_args()

    recreate_database(args.database_url)
    os.environ.update(
        {
            "DATABASE_URL": args.database_url,
            "REDIS_URL": args.redis_url,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "DEBUG": "false",
            "SECRET_KEY": os.environ.get("SECRET_KEY") or "bench-only-" + "x" * 50,
            "DJANGO_SETTINGS_MODULE": "parakh.settings",
            "LOG_LEVEL": "WARNING",
        }
    )
    import django

    django.setup()
    from django.core.management import call_command

    from parakh.celery import app
    from parakh.transitions import FINISHED
    from synth.models import ModelEndpoint, Source
    from synth.services.generation import generation_job_create, generation_job_start
    from synth.services.sources import content_hash

    call_command("migrate", verbosity=0)
    base_url = f"http://127.0.0.1:{start_instant_server()}/v1"

    texts = [f"अनुच्छेद {n}: दिवाली रोशनी का त्योहार है।" for n in range(args.samples)]
    Source.objects.bulk_create(
        [
            Source(kind="wikipedia", language="hi", text=t, content_hash=content_hash("b", t))
            for t in texts
        ],
        batch_size=2000,
    )
    endpoint = ModelEndpoint.objects.create(
        name="instant",
        backend="openai",
        model="instant",
        base_url=base_url,
        max_concurrency=16,
        params={"max_retries": 0},
    )
    app.control.purge()
    workers = [
        subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "parakh", "worker", "-Q", "gpu",
                "--pool=solo", "--without-gossip", "--without-mingle", "--without-heartbeat",
                "-n", f"bench-{uuid.uuid4().hex[:6]}@%h", "--loglevel=WARNING",
            ],
            cwd=ROOT,
            env={**os.environ, "DATABASE_CONN_MAX_AGE": "60"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(args.workers)
    ]  # fmt: skip
    try:
        time.sleep(5)  # the workers connect and import Django before the clock starts
        job = generation_job_create(
            task_type="summarization",
            languages=["hi"],
            endpoint=endpoint,
            params={"chunk_size": args.chunk_size, "batch_size": args.batch_size},
        )
        started = time.perf_counter()
        generation_job_start(job=job)
        while True:
            job.refresh_from_db()
            if job.status in FINISHED:
                break
            time.sleep(0.05)
        seconds = time.perf_counter() - started
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)
        app.control.purge()  # the filter tasks, on the cpu queue no worker here serves
    samples = job.counts.get("samples", 0)
    print(
        json.dumps(
            {
                "benchmark": "generation pipeline overhead (instant backend)",
                "date": datetime.now(UTC).isoformat(timespec="seconds"),
                "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
                "status": job.status,
                "samples": samples,
                "workers": args.workers,
                "chunk_size": args.chunk_size,
                "batch_size": args.batch_size,
                "seconds": round(seconds, 2),
                "samples_per_s": round(samples / seconds, 1),
                "goal_samples_per_s": 1000,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
