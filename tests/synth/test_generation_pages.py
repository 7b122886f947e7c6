"""From files to pages: import a MediaWiki dump and a reasoning JSONL, generate with
`manage.py generate` (a tiny transformers model on disk, and a local OpenAI-compatible
server), and find the filtered samples on the staff pages with their lang and dir."""

import json

import pytest
import torch
from django.core.management import CommandError, call_command
from django.urls import reverse

from parakh.transitions import RunStatus
from synth.backends import backend_cache_clear
from synth.models import GenerationJob, ModelEndpoint, Sample
from synth.services.generation import generation_job_create, generation_job_start
from tests.factories import SourceFactory
from tests.synth.test_backends import ChatServer, Reply, build_tiny_model
from tests.synth.test_importers import HINDI_PAGES, mediawiki_dump

pytestmark = pytest.mark.django_db

URDU_PAGES = [(7, "لاہور", "لاہور پاکستان کا ایک بڑا شہر ہے۔\n\nیہاں بادشاہی مسجد ہے۔")]


@pytest.fixture(autouse=True)
def fresh_backends():
    backend_cache_clear()
    yield
    backend_cache_clear()


@pytest.fixture(scope="module")
def tiny_generator(tmp_path_factory) -> str:
    torch.manual_seed(0)
    return build_tiny_model(tmp_path_factory.mktemp("tiny-pages"))


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def test_import_then_generate_then_browse_in_every_chosen_language(
    tmp_path, tiny_generator, staff_client, django_capture_on_commit_callbacks, capsys
):
    hindi = tmp_path / "hiwiki.xml"
    hindi.write_text(mediawiki_dump(HINDI_PAGES), encoding="utf-8")
    urdu = tmp_path / "urwiki.xml"
    urdu.write_text(mediawiki_dump(URDU_PAGES, redirect_title=None), encoding="utf-8")
    reasoning = tmp_path / "orca.jsonl"
    reasoning.write_text(
        json.dumps(
            {
                "id": "m1",
                "messages": [
                    {"role": "user", "content": "A train covers 120 km in 2 hours. Speed?"},
                    {"role": "assistant", "content": "120 / 2 = 60 km/h."},
                ],
            }
        )
        + "\n",
        encoding="utf-8",
    )
    call_command("import_sources", str(hindi), "--language", "hi")
    call_command("import_sources", str(urdu), "--language", "ur")
    call_command("import_sources", str(reasoning), "--kind", "reasoning", "--subset", "orca_math")

    ModelEndpoint.objects.create(
        name="tiny", backend="transformers", model=tiny_generator, params={"device": "cpu"}
    )
    with django_capture_on_commit_callbacks(execute=True):
        call_command(
            "generate",
            "--task-type=summarization",
            "--languages=hi,ur",
            "--endpoint=tiny",
            "--param=max_tokens=6",
            "--param=temperature=0",
        )
    out = capsys.readouterr().out
    job = GenerationJob.objects.get(task_type="summarization")
    # Inside the test's transaction the chunks run when the block exits, after the report.
    assert f"Job {job.pk} summarization [v1] running" in out and "hi 0/2, ur 0/1" in out
    assert job.status == RunStatus.COMPLETED
    samples = Sample.objects.filter(job=job)
    assert set(samples.values_list("language", flat=True)) == {"hi", "ur"}
    assert not samples.filter(status=Sample.Status.GENERATED).exists()  # all filtered

    with ChatServer(lambda body, n: Reply(content=body["messages"][-1]["content"])) as server:
        ModelEndpoint.objects.create(
            name="local", backend="openai", model="echo", base_url=server.base_url
        )
        with django_capture_on_commit_callbacks(execute=True):
            call_command(
                "generate",
                "--task-type=translated_reasoning",
                "--languages=hi,ur",
                "--endpoint=local",
            )
    translated = Sample.objects.filter(task_type="translated_reasoning")
    assert sorted(translated.values_list("language", flat=True)) == ["hi", "ur"]
    assert all("120" in s.messages[0]["content"] for s in translated)

    # The sources page counts by language; the job page shows per-language counts.
    page = staff_client.get(reverse("synth:source_list")).content.decode()
    assert 'id="sources-hi"' in page and 'id="sources-ur"' in page and 'id="sources-en"' in page
    page = staff_client.get(reverse("synth:job_detail", args=[job.pk])).content.decode()
    assert 'id="job-language-ur"' in page and "Completed" in page
    assert 'hx-trigger="every 2s"' not in page  # finished: no polling

    # The sample browser filters by language and task type and marks Urdu right-to-left.
    response = staff_client.get(
        reverse("synth:sample_list"), {"language": "ur", "task_type": "summarization"}
    )
    body = response.content.decode()
    urdu_sample = samples.get(language="ur")
    assert f'id="sample-{urdu_sample.pk}"' in body
    assert 'lang="ur" dir="rtl"' in body and 'lang="hi"' not in body
    assert "لاہور" in body


