"""Benchmark: judgments per second through the judging pipeline with an instant backend,
and prompt tokens per judgment, one dimension per call vs all dimensions in one call.

Everything but the model runs for real: selection, chunking, Celery tasks (eager),
prompt rendering from the versioned files, schema validation, Judgment and Rating writes
in PostgreSQL. The backend answers at once with a valid score, so the figure is the
pipeline's own ceiling. Prompt tokens are counted by the backend as word and punctuation
pieces (regex \\w+|[^\\w\\s]), a stand-in for a model tokenizer that lands near it for
English and undercounts subword-split Indic text; the ratio between modes is what matters.

Uses a separate database (parakh_judging_bench by default; the script refuses any database
whose name does not end in "_bench").

    .venv/bin/python bench/judging.py [--samples 2000] [--chunk-size 64]
"""

import argparse
import json
import os
import platform
import re
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/parakh_judging_bench"
DIMENSIONS = ["instruction_adherence", "fluency", "cultural_fidelity", "toxicity"]
PIECES = re.compile(r"\w+|[^\w\s]")


def setup_django() -> None:
    os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parakh.settings")
    # Tasks run in-process: the benchmark measures the pipeline, not the broker.
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "true"
    os.environ.pop("REDIS_URL", None)
    sys.path.insert(0, str(ROOT))
    name = os.environ["DATABASE_URL"].rsplit("/", 1)[-1]
    if not name.endswith("_bench"):
        raise SystemExit(f"Refusing to use {name!r}: use a database whose name ends in _bench.")
    import psycopg

    base = os.environ["DATABASE_URL"].rsplit("/", 1)[0]
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            admin.execute(f'CREATE DATABASE "{name}"')
    import django

    django.setup()


class InstantBackend:
    """Answers every request at once with the top score of whatever schema it carries."""

    def __init__(self) -> None:
        self.calls = 0
        self.prompt_tokens = 0

    def chat(self, requests):
        from synth.backends import ChatResult

        results = []
        for request in requests:
            self.calls += 1
            tokens = sum(len(PIECES.findall(m["content"])) for m in request.messages)
            self.prompt_tokens += tokens
            schema = request.json_schema
            if request.schema_name == "all":
                properties = schema["properties"]["scores"]["properties"]
                reply = {
                    "scores": {
                        slug: {"score": spec["properties"]["score"]["enum"][-1], "reason": "ok"}
                        for slug, spec in properties.items()
                    }
                }
            else:
                reply = {"score": schema["properties"]["score"]["enum"][-1], "reason": "ok"}
            text = json.dumps(reply)
            results.append(
                ChatResult(
                    text=text,
                    prompt_tokens=tokens,
                    completion_tokens=len(PIECES.findall(text)),
                    finish_reason="stop",
                )
            )
        return results


def seed(samples: int) -> None:
    from django.core.management import call_command
    from django.db import connection

    from synth.languages import LANGUAGES
    from synth.models import Sample
    from synth.services import content_hash

    call_command("migrate", interactive=False, verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE synth_sample, evaluation_rating, evaluation_judgment, "
            "evaluation_judgerun, evaluation_judge, evaluation_rater, synth_modelendpoint CASCADE"
        )
    codes = list(LANGUAGES)
    Sample.objects.bulk_create(
        [
            Sample(
                language=codes[n % len(codes)],
                task_type="creative_writing",
                messages=[
                    {"role": "user", "content": f"त्योहार {n} पर एक छोटी कविता लिखिए।"},
                    {
                        "role": "assistant",
                        "content": "दीपों की कतारें जगमग करती हैं, घर-आँगन में खुशियाँ भरती हैं। " * 3,
                    },
                ],
                generator="bench",
                status="passed",
                content_hash=content_hash("bench-judging", n),
            )
            for n in range(samples)
        ],
        batch_size=5000,
    )


def run_mode(mode: str, chunk_size: int, endpoint) -> dict:
    from evaluation import services
    from evaluation.models import Dimension, Judgment
    from synth.backends import backend_install

    backend = InstantBackend()
    backend_install(endpoint, backend)
    judge = services.judge_create(name=f"bench-{mode}", endpoint=endpoint, prompt_version="v1")
    run = services.judge_run_create(
        judge=judge, dimensions=Dimension.objects.filter(slug__in=DIMENSIONS), mode=mode
    )
    started = time.perf_counter()
    services.judge_run_start(run=run, chunk_size=chunk_size)
    seconds = time.perf_counter() - started
    run.refresh_from_db()
    judgments = Judgment.objects.filter(judge=judge).count()
    assert run.status == "completed" and judgments == run.counts["expected"], run.counts
    return {
        "mode": mode,
        "judgments": judgments,
        "seconds": seconds,
        "per_second": judgments / seconds,
        "calls": backend.calls,
        "prompt_tokens_per_judgment": backend.prompt_tokens / judgments,
        "prompt_tokens_per_call": backend.prompt_tokens / backend.calls,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--chunk-size", type=int, default=64)
    args = parser.parse_args()
    setup_django()
    from synth.models import ModelEndpoint

    seed(args.samples)
    endpoint = ModelEndpoint.objects.create(
        name="bench-instant", backend="openai", base_url="http://127.0.0.1:9/v1", model="instant"
    )
    print(
        f"# bench/judging.py · {datetime.now(UTC):%Y-%m-%d %H:%M} UTC · "
        f"{platform.processor() or platform.machine()} · {os.cpu_count()} CPUs · "
        f"Python {platform.python_version()}"
    )
    print(
        f"{args.samples} samples × {len(DIMENSIONS)} dimensions, chunk size {args.chunk_size}, "
        "Celery eager, PostgreSQL"
    )
    for mode in ("single", "all"):
        r = run_mode(mode, args.chunk_size, endpoint)
        print(
            f"{r['mode']:>6}: {r['judgments']} judgments in {r['seconds']:.2f} s = "
            f"{r['per_second']:,.0f} judgments/s · {r['calls']} calls · "
            f"{r['prompt_tokens_per_judgment']:.0f} prompt tokens/judgment "
            f"({r['prompt_tokens_per_call']:.0f}/call)"
        )


if __name__ == "__main__":
    main()
