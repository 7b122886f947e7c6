"""Generation jobs end to end through the real backends: a local OpenAI-compatible server
over HTTP, and a tiny random Llama on disk for the transformers backend (no downloads)."""

import pytest
import torch

from parakh.transitions import RunStatus
from synth import generation as gen
from synth.backends import BackendUnavailable, backend_cache_clear
from synth.models import GenerationCall, GenerationJob, ModelEndpoint, Sample, Source
from synth.services.generation import (
    generation_chunk_process,
    generation_job_cancel,
    generation_job_create,
    generation_job_resume,
    generation_job_start,
)
from synth.task_types import TaskType
from tests.factories import SourceFactory
from tests.synth.test_backends import ChatServer, Reply, build_tiny_model

pytestmark = pytest.mark.django_db

MULTI_PHASE = {TaskType.MULTIHOP_QA, TaskType.CREATIVE_WRITING, TaskType.MULTITURN_DIALOGUE}


@pytest.fixture(autouse=True)
def fresh_backends():
    backend_cache_clear()
    yield
    backend_cache_clear()


def _phase(body: dict) -> str:
    """Which template phase a request comes from, read off its prompt."""
    prompt = body["messages"][-1]["content"]
    if "Write one question" in prompt:
        return "question"
    if "Question:" in prompt:
        return "answer"
    return "other"


def hindi_reply(body, number):
    return Reply(content=f"{_phase(body)} उत्तर {number} दीपावली पर्व")


@pytest.fixture
def server():
    with ChatServer(hindi_reply) as running:
        yield running


def openai_endpoint(server, **params) -> ModelEndpoint:
    return ModelEndpoint.objects.create(
        name=f"local-{server.base_url}",
        backend="openai",
        model="local-instant",
        base_url=server.base_url,
        params={"max_retries": 0, "backoff_s": 0, **params},
    )


def hindi_and_tamil_sources() -> list[Source]:
    return [
        SourceFactory(language="hi", title="दिवाली", text="दिवाली रोशनी का त्योहार है।"),
        SourceFactory(language="hi", title="होली", text="होली रंगों का त्योहार है।"),
        SourceFactory(language="ta", title="பொங்கல்", text="பொங்கல் அறுவடைத் திருநாள்."),
    ]


@pytest.mark.parametrize("task_type", TaskType.values)
def test_every_task_type_has_a_versioned_template_file_that_renders(task_type):
    version = gen.latest_template_version(task_type)
    template = gen.load_template(task_type, version)
    assert template.path.is_file() and template.path.parent.name == task_type
    assert version in gen.template_versions(task_type)
    if task_type in MULTI_PHASE:
        assert len(template.phases) >= 2
    source = Source(
        kind="reasoning",
        language="en",
        title="t",
        text="A {braced} passage.",
        meta={
            "messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]
        },
    )
    variables = gen.source_variables(source=source, language="ur")
    messages = gen.phase_messages(template.phases[0], variables)
    assert messages[-1]["role"] == "user"
    assert "Urdu" in " ".join(m["content"] for m in messages)
    params = gen.effective_params(template, {"top_p": 0.5})
    assert params["top_p"] == 0.5 and params["temperature"] in (1.0, 0.3)


def test_selective_translation_check_names_the_numbers_formulae_code_and_urls_that_were_lost():
    source = "If x = 12 and y = 3.5, compute $x^2 + y$ with `pow(x, 2)`; see https://example.org/a."
    assert gen.protected_spans(source) == [
        "12",
        "3.5",
        "$x^2 + y$",
        "`pow(x, 2)`",
        "https://example.org/a",
    ]
    kept = "अगर x = 12 और y = 3.5, तो $x^2 + y$ को `pow(x, 2)` से निकालिए; https://example.org/a देखें।"
    assert gen.missing_protected(source, kept) == []
    lost = "अगर x = बारह और y = 3.5, तो x² + y निकालिए।"
    assert gen.missing_protected(source, lost) == [
        "12",
        "$x^2 + y$",
        "`pow(x, 2)`",
        "https://example.org/a",
    ]


