"""The staff export page: choose criteria, start, watch the row, download the files."""

import json

import pytest
from django.urls import reverse

from evaluation.export import ExportCriteria
from evaluation.models import Dimension, Export
from evaluation.services import export_transition
from tests.factories import HumanRaterFactory, RatingFactory, SampleFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
LIST = reverse("evaluation:export-list")
START = reverse("evaluation:export-start")


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def agreed():
    fluency = Dimension.objects.get(slug="fluency")
    sample = SampleFactory()
    for _ in range(2):
        RatingFactory(sample=sample, dimension=fluency, rater=HumanRaterFactory(), value=2)
    return sample


def form_data(**overrides) -> dict:
    data = {
        "dimensions": ["fluency"],
        "min_human_ratings": "2",
        "max_spread": "1",
        "judge_tolerance": "1",
        "exclude_flagged": "on",
        "formats": ["jsonl", "parquet", "updesh"],
        "min_fluency": "2",
    }
    data.update(overrides)
    return data


def completed_export(client, django_capture_on_commit_callbacks) -> Export:
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(START, form_data())
    assert response.status_code == 302
    return Export.objects.get()


@pytest.mark.parametrize("who", ["anonymous", "annotator"])
def test_exports_are_staff_only(client, annotator, who, media):
    if who == "annotator":
        client.force_login(annotator)
    export = Export.objects.create(criteria={}, formats=["jsonl"], status="completed")
    for url in (
        LIST,
        reverse("evaluation:export-row", args=[export.pk]),
        reverse("evaluation:export-download", args=[export.pk, "manifest.json"]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert reverse("admin:login") in response["Location"]
    assert client.post(START, form_data()).status_code == 302
    assert Export.objects.count() == 1


def test_page_offers_rubric_dimensions_not_flags(staff_client):
    page = staff_client.get(LIST).content.decode()
    assert 'value="fluency"' in page
    assert 'value="flag_offensive"' not in page
    assert 'name="min_cultural_fidelity"' in page
    assert f'action="{START}"' in page
    assert '<span lang="ur" dir="rtl">اردو</span>' in page


def test_start_without_javascript_runs_and_lists_downloads(
    staff_client, staff, media, agreed, django_capture_on_commit_callbacks
):
    export = completed_export(staff_client, django_capture_on_commit_callbacks)
    assert export.status == Export.Status.COMPLETED
    assert export.created_by == staff
    assert export.criteria["min_scores"] == {"fluency": 2}
    page = staff_client.get(LIST).content.decode()
    row = page[page.index(f'id="export-{export.pk}"') :]
    assert "hx-trigger" not in row[: row.index(">")]
    for name in ("manifest.json", "samples.jsonl", "updesh/creative_writing/hin_Deva.parquet"):
        assert reverse("evaluation:export-download", args=[export.pk, name]) in page


def test_start_with_htmx_answers_the_list(staff_client, media, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        response = staff_client.post(START, form_data(), **HTMX)
    assert response.status_code == 200
    assert "exportStarted" in json.loads(response["HX-Trigger"])
    page = response.content.decode()
    assert page.lstrip().startswith('<section class="card" id="exports">')
    export = Export.objects.get()
    # Still pending (the task runs after commit): the row polls its own URL.
    assert f'hx-get="{reverse("evaluation:export-row", args=[export.pk])}"' in page


def test_bad_criteria_come_back_with_errors(staff_client, media):
    response = staff_client.post(START, form_data(dimensions=[], min_fluency="7"))
    assert response.status_code == 400
    page = response.content.decode()
    assert "This field is required." in page
    assert "less than or equal to 2" in page
    response = staff_client.post(START, form_data(dimensions=[]), **HTMX)
    assert response.status_code == 200
    assert response["HX-Retarget"] == "#export-form"
    assert response["HX-Reswap"] == "outerHTML"
    assert response.content.decode().lstrip().startswith('<section class="card" id="export-form">')
    assert not Export.objects.exists()


def test_row_polls_while_running_and_stops_when_done(staff_client, media):
    export = Export.objects.create(
        criteria=ExportCriteria(("fluency",)).to_dict(),
        formats=["jsonl"],
        progress={"scanned": 4, "total": 10, "exported": 1},
    )
    export_transition(export=export, to=Export.Status.RUNNING)
    url = reverse("evaluation:export-row", args=[export.pk])
    response = staff_client.get(url, **HTMX)
    assert response.status_code == 200
    assert 'hx-trigger="every 2s"' in response.content.decode()
    assert 'value="4"' in response.content.decode()
    export_transition(export=export, to=Export.Status.FAILED, error="<script>alert(1)</script>")
    response = staff_client.get(url, **HTMX)
    assert response.status_code == 286
    page = response.content.decode()
    assert "hx-trigger" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>" not in page
    assert staff_client.get(url).status_code == 302


def test_download_streams_recorded_files_only(
    staff_client, media, agreed, django_capture_on_commit_callbacks
):
    export = completed_export(staff_client, django_capture_on_commit_callbacks)
    response = staff_client.get(
        reverse("evaluation:export-download", args=[export.pk, "manifest.json"])
    )
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    manifest = json.loads(b"".join(response.streaming_content))
    assert manifest["counts"]["samples"] == 1
    name = "updesh/creative_writing/hin_Deva.parquet"
    response = staff_client.get(reverse("evaluation:export-download", args=[export.pk, name]))
    assert b"".join(response.streaming_content) == (media / export.directory / name).read_bytes()
    for bad in ("../../etc/passwd", "samples.csv", "updesh"):
        url = reverse("evaluation:export-download", args=[export.pk, bad])
        assert staff_client.get(url).status_code == 404
    pending = Export.objects.create(criteria={}, formats=["jsonl"])
    url = reverse("evaluation:export-download", args=[pending.pk, "manifest.json"])
    assert staff_client.get(url).status_code == 404
