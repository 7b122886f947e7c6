"""/api/exports/: create, list, retrieve and download, for staff only."""

import json

import pytest
from django.contrib import admin
from django.urls import reverse

from evaluation.models import Dimension, Export
from tests.factories import HumanRaterFactory, RatingFactory, SampleFactory

pytestmark = pytest.mark.django_db

URL = "/api/exports/"


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def agreed():
    fluency = Dimension.objects.get(slug="fluency")
    sample = SampleFactory(language="ta")
    for value in (1, 2):
        RatingFactory(sample=sample, dimension=fluency, rater=HumanRaterFactory(), value=value)
    return sample


def test_create_runs_and_reports_files(
    staff_api, media, agreed, django_capture_on_commit_callbacks
):
    body = {"dimensions": ["fluency"], "languages": ["ta"], "formats": ["jsonl", "updesh"]}
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_api.post(URL, body, format="json")
    assert response.status_code == 201, response.json()
    created = response.json()
    assert created["status"] == "pending"
    assert created["criteria"]["min_human_ratings"] == 2
    detail = staff_api.get(f"{URL}{created['id']}/").json()
    assert detail["status"] == "completed"
    assert detail["counts"]["samples"] == 1
    names = [entry["name"] for entry in detail["files"]]
    assert names == ["samples.jsonl", "updesh/creative_writing/tam_Taml.parquet"]
    response = staff_api.get(detail["files"][0]["url"])
    assert response.status_code == 200
    (line,) = b"".join(response.streaming_content).decode().splitlines()
    assert json.loads(line)["id"] == agreed.pk
    manifest = json.loads(b"".join(staff_api.get(detail["manifest_url"]).streaming_content))
    assert manifest["files"][0]["sha256"] == detail["files"][0]["sha256"]
    listed = staff_api.get(URL, {"status": "completed"}).json()
    assert [item["id"] for item in listed["results"]] == [created["id"]]


@pytest.mark.parametrize(
    ("body", "field", "named"),
    [
        ({"dimensions": ["fluency"], "formats": ["csv"]}, "formats", "csv"),
        ({"dimensions": ["nope"]}, "dimensions", "nope"),
        ({"dimensions": ["fluency"], "languages": ["xx"]}, "languages", "xx"),
        ({"dimensions": ["fluency"], "min_scores": {"fluency": 9}}, "min_scores", "fluency=9"),
        ({"dimensions": []}, "dimensions", ""),
    ],
)
def test_bad_bodies_are_400s_that_name_the_problem(staff_api, media, body, field, named):
    response = staff_api.post(URL, body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert named in json.dumps(response.json(), ensure_ascii=False)
    assert not Export.objects.exists()


def test_annotators_cannot_see_or_start_exports(annotator_api, media):
    export = Export.objects.create(criteria={}, formats=["jsonl"])
    assert annotator_api.get(URL).status_code == 403
    assert annotator_api.get(f"{URL}{export.pk}/").status_code == 403
    assert annotator_api.get(f"{URL}{export.pk}/download/").status_code == 403
    assert annotator_api.post(URL, {"dimensions": ["fluency"]}, format="json").status_code == 403


def test_download_refuses_unrecorded_names(staff_api, media):
    export = Export.objects.create(criteria={}, formats=["jsonl"], status="completed")
    (media / "exports" / str(export.pk)).mkdir(parents=True)
    (media / "secret.txt").write_text("not part of any export")
    url = f"{URL}{export.pk}/download/"
    assert staff_api.get(url, {"name": "../../secret.txt"}).status_code == 404
    assert staff_api.get(url).status_code == 404  # the manifest is gone from disk


def test_export_admin_pages_load(client, staff, media):
    assert Export in admin.site._registry
    export = Export.objects.create(criteria={"dimensions": ["fluency"]}, formats=["jsonl"])
    client.force_login(staff)
    assert client.get(reverse("admin:evaluation_export_changelist")).status_code == 200
    assert client.get(reverse("admin:evaluation_export_changelist"), {"q": "x"}).status_code == 200
    assert (
        client.get(reverse("admin:evaluation_export_change", args=[export.pk])).status_code == 200
    )
    assert client.get(reverse("admin:evaluation_export_add")).status_code == 200