def test_a_multihop_job_stores_one_filtered_sample_per_source_in_chat_format(
    server, staff, django_capture_on_commit_callbacks
):
    sources = hindi_and_tamil_sources()
    endpoint = openai_endpoint(server)
    job = generation_job_create(
        task_type="multihop_qa",
        languages=["hi", "ta"],
        endpoint=endpoint,
        params={"chunk_size": 2},
        created_by=staff,
    )
    assert job.template_version == "v1" and job.status == RunStatus.PENDING

    with django_capture_on_commit_callbacks(execute=True):
        generation_job_start(job=job)

    job.refresh_from_db()
    assert job.status == RunStatus.COMPLETED and job.finished_at is not None
    assert job.counts["total"] == 3 and job.counts["chunks"] == 2
    assert job.counts["samples"] == 3 and job.counts["failed"] == 0
    assert job.counts["by_language"]["hi"] == {"total": 2, "samples": 2, "failed": 0}
    assert job.counts["by_language"]["ta"] == {"total": 1, "samples": 1, "failed": 0}
    # Two phases per sample, sampled with the paper's defaults.
    assert len(server.requests) == 6
    assert {r["body"]["temperature"] for r in server.requests} == {1.0}
    assert {r["body"]["top_p"] for r in server.requests} == {0.95}
    assert sorted(_phase(r["body"]) for r in server.requests) == ["answer"] * 3 + ["question"] * 3

    samples = Sample.objects.filter(job=job).order_by("source_id")
    assert [s.source for s in samples] == sources
    first = samples[0]
    assert first.language == "hi" and first.task_type == "multihop_qa"
    assert [m["role"] for m in first.messages] == ["user", "assistant"]
    assert first.messages[0]["content"].startswith(sources[0].text)
    assert "question उत्तर" in first.messages[0]["content"]
    assert first.messages[1]["content"].startswith("answer उत्तर")
    assert first.generator == "local-instant" and first.template_version == "v1"
    assert first.params["temperature"] == 1.0 and first.params["top_p"] == 0.95
    assert set(first.params["calls"]) == {"question", "answer"}
    # Queued to the filters once stored: none is left unfiltered.
    assert not samples.filter(status=Sample.Status.GENERATED).exists()


def test_a_rerun_chunk_reuses_stored_phases_and_creates_no_duplicate(
    django_capture_on_commit_callbacks,
):
    sources = hindi_and_tamil_sources()
    ids = [source.pk for source in sources]
    outage = {"on": True}

    def reply(body, number):
        if outage["on"] and _phase(body) == "answer":
            return Reply(status=503, body=b"overloaded")
        return hindi_reply(body, number)

    with ChatServer(reply) as server:
        job = generation_job_create(
            task_type="multihop_qa",
            languages=["hi", "ta"],
            endpoint=openai_endpoint(server),
            params={"temperature": 0.7, "max_tokens": 64},
        )
        # Started, but its queued chunk is left unrun: this test runs the chunk itself.
        with django_capture_on_commit_callbacks(execute=False) as queued:
            generation_job_start(job=job)
        assert len(queued) == 1

        with pytest.raises(BackendUnavailable):
            generation_chunk_process(job_id=job.pk, source_ids=ids)
        assert Sample.objects.filter(job=job).count() == 0
        assert GenerationCall.objects.filter(job=job, phase="question", error="").count() == 3
        assert len(server.requests) == 6  # three questions, three failed answers

        outage["on"] = False
        server.requests.clear()
        assert generation_chunk_process(job_id=job.pk, source_ids=ids) == 3
        # Only the answers are asked again: the questions were finished calls.
        assert [_phase(r["body"]) for r in server.requests] == ["answer"] * 3
        assert {r["body"]["temperature"] for r in server.requests} == {0.7}

        server.requests.clear()
        assert generation_chunk_process(job_id=job.pk, source_ids=ids) == 0
        assert server.requests == []

    job.refresh_from_db()
    assert job.status == RunStatus.COMPLETED
    assert Sample.objects.filter(job=job).count() == 3
    assert len(set(Sample.objects.filter(job=job).values_list("content_hash", flat=True))) == 3


def test_a_cancelled_job_stops_and_resumes_where_it_was(server, django_capture_on_commit_callbacks):
    sources = hindi_and_tamil_sources()
    job = generation_job_create(
        task_type="summarization",
        languages=["hi", "ta"],
        endpoint=openai_endpoint(server),
        params={"chunk_size": 1},
    )
    with django_capture_on_commit_callbacks(execute=False) as queued:
        generation_job_start(job=job)
    assert len(queued) == 3
    # The first chunk runs, then the job is cancelled before the others.
    generation_chunk_process(job_id=job.pk, source_ids=[sources[0].pk])
    job = generation_job_cancel(job=job)
    assert job.status == RunStatus.CANCELLED
    assert generation_chunk_process(job_id=job.pk, source_ids=[sources[1].pk]) == 0
    assert len(server.requests) == 1

    with django_capture_on_commit_callbacks(execute=True):
        job = generation_job_resume(job=job)
    job.refresh_from_db()
    assert job.status == RunStatus.COMPLETED
    assert job.counts["samples"] == 3
    assert len(server.requests) == 3  # the first source was not asked twice
    assert Sample.objects.filter(job=job).count() == 3


