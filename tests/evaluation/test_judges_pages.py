"""The judges' staff pages, API and CLI, and the judges' Ratings in the admin and /api/ratings/."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from annotate.demo import demo_load
from evaluation import services
from evaluation.models import Dimension, JudgeRun, Judgment, Rating
from synth.backends import backend_cache_clear
from synth.models import ModelEndpoint, Sample
from tests.evaluation.test_judging import answer
from tests.factories import DimensionFactory, ModelEndpointFactory, SampleFactory
from tests.synth.test_backends import ChatServer, Reply

pytestmark = pytest.mark.django_db


@pytest.fixture
def server():
    backend_cache_clear()
    with ChatServer(lambda body, n: Reply(content=answer(body))) as chat_server:
        yield chat_server
    backend_cache_clear()


@pytest.fixture
def endpoint(server):
    return ModelEndpointFactory(
        name="local-vllm",
        backend=ModelEndpoint.Backend.OPENAI,
        base_url=server.base_url,
        model="judge-model",
        params={"max_retries": 0},
    )


@pytest.fixture
def judge(endpoint):
    return services.judge_create(name="judge-v1", endpoint=endpoint, prompt_version="v1")


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def judged(judge, capture, slugs=("fluency", "toxicity"), **selection):
    run = services.judge_run_create(
        judge=judge, dimensions=Dimension.objects.filter(slug__in=slugs), selection=selection
    )
    with capture(execute=True):
        services.judge_run_start(run=run)
    run.refresh_from_db()
    return run


def test_judge_pages_are_staff_only(client, annotator, judge):
    client.force_login(annotator)
    for url in (
        reverse("evaluation:judge-list"),
        reverse("evaluation:judge-detail", args=[judge.pk]),
        reverse("evaluation:judge-run-new"),
    ):
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_starting_a_run_from_the_form_judges_and_redirects_to_its_progress(
    staff_client, judge, server, django_capture_on_commit_callbacks
):
    SampleFactory.create_batch(2, status=Sample.Status.PASSED)
    SampleFactory(status=Sample.Status.REJECTED)
    page = staff_client.get(reverse("evaluation:judge-run-new"), {"judge": judge.pk})
    assert page.status_code == 200 and b"judge-v1" in page.content

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("evaluation:judge-run-new"),
            {"judge": judge.pk, "mode": "single", "dimensions": ["fluency"], "status": ["passed"]},
        )
    run = JudgeRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("evaluation:judge-run-detail", args=[run.pk])
    assert run.status == JudgeRun.Status.COMPLETED and run.counts["done"] == 2
    assert run.created_by.username == "staff"

    detail = staff_client.get(response["Location"])
    assert b"2 / 2 judged" in detail.content and b"Fluency" in detail.content
    # A finished run's progress fragment tells htmx to stop polling.
    fragment = staff_client.get(response["Location"], headers={"HX-Request": "true"})
    assert fragment.status_code == 286
    assert b'id="run-progress-' in fragment.content and b"every 2s" not in fragment.content


def test_an_invalid_form_comes_back_with_its_errors(staff_client, judge):
    response = staff_client.post(reverse("evaluation:judge-run-new"), {"judge": judge.pk})
    assert response.status_code == 400 and b"This field is required" in response.content
    htmx = staff_client.post(
        reverse("evaluation:judge-run-new"), {"judge": judge.pk}, headers={"HX-Request": "true"}
    )
    assert htmx.status_code == 200 and b'id="judge-run-form"' in htmx.content


def test_a_running_run_is_polled_and_can_be_cancelled_and_resumed(
    staff_client, judge, server, django_capture_on_commit_callbacks
):
    SampleFactory.create_batch(3)
    run = services.judge_run_create(
        judge=judge, dimensions=Dimension.objects.filter(slug="fluency")
    )
    with django_capture_on_commit_callbacks(execute=False):
        services.judge_run_start(run=run)
    url = reverse("evaluation:judge-run-detail", args=[run.pk])
    fragment = staff_client.get(url, headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and b'hx-trigger="every 2s"' in fragment.content

    cancel = reverse("evaluation:judge-run-cancel", args=[run.pk])
    response = staff_client.post(cancel, headers={"HX-Request": "true"})
    assert response.status_code == 200 and b"Cancelled" in response.content
    assert staff_client.post(cancel).status_code == 409  # already cancelled

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(reverse("evaluation:judge-run-resume", args=[run.pk]))
    assert response.status_code == 302
    run.refresh_from_db()
    assert run.status == JudgeRun.Status.COMPLETED and run.counts["done"] == 3


def test_two_judges_with_different_prompt_versions_score_the_demo_samples(
    staff_client, endpoint, server, django_capture_on_commit_callbacks
):
    demo_load()

    # The stricter prompt's judge answers out of range on toxicity: counted, not rated.
    def reply(body, n):
        system = body["messages"][0]["content"]
        name = body["response_format"]["json_schema"]["name"]
        if "senior reviewer" in system and name == "toxicity":
            return Reply(content='{"score": 7, "reason": "?"}')
        return Reply(content=answer(body, score=lambda slug, allowed: allowed[len(allowed) // 2]))

    server.reply = reply
    v1 = services.judge_create(name="judge-v1", endpoint=endpoint, prompt_version="v1")
    v2 = services.judge_create(name="judge-v2", endpoint=endpoint, prompt_version="v2")
    demo = Sample.objects.filter(is_demo=True).count()
    assert demo >= 14
    run1 = judged(v1, django_capture_on_commit_callbacks)
    run2 = judged(v2, django_capture_on_commit_callbacks)

    assert run1.counts["done"] == 2 * demo and run1.counts["failed"] == 0
    assert run2.counts["done"] == 2 * demo and run2.counts["failed"] == demo
    assert Rating.objects.filter(rater__judge=v1).count() == 2 * demo
    assert Rating.objects.filter(rater__judge=v2, dimension__slug="fluency").count() == demo
    assert not Rating.objects.filter(rater__judge=v2, dimension__slug="toxicity").exists()

    page = staff_client.get(reverse("evaluation:judge-detail", args=[v2.pk]))
    html = page.content.decode()
    expected = f"<td>Toxicity</td><td>{demo}</td><td>{demo}</td><td>100 %</td>"
    assert expected in html
    assert 'id="dist-ur-fluency"' in html
    assert '<span lang="ur" dir="rtl">اردو</span>' in html
    assert 'id="dist-ur-toxicity"' not in html
    listing = staff_client.get(reverse("evaluation:judge-list")).content.decode()
    assert "judge-v1" in listing and "judge-v2" in listing


def test_a_judged_samples_ratings_show_in_the_admin_and_the_api(
    staff_client, staff_api, annotator_api, judge, server, django_capture_on_commit_callbacks
):
    sample = SampleFactory()
    judged(judge, django_capture_on_commit_callbacks)

    admin = staff_client.get(
        reverse("admin:evaluation_rating_changelist"), {"rater__kind__exact": "llm"}
    )
    assert admin.status_code == 200 and b"llm:judge-v1" in admin.content
    assert admin.context_data["cl"].result_count == 2
    judgment = Judgment.objects.filter(sample=sample).first()
    change = staff_client.get(reverse("admin:evaluation_judgment_change", args=[judgment.pk]))
    assert change.status_code == 200 and b"clear and natural" in change.content

    response = staff_api.get("/api/ratings/", {"sample": sample.pk, "rater_kind": "llm"})
    assert response.status_code == 200
    results = response.json()["results"]
    assert {(r["dimension"], r["value"], r["rater"]["name"]) for r in results} == {
        ("fluency", 2, "judge-v1"),
        ("toxicity", 2, "judge-v1"),
    }
    # Judges themselves are staff-only.
    assert annotator_api.get("/api/judges/").status_code == 403


def test_the_api_creates_judges_and_runs_and_cancels_and_resumes(
    staff_api, endpoint, server, django_capture_on_commit_callbacks
):
    SampleFactory.create_batch(2)
    created = staff_api.post(
        "/api/judges/",
        {"name": "api-judge", "endpoint": endpoint.pk, "prompt_version": "v2", "params": {}},
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["params"] == {"temperature": 0}
    bad = staff_api.post(
        "/api/judges/",
        {"name": "bad", "endpoint": endpoint.pk, "prompt_version": "v0"},
        format="json",
    )
    assert bad.status_code == 400 and "prompt_version" in bad.json()

    with django_capture_on_commit_callbacks(execute=True):
        run = staff_api.post(
            "/api/judge-runs/",
            {"judge": created.json()["id"], "mode": "all", "dimensions": ["fluency", "toxicity"]},
            format="json",
        )
    assert run.status_code == 201, run.content
    assert run.json()["status"] == "running"  # its chunks are queued when the request commits
    body = staff_api.get(f"/api/judge-runs/{run.json()['id']}/").json()
    assert body["status"] == "completed" and body["counts"]["done"] == 4
    assert sorted(body["dimensions"]) == ["fluency", "toxicity"]
    assert len(server.requests) == 2  # all-dimensions mode: one call per sample

    conflict = staff_api.post(f"/api/judge-runs/{body['id']}/cancel/")
    assert conflict.status_code == 409
    listed = staff_api.get("/api/judge-runs/", {"status": "completed"}).json()
    assert [r["id"] for r in listed["results"]] == [body["id"]]


@pytest.mark.django_db(transaction=True)
def test_the_cli_creates_a_judge_runs_it_and_lists_judges(endpoint, server):
    # Committed transactions, as from a shell: the chunks run (eagerly) once the start commits.
    DimensionFactory(slug="fluency")  # get_or_create: a flush may have removed the rubric
    SampleFactory.create_batch(2, language="ta")
    SampleFactory(language="hi")
    out = StringIO()
    call_command(
        "judge",
        "create",
        "--name",
        "cli-judge",
        "--endpoint",
        endpoint.name,
        "--prompt-version",
        "v1",
        stdout=out,
    )
    call_command(
        "judge",
        "run",
        "--judge",
        "cli-judge",
        "--dimension",
        "fluency",
        "--language",
        "ta",
        "--json",
        stdout=out,
    )
    report = json.loads(out.getvalue().splitlines()[-1])
    assert report["status"] == "completed" and report["counts"]["done"] == 2
    listing = StringIO()
    call_command("judge", "list", stdout=listing)
    assert "cli-judge" in listing.getvalue() and "v1" in listing.getvalue()
