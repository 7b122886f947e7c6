"""Benchmark: export of the agreed subset — rows/s and peak memory, JSONL and Parquet.

Seeds a separate database (parakh_bench by default; the script refuses any database whose
name does not end in "_bench") with N samples spread over the 14 languages, each with two
human ratings on fluency, loaded with COPY. Then it exports a few languages (about a fifth
of the rows) and all of them, once per format, each export in a fresh child process so
that its peak resident memory (getrusage ru_maxrss) is its own. Memory flat in the number
of rows means the two sizes peak alike.

    .venv/bin/python bench/export.py                 # 1 000 000 samples
    .venv/bin/python bench/export.py --samples 100000
"""

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/parakh_bench"
SMALL_LANGUAGES = ("hi", "ta", "ur")  # 3 of 14 languages: about 21 % of the rows


def setup_django() -> None:
    os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parakh.settings")
    os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")
    sys.path.insert(0, str(ROOT))
    name = os.environ["DATABASE_URL"].rsplit("/", 1)[-1]
    if not name.endswith("_bench"):
        raise SystemExit(f"Refusing to seed {name!r}: use a database whose name ends in _bench.")
    import django

    django.setup()


def ensure_database() -> None:
    import psycopg

    url = os.environ["DATABASE_URL"]
    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            admin.execute(f'CREATE DATABASE "{name}"')


def seed(samples: int) -> None:
    """COPY `samples` samples and 2 human fluency ratings each, unless already there."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    from evaluation.models import Dimension
    from evaluation.services import rater_for_user
    from synth.languages import LANGUAGES
    from synth.models import Sample

    call_command("migrate", interactive=False, verbosity=0)
    if Sample.objects.count() == samples:
        print(f"Seed: {samples} samples already there.")
        return
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE synth_sample, evaluation_rating CASCADE")
    users = get_user_model()
    raters = [
        rater_for_user(user=users.objects.get_or_create(username=f"bench-{n}")[0]).pk
        for n in (1, 2)
    ]
    fluency = Dimension.objects.get(slug="fluency").pk
    codes = list(LANGUAGES)
    now = datetime.now(UTC).isoformat()
    prompt = "दिवाली पर एक छोटी कविता लिखिए, जिसमें दीपों और परिवार का ज़िक्र हो।"
    answer = "दीपों की कतारें जगमग करती हैं, घर-आँगन में खुशियाँ भरती हैं। " * 3
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(
            "COPY synth_sample (language, task_type, messages, generator, template_version, "
            "params, content_hash, status, filter_report, is_demo, created_at) FROM STDIN"
        ) as copy,
    ):
        for i in range(samples):
            messages = json.dumps(
                [
                    {"role": "user", "content": f"{prompt} ({i})"},
                    {"role": "assistant", "content": answer},
                ],
                ensure_ascii=False,
            )
            copy.write_row(
                (
                    codes[i % len(codes)],
                    "creative_writing",
                    messages,
                    "bench-model",
                    "v1",
                    "{}",
                    f"{i:064x}",
                    "passed",
                    "{}",
                    False,
                    now,
                )
            )
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(id), max(id) FROM synth_sample")
        low, high = cursor.fetchone()
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(
            "COPY evaluation_rating (sample_id, dimension_id, rater_id, value, rationale, "
            "created_at, updated_at) FROM STDIN"
        ) as copy,
    ):
        for sample_id in range(low, high + 1):
            # 90 % agree exactly, the rest are one apart: nearly everything is exported.
            first = 2 if sample_id % 10 else 1
            copy.write_row((sample_id, fluency, raters[0], 2, "", now, now))
            copy.write_row((sample_id, fluency, raters[1], first, "", now, now))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE synth_sample")
        cursor.execute("ANALYZE evaluation_rating")
    print(
        f"Seed: {samples} samples, {2 * samples} ratings in {time.perf_counter() - started:.0f} s."
    )


def child(fmt: str, languages: str) -> None:
    """One export in this process; prints a JSON line of its figures."""
    from evaluation.export import ExportCriteria, export_write

    criteria = ExportCriteria(
        dimensions=("fluency",), languages=tuple(filter(None, languages.split(",")))
    )
    baseline_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        manifest = export_write(criteria=criteria, formats=[fmt], directory=Path(folder))
        seconds = time.perf_counter() - started
        size = sum(entry["bytes"] for entry in manifest["files"])
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rows = manifest["counts"]["samples"]
    print(
        json.dumps(
            {
                "format": fmt,
                "rows": rows,
                "scanned": manifest["counts"]["scanned"],
                "seconds": seconds,
                "rows_per_s": rows / seconds,
                "baseline_mib": baseline_kib / 1024,
                "peak_mib": peak_kib / 1024,
                "file_mib": size / 2**20,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=1_000_000)
    parser.add_argument("--child", nargs=2, metavar=("FORMAT", "LANGUAGES"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    setup_django()
    if args.child:
        child(*args.child)
        return
    ensure_database()
    seed(args.samples)
    from django.conf import settings

    from evaluation.export import chunk_size, row_group_size

    print(
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC · {platform.node()} · "
        f"{platform.processor() or platform.machine()} · {os.cpu_count()} CPUs · "
        f"Python {platform.python_version()} · PostgreSQL {settings.DATABASES['default']['NAME']}"
        f" · chunk {chunk_size()} · row group {row_group_size()}"
    )
    print(f"{'format':8} {'rows':>9} {'s':>7} {'rows/s':>9} {'base MiB':>9} {'peak MiB':>9}")
    for fmt in ("jsonl", "parquet"):
        for languages in (",".join(SMALL_LANGUAGES), ""):
            output = subprocess.run(
                [sys.executable, __file__, "--child", fmt, languages],
                check=True,
                capture_output=True,
                text=True,
                env=os.environ,
            ).stdout
            result = json.loads(output.strip().splitlines()[-1])
            print(
                f"{result['format']:8} {result['rows']:>9} {result['seconds']:>7.1f} "
                f"{result['rows_per_s']:>9.0f} {result['baseline_mib']:>9.0f} "
                f"{result['peak_mib']:>9.0f}"
            )


if __name__ == "__main__":
    main()