def test_a_running_job_page_polls_and_a_finished_one_stops_polling_with_286(
    staff_client, django_capture_on_commit_callbacks
):
    SourceFactory(language="hi")
    with ChatServer(lambda body, n: Reply(content="सार: दिवाली")) as server:
        endpoint = ModelEndpoint.objects.create(
            name="local", backend="openai", model="m", base_url=server.base_url
        )
        job = generation_job_create(task_type="summarization", languages=["hi"], endpoint=endpoint)
        with django_capture_on_commit_callbacks(execute=False) as queued:
            generation_job_start(job=job)
        url = reverse("synth:job_detail", args=[job.pk])
        page = staff_client.get(url).content.decode()
        assert 'hx-trigger="every 2s"' in page and "0 of 1 done" in page
        partial = staff_client.get(url, headers={"HX-Request": "true"})
        assert partial.status_code == 200
        assert partial.content.decode().lstrip().startswith('<section id="job-progress"')

        queued[0]()  # the chunk runs
        partial = staff_client.get(url, headers={"HX-Request": "true"})
    assert partial.status_code == 286
    text = partial.content.decode()
    assert "1 of 1 done" in text and 'value="100"' in text and "every 2s" not in text


def test_the_start_form_creates_and_starts_a_job_and_cancel_and_resume_work(
    staff_client, django_capture_on_commit_callbacks
):
    SourceFactory(language="hi")
    with ChatServer(lambda body, n: Reply(content="सार: दिवाली")) as server:
        endpoint = ModelEndpoint.objects.create(
            name="local", backend="openai", model="m", base_url=server.base_url
        )
        assert staff_client.get(reverse("synth:job_list")).status_code == 200
        with django_capture_on_commit_callbacks(execute=False):
            response = staff_client.post(
                reverse("synth:job_create"),
                {
                    "task_type": "summarization",
                    "languages": ["hi"],
                    "endpoint": endpoint.pk,
                    "temperature": "0.8",
                    "top_p": "0.9",
                    "samples_per_source": "2",
                },
            )
        job = GenerationJob.objects.get()
        assert response.status_code == 302 and response["Location"] == reverse(
            "synth:job_detail", args=[job.pk]
        )
        assert job.status == RunStatus.RUNNING and job.params["temperature"] == 0.8
        assert job.counts["total"] == 2

        staff_client.post(reverse("synth:job_cancel", args=[job.pk]))
        job.refresh_from_db()
        assert job.status == RunStatus.CANCELLED
        with django_capture_on_commit_callbacks(execute=True):
            staff_client.post(reverse("synth:job_resume", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == RunStatus.COMPLETED and job.counts["samples"] == 2
    assert {r["body"]["temperature"] for r in server.requests} == {0.8}


def test_a_bad_template_version_is_refused_with_the_form_shown_again(staff_client):
    endpoint = ModelEndpoint.objects.create(name="t", backend="transformers", model="x")
    response = staff_client.post(
        reverse("synth:job_create"),
        {
            "task_type": "summarization",
            "languages": ["hi"],
            "endpoint": endpoint.pk,
            "template_version": "v99",
            "temperature": "1",
            "top_p": "0.95",
            "samples_per_source": "1",
        },
    )
    assert response.status_code == 400
    assert "No template summarization/v99" in response.content.decode()
    assert not GenerationJob.objects.exists()
    with pytest.raises(CommandError, match="No endpoint 'nope'"):
        call_command("generate", "--task-type=summarization", "--languages=hi", "--endpoint=nope")


@pytest.mark.parametrize("name", ["synth:source_list", "synth:job_list", "synth:sample_list"])
def test_the_pages_are_staff_only(client, annotator, name):
    client.force_login(annotator)
    assert client.get(reverse(name)).status_code == 302
