"""Import throughput and peak memory of `import_sources` on a generated MediaWiki dump.

    .venv/bin/python bench/import_sources.py [--pages 10000 100000] [--database-url URL]

Each size runs in a fresh process (so peak RSS is that run's) against a database of its own
(default postgres://postgres@127.0.0.1:5432/parakh_bench_import, dropped and recreated).
Goal (issue #3): >= 5 000 passages/s into PostgreSQL, memory flat as the dump grows.
"""

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORDS = (
    "भारत",
    "नदी",
    "पर्वत",
    "गाँव",
    "शहर",
    "त्योहार",
    "संगीत",
    "भाषा",
    "इतिहास",
    "राजा",
    "किसान",
    "खेत",
    "बाज़ार",
    "मंदिर",
    "विद्यालय",
    "पुस्तक",
    "कविता",
    "वर्षा",
    "सूरज",
    "चाँद",
    "लोग",
    "परिवार",
    "भोजन",
    "मिठाई",
    "रंग",
    "दीपक",
    "यात्रा",
)


def write_dump(path: Path, pages: int, seed: int = 7) -> int:
    """A dump of ``pages`` articles, three paragraphs each; returns its size in bytes."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as out:
        out.write(
            '<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.11/" version="0.11">'
            "<siteinfo><sitename>विकिपीडिया</sitename><dbname>hiwiki</dbname>"
            "<base>https://hi.wikipedia.org/wiki/मुखपृष्ठ</base><generator>bench</generator>"
            '<case>first-letter</case><namespaces><namespace key="0" case="first-letter" />'
            "</namespaces></siteinfo>\n"
        )
        for page_id in range(1, pages + 1):
            paragraphs = [
                " ".join(rng.choices(WORDS, k=rng.randint(40, 90))) + "।" for _ in range(3)
            ]
            text = f"'''लेख {page_id}''' [[भारत]] के बारे में है।\n\n" + "\n\n".join(paragraphs)
            out.write(
                f"<page><title>लेख {page_id}</title><ns>0</ns><id>{page_id}</id><revision>"
                f"<id>{page_id}</id><timestamp>2024-01-01T00:00:00Z</timestamp>"
                "<contributor><username>b</username><id>1</id></contributor>"
                "<model>wikitext</model><format>text/x-wiki</format>"
                f'<text bytes="{len(text)}" xml:space="preserve">{text}</text>'
                "<sha1>x</sha1></revision></page>\n"
            )
        out.write("</mediawiki>\n")
    return path.stat().st_size


def run_one(dump: Path, database_url: str) -> dict:
    """In a child process: migrate a fresh database, import, report time and peak RSS."""
    code = f"""
import json, resource, time, django, os
django.setup()
from django.core.management import call_command
from synth.models import Source
call_command("migrate", verbosity=0)
started = time.perf_counter()
call_command("import_sources", {str(dump)!r}, "--language", "hi", "--passage-chars", "600",
             stdout=open(os.devnull, "w"))
seconds = time.perf_counter() - started
print(json.dumps({{"passages": Source.objects.count(), "seconds": seconds,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DEBUG": "false",
        "SECRET_KEY": "bench-only-" + "x" * 50,
        "DJANGO_SETTINGS_MODULE": "parakh.settings",
    }
    env.pop("REDIS_URL", None)
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def recreate_database(database_url: str) -> None:
    import psycopg

    name = database_url.rsplit("/", 1)[1]
    admin_url = database_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/parakh_bench_import"
    )
    args = parser.parse_args()
    print(f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    with tempfile.TemporaryDirectory() as folder:
        for pages in args.pages:
            dump = Path(folder) / f"dump-{pages}.xml"
            size = write_dump(dump, pages)
            recreate_database(args.database_url)
            figures = run_one(dump, args.database_url)
            rate = figures["passages"] / figures["seconds"]
            print(
                f"pages={pages:>7} dump={size / 2**20:7.1f} MiB passages={figures['passages']:>7} "
                f"seconds={figures['seconds']:7.1f} passages/s={rate:8.0f} "
                f"peak_rss={figures['peak_rss_mb']:6.0f} MiB"
            )
            time.sleep(0.1)


if __name__ == "__main__":
    main()
