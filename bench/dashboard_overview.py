"""Agreement overview with 1 M ratings over 14 languages x 6 dimensions: the cold computation
(what the cpu-queue task does) and the warm page (what a request does: read the cache,
check the ratings version, render).

Uses its own database (default parakh_bench_agreement, apart from other benchmarks'; created
and migrated here, its ratings replaced on every run) and the Redis DB of REDIS_URL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/parakh_bench_agreement \
    REDIS_URL=redis://127.0.0.1:6379/6 .venv/bin/python bench/dashboard_overview.py
"""

import argparse
import io
import os
import platform
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/parakh_bench_agreement")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("STATIC_MANIFEST", "false")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parakh.settings")


def ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def populate(n_ratings: int, humans_per_sample: int, seed: int) -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from evaluation.models import Dimension, Judge, Rater, Rating
    from synth.languages import LANGUAGES
    from synth.models import ModelEndpoint, Sample

    rng = np.random.default_rng(seed)
    with transaction.atomic():
        Rating.objects.all().delete()
        Sample.objects.filter(generator="bench").delete()
        dimensions = list(Dimension.objects.filter(kind=Dimension.Kind.RUBRIC, is_active=True)[:6])
        assert len(dimensions) == 6, "the seeded rubric has at least six dimensions"
        user_model = get_user_model()
        humans = []
        for i in range(30):
            user, _ = user_model.objects.get_or_create(username=f"bench-annotator-{i}")
            humans.append(Rater.objects.get_or_create(user=user, kind=Rater.Kind.HUMAN)[0])
        endpoint, _ = ModelEndpoint.objects.get_or_create(
            name="bench-endpoint", defaults={"backend": "transformers", "model": "bench"}
        )
        judge, _ = Judge.objects.get_or_create(
            name="bench-judge", defaults={"endpoint": endpoint, "prompt_version": "v1"}
        )
        judge_rater = Rater.objects.get_or_create(judge=judge, kind=Rater.Kind.LLM)[0]

        per_sample = (humans_per_sample + 1) * len(dimensions)
        n_samples = n_ratings // per_sample
        codes = list(LANGUAGES)
        samples = Sample.objects.bulk_create(
            [
                Sample(
                    language=codes[i % len(codes)],
                    task_type="creative_writing",
                    messages=[
                        {"role": "user", "content": f"bench prompt {i}"},
                        {"role": "assistant", "content": f"bench answer {i}"},
                    ],
                    generator="bench",
                    content_hash=f"{i:064x}",
                )
                for i in range(n_samples)
            ],
            batch_size=5000,
        )
        buffer = io.StringIO()
        for dimension in dimensions:
            span = dimension.scale_max - dimension.scale_min
            truth = rng.integers(0, span + 1, size=n_samples)
            for sample, t in zip(samples, truth.tolist(), strict=True):
                chosen = rng.choice(len(humans), size=humans_per_sample, replace=False)
                noise = rng.choice([-1, 0, 0, 0, 1], size=humans_per_sample + 1)
                values = np.clip(t + noise, 0, span) + dimension.scale_min
                for rater_index, value in zip(chosen.tolist(), values[:-1].tolist(), strict=True):
                    buffer.write(
                        f"{sample.pk}\t{dimension.pk}\t{humans[rater_index].pk}\t{value}\n"
                    )
                buffer.write(f"{sample.pk}\t{dimension.pk}\t{judge_rater.pk}\t{values[-1]}\n")
        buffer.seek(0)
        with connection.cursor() as cursor:
            table = Rating._meta.db_table
            # rationale and the timestamps are the same for every row: fill them in SQL.
            cursor.execute(
                "CREATE TEMP TABLE bench_rating (sample_id bigint, dimension_id bigint, "
                "rater_id bigint, value smallint) ON COMMIT DROP"
            )
            with cursor.connection.cursor().copy("COPY bench_rating FROM STDIN") as copy:
                while chunk := buffer.read(1 << 20):
                    copy.write(chunk)
            cursor.execute(
                f"INSERT INTO {table} (sample_id, dimension_id, rater_id, value, rationale, "
                "created_at, updated_at) SELECT sample_id, dimension_id, rater_id, value, '', "
                "now(), now() FROM bench_rating"
            )
        cursor_count = Rating.objects.count()
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Rating._meta.db_table}")
    print(f"populated: {cursor_count:,} ratings on {n_samples:,} samples")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ratings", type=int, default=1_000_000)
    parser.add_argument("--humans-per-sample", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--skip-populate", action="store_true")
    args = parser.parse_args()

    ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from evaluation.selectors import AgreementFilter, ratings_version
    from evaluation.services import agreement_report_refresh
    from tests.factories import StaffFactory

    call_command("migrate", verbosity=0)
    start = time.perf_counter()
    if not args.skip_populate:
        populate(args.ratings, args.humans_per_sample, seed=1)
    populate_s = time.perf_counter() - start

    start = time.perf_counter()
    agreement_report_refresh(filters=AgreementFilter())
    cold_s = time.perf_counter() - start

    staff = StaffFactory(username="bench-staff")
    client = Client(HTTP_HOST="localhost")
    client.force_login(staff)
    client.get("/evaluation/agreement/")  # connections and template loading
    page_ms, version_ms = [], []
    for _ in range(args.repeat):
        start = time.perf_counter()
        response = client.get("/evaluation/agreement/")
        page_ms.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200 and b"Up to date" in response.content
        start = time.perf_counter()
        ratings_version()
        version_ms.append((time.perf_counter() - start) * 1000)

    print(f"date: {datetime.now(UTC).isoformat(timespec='seconds')}")
    print(
        f"machine: {platform.node()} {platform.machine()} {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}"
    )
    print(f"populate (bulk_create + COPY): {populate_s:.1f} s")
    print(f"cold report (task body: fetch, 84 + 6 cells, 1000 resamples each): {cold_s:.1f} s")
    print(
        f"warm overview page: median {statistics.median(page_ms):.1f} ms, "
        f"max {max(page_ms):.1f} ms over {args.repeat} requests (goal <= 150 ms)"
    )
    print(f"  of which the ratings-version query: median {statistics.median(version_ms):.1f} ms")


if __name__ == "__main__":
    main()
