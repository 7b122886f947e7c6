"""The export's reader threads: committed data read on their own connections, in id order,
chunks never over the chunk size, errors raised in the caller, no thread or connection left.

Transactional tests: a reader thread's connection sees only committed rows.
"""

import json
import threading
import time
from pathlib import Path

import pytest
from django.db import connection

from evaluation import export
from evaluation.export import ExportCriteria, export_write
from evaluation.models import Dimension
from tests.annotate.seed import reseed
from tests.factories import HumanRaterFactory, RatingFactory, SampleFactory

pytestmark = pytest.mark.django_db(transaction=True)

LANGUAGES = ("hi", "ta", "ur", "bn", "mr")


@pytest.fixture
def rated():
    """40 samples over five languages: every fifth spread apart, every seventh flagged."""
    reseed()
    fluency = Dimension.objects.get(slug="fluency")
    offensive = Dimension.objects.get(slug="flag_offensive")
    raters = [HumanRaterFactory(), HumanRaterFactory()]
    made = []
    for n in range(40):
        sample = SampleFactory(language=LANGUAGES[n % len(LANGUAGES)])
        second = 0 if n % 5 == 0 else 2
        RatingFactory(sample=sample, dimension=fluency, rater=raters[0], value=2)
        RatingFactory(sample=sample, dimension=fluency, rater=raters[1], value=second)
        if n % 7 == 0:
            RatingFactory(sample=sample, dimension=offensive, rater=raters[0], value=1)
        made.append(sample)
    return made


def expected_ids(samples, languages=LANGUAGES) -> list[int]:
    return [
        sample.pk
        for n, sample in enumerate(samples)
        if n % 5 and n % 7 and sample.language in languages
    ]


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def reader_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("export-reader")]


@pytest.mark.parametrize("readers", [1, 2, 3])
@pytest.mark.parametrize("languages", [(), ("ta",), ("hi", "ur")])
def test_readers_export_what_the_caller_alone_does(tmp_path, settings, rated, readers, languages):
    assert not connection.in_atomic_block, "reader threads only run outside transactions"
    settings.PARAKH_EXPORT_CHUNK_SIZE = 3
    criteria = ExportCriteria(dimensions=("fluency",), languages=languages)
    settings.PARAKH_EXPORT_READERS = 0
    alone = export_write(criteria=criteria, formats=["jsonl"], directory=tmp_path / "alone")
    settings.PARAKH_EXPORT_READERS = readers
    threaded = export_write(criteria=criteria, formats=["jsonl"], directory=tmp_path / "threads")

    rows = lines(tmp_path / "threads" / "samples.jsonl")
    assert [row["id"] for row in rows] == expected_ids(rated, languages or LANGUAGES)
    assert rows == lines(tmp_path / "alone" / "samples.jsonl")
    assert threaded["counts"] == alone["counts"]
    assert threaded["alpha"] == alone["alpha"]
    assert reader_threads() == []


def test_a_chunk_never_holds_more_than_the_chunk_size(tmp_path, settings, monkeypatch):
    reseed()
    settings.PARAKH_EXPORT_CHUNK_SIZE = 4
    settings.PARAKH_EXPORT_READERS = 2
    # Two Hindi samples, twenty Tamil, then ten Hindi in a row: stripes are cut for the
    # average density of Hindi, so the last one holds all ten.
    hindi = SampleFactory.create_batch(2, language="hi")
    SampleFactory.create_batch(20, language="ta")
    hindi += SampleFactory.create_batch(10, language="hi")
    fluency = Dimension.objects.get(slug="fluency")
    for sample in hindi:
        RatingFactory.create_batch(2, sample=sample, dimension=fluency, value=2)
    sizes: list[int] = []
    rows = export.ChunkQueries.rows

    def counted(self, **bounds):
        found = rows(self, **bounds)
        sizes.append(len(found))
        return found

    monkeypatch.setattr(export.ChunkQueries, "rows", counted)
    manifest = export_write(
        criteria=ExportCriteria(dimensions=("fluency",), languages=("hi",)),
        formats=["jsonl"],
        directory=tmp_path,
    )
    assert max(sizes) == 4
    assert sum(sizes) == 12  # every Hindi sample read once
    assert [row["id"] for row in lines(tmp_path / "samples.jsonl")] == [s.pk for s in hindi]
    assert manifest["counts"]["samples"] == 12


def test_an_error_in_a_reader_is_raised_and_the_readers_stop(
    tmp_path, settings, rated, monkeypatch
):
    settings.PARAKH_EXPORT_CHUNK_SIZE = 2
    settings.PARAKH_EXPORT_READERS = 2
    calls = 0
    ratings = export.ChunkQueries.ratings

    def failing(self, **bounds):
        nonlocal calls
        calls += 1
        if calls == 5:
            raise RuntimeError("the database went away")
        return ratings(self, **bounds)

    monkeypatch.setattr(export.ChunkQueries, "ratings", failing)
    with pytest.raises(RuntimeError, match="the database went away"):
        export_write(
            criteria=ExportCriteria(dimensions=("fluency",)), formats=["jsonl"], directory=tmp_path
        )
    assert reader_threads() == []


def test_a_failing_writer_stops_the_readers(tmp_path, settings, rated, monkeypatch):
    settings.PARAKH_EXPORT_CHUNK_SIZE = 2
    settings.PARAKH_EXPORT_READERS = 2

    def full_disk(self, chunk):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(export.JsonlWriter, "write_chunk", full_disk)
    with pytest.raises(OSError, match="No space left"):
        export_write(
            criteria=ExportCriteria(dimensions=("fluency",)), formats=["jsonl"], directory=tmp_path
        )
    assert reader_threads() == []


def test_reader_connections_are_closed(tmp_path, settings, rated):
    settings.PARAKH_EXPORT_READERS = 3
    settings.PARAKH_EXPORT_CHUNK_SIZE = 2

    def backends() -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            )
            return cursor.fetchone()[0]

    before = backends()
    export_write(
        criteria=ExportCriteria(dimensions=("fluency",)), formats=["jsonl"], directory=tmp_path
    )
    # A backend leaves pg_stat_activity a moment after its client hangs up.
    deadline = time.monotonic() + 5
    while backends() > before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert backends() == before
