import pytest
from rest_framework.authtoken.models import Token

from evaluation.models import Rating
from tests.factories import (
    DimensionFactory,
    HumanRaterFactory,
    RatingFactory,
    SampleFactory,
)

pytestmark = pytest.mark.django_db


def test_anonymous_requests_are_refused(api_client):
    assert api_client.get("/api/samples/").status_code in (401, 403)
    assert api_client.get("/api/ratings/").status_code in (401, 403)


def test_token_authentication_reads_samples(api_client, staff, password):
    SampleFactory()
    response = api_client.post("/api/auth/token/", {"username": "staff", "password": password})
    assert response.status_code == 200
    token = response.json()["token"]
    assert token == Token.objects.get(user=staff).key
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api_client.get("/api/samples/").json()["count"] == 1


def test_samples_are_filtered_and_paginated(staff_api):
    SampleFactory.create_batch(3, language="ta")
    SampleFactory.create_batch(2, language="ur", task_type="summarization")
    page = staff_api.get("/api/samples/", {"language": "ta", "page_size": 2}).json()
    assert page["count"] == 3 and len(page["results"]) == 2 and page["next"]
    urdu = staff_api.get("/api/samples/", {"task_type": "summarization"}).json()["results"]
    assert {(s["language"], s["flores"]) for s in urdu} == {("ur", "urd_Arab")}
    assert urdu[0]["messages"][0]["role"] == "user"


def test_staff_create_a_sample_once_and_it_is_filtered(
    staff_api, django_capture_on_commit_callbacks
):
    body = {
        "language": "bn",
        "task_type": "creative_writing",
        "generator": "my-model",
        "messages": [
            {"role": "user", "content": "দুর্গাপূজা নিয়ে একটি ছোট কবিতা লেখো।"},
            {"role": "assistant", "content": "ঢাকের তালে কাশফুলে শরৎ এসেছে ঘরে।"},
        ],
    }
    with django_capture_on_commit_callbacks(execute=True):
        first = staff_api.post("/api/samples/", body, format="json")
    assert first.status_code == 201
    again = staff_api.post("/api/samples/", body, format="json")
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    detail = staff_api.get(f"/api/samples/{first.json()['id']}/").json()
    assert detail["status"] == "passed" and detail["filter_report"]["script"]["passed"]


def test_sample_with_bad_messages_is_a_400_naming_the_problem(staff_api):
    body = {
        "language": "bn",
        "task_type": "creative_writing",
        "generator": "m",
        "messages": [{"role": "narrator", "content": "x"}],
    }
    response = staff_api.post("/api/samples/", body, format="json")
    assert response.status_code == 400
    assert "narrator" in str(response.json()["messages"])


def test_annotators_cannot_read_samples_or_write(annotator_api):
    sample = SampleFactory()
    assert annotator_api.get("/api/samples/").status_code == 403
    assert annotator_api.get(f"/api/samples/{sample.pk}/").status_code == 403
    assert annotator_api.patch("/api/dimensions/fluency/", {"name": "x"}).status_code == 403


def test_annotators_read_the_rubric_seeded_by_migration(annotator_api):
    slugs = {
        d["slug"]
        for d in annotator_api.get("/api/dimensions/", {"page_size": 100}).json()["results"]
    }
    expected = {
        "instruction_adherence",
        "fluency",
        "narrative_coherence",
        "answer_adequacy",
        "context_adherence",
        "cultural_fidelity",
        "problematic_content",
        "persona_adherence",
        "topic_adherence",
        "linguistic_plausibility",
        "repetitiveness",
        "toxicity",
    }
    assert expected <= slugs
    fluency = annotator_api.get("/api/dimensions/fluency/").json()
    assert fluency["level"] == "ordinal" and set(fluency["anchors"]) == {"0", "1", "2"}


def test_annotators_see_only_their_own_ratings(annotator, annotator_api):
    mine = RatingFactory(rater=HumanRaterFactory(user=annotator))
    RatingFactory()  # someone else's
    results = annotator_api.get("/api/ratings/").json()["results"]
    assert [r["id"] for r in results] == [mine.pk]


def test_staff_rating_write_upserts_and_checks_the_scale(staff_api):
    sample, rater = SampleFactory(), HumanRaterFactory()
    dimension = DimensionFactory(slug="fluency_test", scale_min=0, scale_max=2)
    body = {"sample": sample.pk, "dimension": "fluency_test", "rater": rater.pk, "value": 2}
    assert staff_api.post("/api/ratings/", body, format="json").status_code == 201
    assert staff_api.post("/api/ratings/", {**body, "value": 1}, format="json").status_code == 201
    assert Rating.objects.get(sample=sample, dimension=dimension, rater=rater).value == 1
    out_of_scale = staff_api.post("/api/ratings/", {**body, "value": 5}, format="json")
    assert out_of_scale.status_code == 400
    assert "outside fluency_test's scale 0–2" in str(out_of_scale.json())


def test_ratings_filter_by_language_dimension_and_rater_kind(staff_api):
    dimension = DimensionFactory(slug="fidelity_test")
    RatingFactory(dimension=dimension, sample=SampleFactory(language="ta"))
    RatingFactory(dimension=dimension, sample=SampleFactory(language="hi"))
    RatingFactory(sample=SampleFactory(language="ta"))
    results = staff_api.get(
        "/api/ratings/", {"language": "ta", "dimension": "fidelity_test", "rater_kind": "human"}
    ).json()["results"]
    assert len(results) == 1 and results[0]["dimension"] == "fidelity_test"


def test_schema_and_docs_are_served_without_a_cdn(client):
    schema = client.get("/api/schema/?format=json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert {"/api/samples/", "/api/dimensions/", "/api/ratings/"} <= set(paths)
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert "cdn" not in html.lower() and "unpkg" not in html.lower()


@pytest.mark.parametrize("value", ["0098-01-01T12:02:25.7+17:10", "0001-01-01T00:00:00+15:00"])
def test_date_filters_with_far_offsets_answer_without_a_server_error(staff_api, value):
    RatingFactory()
    response = staff_api.get("/api/ratings/", {"updated_after": value})
    assert response.status_code in (200, 400)
    if response.status_code == 200:
        assert response.json()["count"] == 1
