"""parakh.prepared: a queryset compiled once, run with new ids, gives what the queryset gives."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.db.models import Count
from django.forms.models import model_to_dict

from parakh.prepared import PreparedQuery
from synth.models import Sample
from tests.factories import (
    DimensionFactory,
    HumanRaterFactory,
    RatingFactory,
    SampleFactory,
    SourceFactory,
)
from tests.utils import base_env

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def samples_from(p):
    return (
        Sample.objects.filter(pk__gte=p.low, language="hi")
        .select_related("source")
        .annotate(rating_count=Count("ratings"))
        .order_by("pk")
    )


def rows(samples):
    return [
        (model_to_dict(s), s.source and model_to_dict(s.source), s.rating_count) for s in samples
    ]


def test_rows_are_the_querysets_own_for_every_id_bound():
    with_source = SampleFactory(source=SourceFactory())
    without_source = SampleFactory()
    SampleFactory(language="ta")
    dimension = DimensionFactory()
    for rater in HumanRaterFactory.create_batch(2):
        RatingFactory(sample=with_source, dimension=dimension, rater=rater, value=1)
    prepared = PreparedQuery(samples_from)

    class Low:
        low = with_source.pk

    for low in (with_source.pk, without_source.pk, without_source.pk + 100):
        Low.low = low
        assert rows(prepared(low=low)) == rows(samples_from(Low))
    first = prepared.first(low=with_source.pk)
    assert first.source.title == with_source.source.title and first.rating_count == 2
    assert prepared.first(low=without_source.pk).source is None
    assert prepared.first(low=without_source.pk + 100) is None


def test_the_queryset_is_built_and_compiled_once():
    builds = []

    def build(p):
        builds.append(p)
        return Sample.objects.filter(pk=p.pk)

    prepared = PreparedQuery(build)
    samples = SampleFactory.create_batch(3)
    assert [prepared.first(pk=s.pk) for s in samples] == samples
    assert len(builds) == 1


def test_values_list_rows_come_back_as_tuples():
    sample = SampleFactory(language="ta")
    prepared = PreparedQuery(
        lambda p: Sample.objects.filter(pk=p.pk).values_list("language", "task_type")
    )
    assert prepared(pk=sample.pk) == [("ta", "creative_writing")]


def test_json_fields_are_converted_as_the_orm_converts_them():
    sample = SampleFactory()
    loaded = PreparedQuery(lambda p: Sample.objects.filter(pk=p.pk)).first(pk=sample.pk)
    assert loaded.messages == sample.messages and isinstance(loaded.messages, list)


def test_a_placeholder_that_does_not_reach_the_sql_as_a_parameter_is_refused_by_name():
    # Used as a Python value, it would hold the placeholder's number for every later call.
    prepared = PreparedQuery(
        lambda p: Sample.objects.filter(pk=p.pk, language="hi" if p.hindi else "ta")
    )
    with pytest.raises(ValueError, match="hindi"):
        prepared(pk=1, hindi=1)


def test_wrong_values_name_what_is_expected():
    prepared = PreparedQuery(lambda p: Sample.objects.filter(pk=p.pk))
    with pytest.raises(TypeError, match=r"\['pk'\]"):
        prepared(id=1)


def prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements: PostgreSQL")
def test_on_postgresql_the_statement_is_prepared_on_the_server():
    sample = SampleFactory()
    prepared = PreparedQuery(lambda p: Sample.objects.filter(pk=p.pk, generator="test-model"))
    assert prepared.first(pk=sample.pk) == sample
    # Bound on the server: the statement holds $n parameters, not the values.
    assert any(
        'FROM "synth_sample"' in statement and '"synth_sample"."generator" = $' in statement
        for statement in prepared_statements()
    )


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements: PostgreSQL")
def test_with_prepared_statements_off_nothing_is_prepared(monkeypatch):
    sample = SampleFactory()
    connection.ensure_connection()
    # What DATABASE_PREPARED_STATEMENTS=false gives the connection (the settings test below).
    monkeypatch.setattr(connection.connection, "prepare_threshold", None)
    before = prepared_statements()
    prepared = PreparedQuery(
        lambda p: Sample.objects.filter(pk=p.pk, status=Sample.Status.REJECTED)
    )
    assert prepared.first(pk=sample.pk) is None
    assert prepared_statements() == before


@pytest.mark.parametrize(("value", "threshold"), [("true", "5"), ("false", "None")])
def test_database_prepared_statements_sets_psycopgs_threshold(value, threshold):
    code = (
        "from django.conf import settings; "
        "print(settings.DATABASES['default'].get('OPTIONS', {}).get('prepare_threshold'))"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env={
            **base_env(),
            "DEBUG": "true",
            "DATABASE_URL": os.environ["DATABASE_URL"],
            "DATABASE_PREPARED_STATEMENTS": value,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == threshold
