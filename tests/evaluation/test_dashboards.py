"""Agreement pages and their JSON/CSV API, through the Django test client."""

import csv
import io

import pytest
from django.core.cache import cache
from django.urls import reverse

from evaluation.models import Judgment
from tests.evaluation.test_agreement import WORKED, WORKED_EXPECTED
from tests.factories import (
    BatchItemFactory,
    DimensionFactory,
    HumanRaterFactory,
    JudgeRaterFactory,
    RatingFactory,
    SampleFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def rated():
    """Hindi fluency: 3 humans on 5 samples, one judge, one failed judgment."""
    dimension = DimensionFactory(slug="fluency", name="Fluency", scale_min=0, scale_max=2)
    samples = SampleFactory.create_batch(5, language="hi")
    humans = [HumanRaterFactory(user=UserFactory(username=f"ann{i}")) for i in range(3)]
    values = [[0, 0, 0], [1, 1, 2], [2, 2, 2], [0, 2, 1], [1, 1, 1]]
    for sample, row in zip(samples, values, strict=True):
        for rater, value in zip(humans, row, strict=True):
            RatingFactory(sample=sample, dimension=dimension, rater=rater, value=value)
    judge = JudgeRaterFactory(judge__name="gpt-judge")
    for sample, value in zip(samples, [0, 1, 2, 2, 1], strict=True):
        RatingFactory(sample=sample, dimension=dimension, rater=judge, value=value)
        Judgment.objects.create(
            judge=judge.judge, sample=sample, dimension=dimension, prompt_version="v1"
        )
    Judgment.objects.create(
        judge=judge.judge,
        sample=SampleFactory(language="hi"),
        dimension=dimension,
        prompt_version="v1",
        error="no score in output",
    )
    return {"dimension": dimension, "samples": samples, "judge": judge.judge}


def computed(client, url, django_capture_on_commit_callbacks):
    """First view queues the recompute (run eagerly on commit); the second shows it."""
    with django_capture_on_commit_callbacks(execute=True):
        first = client.get(url)
    assert first.status_code in (200, 202)
    return client.get(url)


def read_csv(response) -> list[dict]:
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_pages_are_staff_only(client, annotator):
    for url in (
        reverse("evaluation:agreement-overview"),
        reverse("evaluation:agreement-judges"),
        reverse("evaluation:agreement-cell", args=["hi", "fluency"]),
    ):
        assert client.get(url).status_code == 302
        client.force_login(annotator)
        assert client.get(url).status_code == 302
        client.logout()
    assert client.get("/api/agreement/overview/").status_code in (401, 403)


def test_overview_computes_off_the_request_then_shows_alpha_and_freshness(
    staff_client, rated, django_capture_on_commit_callbacks
):
    url = reverse("evaluation:agreement-overview")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first = staff_client.get(url)
    assert first.status_code == 200
    assert b"being computed" in first.content
    assert b'hx-trigger="every 3s"' in first.content
    assert len(callbacks) == 1
    callbacks[0]()

    page = staff_client.get(url)
    html = page.content.decode()
    assert "Up to date with the ratings" in html
    assert "Computed" in html
    assert 'id="cell-hi-fluency"' in html
    assert "5 items · 20 ratings" in html
    assert "gpt-judge" in html
    assert 'lang="hi" dir="ltr"' in html
    assert "every 3s" not in html
    cell = reverse("evaluation:agreement-cell", args=["hi", "fluency"])
    assert cell in html

    # htmx asks for the fragment only.
    fragment = staff_client.get(url, headers={"HX-Request": "true"})
    fragment_html = fragment.content.decode().lstrip()
    assert fragment_html.startswith('<section class="card" id="agreement-report"')


def test_overview_says_when_ratings_changed_and_recomputes_once(
    staff_client, rated, django_capture_on_commit_callbacks
):
    url = reverse("evaluation:agreement-overview")
    computed(staff_client, url, django_capture_on_commit_callbacks)
    RatingFactory(
        sample=rated["samples"][0],
        dimension=rated["dimension"],
        rater=HumanRaterFactory(),
        value=2,
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        stale = staff_client.get(url)
        again = staff_client.get(url)
    assert len(callbacks) == 1
    assert b"recomputing" in stale.content and b"recomputing" in again.content
    assert "5 items · 20 ratings" in stale.content.decode()
    callbacks[0]()
    fresh = staff_client.get(url)
    assert "5 items · 21 ratings" in fresh.content.decode()


def test_overview_csv_has_the_grid_numbers(staff_client, rated, django_capture_on_commit_callbacks):
    url = reverse("agreement-api-overview-csv")
    response = computed(staff_client, url, django_capture_on_commit_callbacks)
    assert response.status_code == 200
    rows = {(row["language"], row["dimension"]): row for row in read_csv(response)}
    row = rows["hi", "fluency"]
    assert row["items"] == "5"
    assert row["human_ratings"] == "15"
    assert row["judge"] == "gpt-judge"
    # Judge 0 1 2 2 1 against the lower medians 0 1 2 1 1: four of five exact.
    assert float(row["judge_exact"]) == pytest.approx(0.8)
    assert float(row["judge_within_one"]) == pytest.approx(1.0)
    assert -1 <= float(row["human_alpha_low"]) <= float(row["human_alpha"])
    assert ("all", "fluency") in rows


def test_drill_down_shows_distribution_confusion_disagreements_and_annotators(
    staff_client, rated, django_capture_on_commit_callbacks
):
    url = reverse("evaluation:agreement-cell", args=["hi", "fluency"])
    page = computed(staff_client, url, django_capture_on_commit_callbacks)
    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="distribution-data"' in html
    assert "chart.umd.min.js" in html
    assert 'id="confusion-table"' in html
    worst = rated["samples"][3]  # humans 0 2 1: spread 2
    assert reverse("admin:synth_sample_change", args=[worst.pk]) in html
    assert "0, 1, 2" in html
    for name in ("ann0", "ann1", "ann2"):
        assert name in html
    assert 'lang="hi" dir="ltr"' in html

    base = "/api/agreement/cells/hi/fluency/"
    distribution = read_csv(staff_client.get(base + "distribution.csv"))
    assert [(r["value"], r["humans"], r["gpt-judge"]) for r in distribution] == [
        ("0", "4", "1"),
        ("1", "6", "2"),
        ("2", "5", "2"),
    ]
    confusion = read_csv(staff_client.get(base + "confusion.csv"))
    assert len(confusion) == 9
    assert sum(int(r["count"]) for r in confusion) == 5
    off = [r for r in confusion if r["judge_value"] != r["consensus_value"] and r["count"] != "0"]
    assert off == [{"judge": "gpt-judge", "judge_value": "2", "consensus_value": "1", "count": "1"}]
    disagreements = read_csv(staff_client.get(base + "disagreements.csv"))
    assert disagreements[0]["sample"] == str(worst.pk)
    assert disagreements[0]["spread"] == "2"
    assert [r["sample"] for r in disagreements] == [str(worst.pk), str(rated["samples"][1].pk)]
    annotators = read_csv(staff_client.get(base + "annotators.csv"))
    assert {r["annotator"] for r in annotators} == {"ann0", "ann1", "ann2"}
    assert all(r["shared_items"] == "5" for r in annotators)
    assert staff_client.get(base + "nonsense.csv").status_code == 404
    assert staff_client.get("/api/agreement/cells/xx/fluency/").status_code == 404


def test_judges_page_and_csv_show_parse_failures(
    staff_client, rated, django_capture_on_commit_callbacks
):
    page = computed(
        staff_client, reverse("evaluation:agreement-judges"), django_capture_on_commit_callbacks
    )
    html = page.content.decode()
    judge = rated["judge"]
    assert f'id="judge-{judge.pk}-fluency"' in html
    assert "parse failures 1 / 6" in html
    rows = read_csv(staff_client.get(reverse("agreement-api-judges-csv")))
    assert rows[0]["judge"] == "gpt-judge"
    assert rows[0]["judgments"] == "6"
    assert float(rows[0]["parse_failure_rate"]) == pytest.approx(1 / 6)
    assert float(rows[0]["exact"]) == pytest.approx(0.8)


def test_filters_by_batch_and_language(staff_client, rated, django_capture_on_commit_callbacks):
    item = BatchItemFactory(sample=rated["samples"][0])
    url = reverse("agreement-api-overview") + f"?batch={item.batch_id}"
    response = computed(staff_client, url, django_capture_on_commit_callbacks)
    report = response.json()["report"]
    assert report["filters"]["sample_ids"] == [rated["samples"][0].pk]
    assert report["grid"]["hi"]["fluency"]["ratings"] == 4
    empty = computed(
        staff_client,
        reverse("agreement-api-overview") + "?language=ta",
        django_capture_on_commit_callbacks,
    )
    assert empty.json()["report"]["grid"] == {}
    assert staff_client.get(reverse("agreement-api-overview") + "?language=xx").status_code == 400


def test_worked_example_through_the_ratings_api_and_the_dashboard_api(
    staff_api, django_capture_on_commit_callbacks
):
    dimensions = [
        DimensionFactory(slug=f"worked_{level}", level=level, scale_min=1, scale_max=5)
        for level in WORKED_EXPECTED
    ]
    samples = SampleFactory.create_batch(12, language="bn")
    raters = [HumanRaterFactory(user=UserFactory(username=f"coder_{c}")) for c in WORKED]
    for rater, row in zip(raters, WORKED.values(), strict=True):
        for sample, value in zip(samples, row, strict=True):
            for dimension in dimensions if value is not None else []:
                payload = {
                    "sample": sample.pk,
                    "dimension": dimension.slug,
                    "rater": rater.pk,
                    "value": value,
                }
                assert staff_api.post("/api/ratings/", payload, format="json").status_code == 201

    with django_capture_on_commit_callbacks(execute=True):
        assert staff_api.get("/api/agreement/overview/").status_code == 202
    body = staff_api.get("/api/agreement/overview/").json()
    assert body["status"] == "fresh"
    for dimension in dimensions:
        humans = body["report"]["grid"]["bn"][dimension.slug]["humans"]
        assert round(humans["value"], 3) == WORKED_EXPECTED[dimension.level]
        detail = staff_api.get(f"/api/agreement/cells/bn/{dimension.slug}/")
        assert (
            round(detail.json()["report"]["humans"]["value"], 3) == WORKED_EXPECTED[dimension.level]
        )


def test_overview_without_ratings_says_how_to_fill_it(
    staff_client, django_capture_on_commit_callbacks
):
    url = reverse("evaluation:agreement-overview")
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.get(url)
    html = staff_client.get(url).content.decode()
    assert 'id="agreement-empty"' in html and "annotate a batch or run a judge" in html
    assert 'id="agreement-grid"' not in html
