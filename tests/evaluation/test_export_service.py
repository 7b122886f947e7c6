"""Export rows: created by the service, run once on the cpu queue, failures recorded."""

import json

import pytest
from django.core.exceptions import ValidationError

from evaluation.export import ExportCriteria
from evaluation.models import Dimension, Export
from evaluation.services import export_create, export_run, export_transition
from evaluation.tasks.exports import run_export
from tests.factories import HumanRaterFactory, RatingFactory, SampleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def agreed_samples():
    fluency = Dimension.objects.get(slug="fluency")
    raters = [HumanRaterFactory(), HumanRaterFactory()]
    made = [SampleFactory(language="hi"), SampleFactory(language="ta"), SampleFactory()]
    for sample, values in zip(made, [(2, 2), (1, 2), (0, 2)], strict=True):
        for rater, value in zip(raters, values, strict=True):
            RatingFactory(sample=sample, dimension=fluency, rater=rater, value=value)
    return made


def test_export_runs_on_commit_and_writes_its_files(
    media, agreed_samples, staff, django_capture_on_commit_callbacks
):
    criteria = ExportCriteria(dimensions=("fluency",))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        export = export_create(criteria=criteria, formats=["updesh", "jsonl"], created_by=staff)
        assert Export.objects.get().status == Export.Status.PENDING
    assert len(callbacks) == 1
    export.refresh_from_db()
    assert export.status == Export.Status.COMPLETED
    assert export.formats == ["jsonl", "updesh"]
    assert export.created_by == staff
    assert export.started_at <= export.finished_at
    assert export.counts["samples"] == 2
    assert export.counts["languages"] == {"hi": 1, "ta": 1}
    assert export.progress == {"scanned": 3, "total": 3, "exported": 2}
    folder = media / "exports" / str(export.pk)
    assert export.directory == f"exports/{export.pk}"
    assert export.manifest_path == f"exports/{export.pk}/manifest.json"
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["files"] == export.files
    assert [f["name"] for f in export.files] == [
        "samples.jsonl",
        "updesh/creative_writing/hin_Deva.parquet",
        "updesh/creative_writing/tam_Taml.parquet",
    ]
    assert not (media / "exports" / f"{export.pk}.partial").exists()


def test_a_finished_export_is_not_redone(media, agreed_samples, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        export = export_create(criteria=ExportCriteria(dimensions=("fluency",)), formats=["jsonl"])
    export.refresh_from_db()
    manifest = media / export.manifest_path
    before = manifest.read_bytes()
    SampleFactory()  # new data must not sneak into a finished export
    assert run_export.delay(export.pk).get() == Export.Status.COMPLETED
    assert manifest.read_bytes() == before


def test_a_running_export_is_left_to_its_worker(media, agreed_samples):
    export = Export.objects.create(
        criteria=ExportCriteria(("fluency",)).to_dict(), formats=["jsonl"]
    )
    export_transition(export=export, to=Export.Status.RUNNING)
    assert export_run(export_id=export.pk).status == Export.Status.RUNNING
    assert not (media / "exports").exists()
    assert export_run(export_id=export.pk + 1000) is None


def test_a_failure_is_recorded_on_the_row(settings, tmp_path, agreed_samples):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the media folder should be")
    settings.MEDIA_ROOT = blocker
    export = Export.objects.create(
        criteria=ExportCriteria(("fluency",)).to_dict(), formats=["jsonl"]
    )
    result = export_run(export_id=export.pk)
    export.refresh_from_db()
    assert result.status == export.status == Export.Status.FAILED
    assert "Error" in export.error
    assert export.finished_at is not None
    assert export.files == []


def test_bad_criteria_create_nothing(media):
    with pytest.raises(ValidationError) as raised:
        export_create(criteria=ExportCriteria(dimensions=("nonsense",)), formats=["jsonl"])
    assert "nonsense" in str(raised.value)
    with pytest.raises(ValidationError) as raised:
        export_create(criteria=ExportCriteria(dimensions=("fluency",)), formats=["csv"])
    assert "csv" in str(raised.value)
    assert not Export.objects.exists()


def test_the_task_goes_to_the_cpu_queue():
    from parakh.celery import app

    route = app.amqp.router.route({}, run_export.name)
    assert route["queue"].name == "cpu"