def test_selective_translation_keeps_numbers_and_a_lost_number_is_a_recorded_failure(
    django_capture_on_commit_callbacks,
):
    Source.objects.create(
        kind="reasoning",
        language="en",
        title="orca-math 1",
        text="user: What is 12 + 30?\n\nassistant: 12 + 30 = 42.",
        content_hash="a" * 64,
        meta={
            "messages": [
                {"role": "user", "content": "What is 12 + 30? See https://example.org/add."},
                {"role": "assistant", "content": "12 + 30 = 42."},
            ]
        },
    )

    def reply(body, number):
        text = body["messages"][-1]["content"].split("\n\n", 1)[1]
        # A faithful Hindi translation, except that the Tamil one drops the 42 of the answer.
        if "Tamil" in body["messages"][0]["content"] and "42" in text:
            return Reply(content="12 + 30 = நாற்பத்திரண்டு.")
        return Reply(content=f"अनुवाद: {text}")

    with ChatServer(reply) as server:
        job = generation_job_create(
            task_type="translated_reasoning",
            languages=["hi", "ta"],
            endpoint=openai_endpoint(server),
        )
        with django_capture_on_commit_callbacks(execute=True):
            generation_job_start(job=job)

    job.refresh_from_db()
    assert job.status == RunStatus.COMPLETED
    assert job.counts["by_language"]["hi"] == {"total": 1, "samples": 1, "failed": 0}
    assert job.counts["by_language"]["ta"] == {"total": 1, "samples": 0, "failed": 1}
    hindi = Sample.objects.get(job=job)
    assert hindi.language == "hi"
    assert hindi.messages[0]["content"] == "अनुवाद: What is 12 + 30? See https://example.org/add."
    assert hindi.params["temperature"] == 0.3  # the template's default for translation
    failure = GenerationCall.objects.exclude(error="").get(job=job)
    assert failure.phase == "answer" and "not kept verbatim: 42" in failure.error


def test_dialogue_turns_become_alternating_messages_after_the_opening_prompt(
    django_capture_on_commit_callbacks,
):
    SourceFactory(language="hi")

    def reply(body, number):
        if "conversation of 3 to 5 turns" in body["messages"][-1]["content"]:
            return Reply(content="नमस्ते, दिवाली क्या है?\n####\nरोशनी का त्योहार।\n####\nधन्यवाद!")
        return Reply(content="मुझे दिवाली के बारे में बताइए।")

    with ChatServer(reply) as server:
        job = generation_job_create(
            task_type="multiturn_dialogue", languages=["hi"], endpoint=openai_endpoint(server)
        )
        with django_capture_on_commit_callbacks(execute=True):
            generation_job_start(job=job)
    sample = Sample.objects.get(job=job)
    assert sample.messages == [
        {"role": "user", "content": "मुझे दिवाली के बारे में बताइए।"},
        {"role": "assistant", "content": "रोशनी का त्योहार।"},
        {"role": "user", "content": "धन्यवाद!"},
    ]


@pytest.fixture(scope="session")
def seeded_tiny_model(tmp_path_factory) -> str:
    # Fixed weights: greedy decoding then gives the same words on every run.
    torch.manual_seed(0)
    return build_tiny_model(tmp_path_factory.mktemp("tiny-generator"))


def test_the_transformers_backend_generates_a_job_in_every_chosen_language(
    seeded_tiny_model, django_capture_on_commit_callbacks
):
    hindi_and_tamil_sources()
    endpoint = ModelEndpoint.objects.create(
        name="tiny",
        backend="transformers",
        model=seeded_tiny_model,
        params={"device": "cpu", "batch_size": 4},
    )
    job = generation_job_create(
        task_type="summarization",
        languages=["hi", "ta"],
        endpoint=endpoint,
        params={"max_tokens": 6, "temperature": 0.0, "samples_per_source": 2},
    )
    with django_capture_on_commit_callbacks(execute=True):
        generation_job_start(job=job)
    job.refresh_from_db()
    assert job.status == RunStatus.COMPLETED
    assert job.counts["total"] == 6
    samples = Sample.objects.filter(job=job)
    assert job.counts["samples"] == samples.count() == 6
    assert set(samples.values_list("language", flat=True)) == {"hi", "ta"}
    sample = samples.first()
    assert sample.generator == seeded_tiny_model
    assert sample.params["calls"]["summary"]["completion_tokens"] >= 1
    assert not samples.filter(status=Sample.Status.GENERATED).exists()
    assert GenerationJob.objects.get(pk=job.pk).counts["failed"] == 0


def test_a_batch_of_new_samples_goes_to_the_filters_as_one_task(
    server, django_capture_on_commit_callbacks, monkeypatch
):
    queued: list[list[int]] = []
    monkeypatch.setattr("synth.tasks.filter_samples.delay", queued.append)
    hindi_and_tamil_sources()
    job = generation_job_create(
        task_type="summarization",
        languages=["hi", "ta"],
        endpoint=openai_endpoint(server),
        params={"chunk_size": 3, "batch_size": 3},
    )
    with django_capture_on_commit_callbacks(execute=True):
        generation_job_start(job=job)

    stored = list(Sample.objects.filter(job=job).order_by("pk").values_list("pk", flat=True))
    assert len(stored) == 3
    # One message for the batch, not one per sample.
    assert queued == [stored]
    assert Sample.objects.filter(job=job, status=Sample.Status.GENERATED).count() == 3

    from synth.services import samples_filter

    assert sum(samples_filter(sample_ids=stored).values()) == 3
    assert not Sample.objects.filter(job=job, status=Sample.Status.GENERATED).exists()
    # A redelivered task finds nothing left to filter and changes nothing.
    before = list(Sample.objects.filter(job=job).values_list("pk", "status", "filter_report"))
    samples_filter(sample_ids=stored)
    assert list(Sample.objects.filter(job=job).values_list("pk", "status", "filter_report")) == (
        before
    )
