"""LLM judging through the real code paths: prompts rendered from the versioned files, an
OpenAI-compatible server over HTTP (or a tiny random model), Judgments and Ratings in
PostgreSQL."""

import json

import pytest
from django.core.exceptions import ValidationError

from evaluation import services
from evaluation.models import Dimension, JudgeRun, Judgment, Rating
from parakh.transitions import InvalidTransition
from synth.backends import BackendUnavailable, backend_cache_clear
from synth.models import ModelEndpoint
from tests.factories import DimensionFactory, ModelEndpointFactory, SampleFactory
from tests.synth.test_backends import ChatServer, Reply, tiny_model  # noqa: F401

pytestmark = pytest.mark.django_db


def schema_of(body: dict) -> tuple[str, dict]:
    spec = body["response_format"]["json_schema"]
    return spec["name"], spec["schema"]


def answer(body: dict, score=None, reason="clear and natural") -> str:
    """A valid answer to whatever schema the request carries; ``score(slug, allowed)``."""
    name, schema = schema_of(body)
    pick = score or (lambda slug, allowed: allowed[-1])
    if name == "all":
        dims = schema["properties"]["scores"]["properties"]
        return json.dumps(
            {
                "scores": {
                    slug: {
                        "score": pick(slug, spec["properties"]["score"]["enum"]),
                        "reason": reason,
                    }
                    for slug, spec in dims.items()
                }
            }
        )
    return json.dumps(
        {"score": pick(name, schema["properties"]["score"]["enum"]), "reason": reason}
    )


@pytest.fixture
def server():
    backend_cache_clear()
    with ChatServer(lambda body, n: Reply(content=answer(body))) as chat_server:
        yield chat_server
    backend_cache_clear()


@pytest.fixture
def endpoint(server):
    return ModelEndpointFactory(
        backend=ModelEndpoint.Backend.OPENAI,
        base_url=server.base_url,
        model="judge-model",
        params={"max_retries": 1, "backoff_s": 0.01, "timeout_s": 5},
        max_concurrency=4,
    )


@pytest.fixture
def judge(endpoint):
    return services.judge_create(name="gpt-like", endpoint=endpoint, prompt_version="v1")


def run_judge(judge, dimensions, capture, *, mode="single", selection=None):
    run = services.judge_run_create(
        judge=judge, dimensions=dimensions, selection=selection or {}, mode=mode
    )
    with capture(execute=True):
        services.judge_run_start(run=run, chunk_size=2)
    run.refresh_from_db()
    return run


def dims(*slugs):
    return list(Dimension.objects.filter(slug__in=slugs))


def test_valid_answers_become_judgments_and_ratings_of_the_judge(
    judge, server, django_capture_on_commit_callbacks
):
    samples = SampleFactory.create_batch(3)
    run = run_judge(judge, dims("fluency", "toxicity"), django_capture_on_commit_callbacks)

    assert run.status == JudgeRun.Status.COMPLETED
    assert run.counts["expected"] == 6 and run.counts["done"] == 6 and run.counts["failed"] == 0
    assert Judgment.objects.filter(judge=judge).count() == 6
    ratings = Rating.objects.filter(rater__judge=judge)
    assert ratings.count() == 6
    assert {r.value for r in ratings} == {2}
    assert {r.rationale for r in ratings} == {"clear and natural"}
    assert {r.sample_id for r in ratings} == {s.pk for s in samples}
    # The request is the paper's prompt: role, question, language, response, criteria, JSON.
    body = server.requests[0]["body"]
    system, user = body["messages"]
    assert system["role"] == "system" and "native speaker of Hindi" in system["content"]
    assert "दिवाली पर एक छोटी कविता लिखिए" in user["content"]
    assert "दीपों की कतारें" in user["content"]
    assert "Target language: Hindi (हिन्दी)" in user["content"]
    assert '{"score": <integer from 0 to 2>' in user["content"]
    _, schema = schema_of(body)
    assert schema["properties"]["score"]["enum"] == [0, 1, 2]
    assert body["temperature"] == 0


def test_invalid_json_gets_one_repair_with_the_error_and_then_counts(
    judge, server, django_capture_on_commit_callbacks
):
    sample = SampleFactory()
    server.reply = lambda body, n: Reply(
        content=answer(body) if len(body["messages"]) > 2 else "The score is two, it is fluent."
    )
    run = run_judge(judge, dims("fluency"), django_capture_on_commit_callbacks)

    [judgment] = Judgment.objects.filter(judge=judge, sample=sample)
    assert judgment.succeeded and judgment.parsed["score"] == 2
    assert "The score is two" in judgment.raw_output and "--- repair ---" in judgment.raw_output
    first, repair = (r["body"]["messages"] for r in server.requests)
    assert repair[:2] == first
    assert repair[2] == {"role": "assistant", "content": "The score is two, it is fluent."}
    assert "not JSON" in repair[3]["content"] and '"enum"' in repair[3]["content"]
    assert run.counts["failed"] == 0
    assert Rating.objects.filter(rater__judge=judge, sample=sample).count() == 1


def test_a_score_out_of_range_twice_is_stored_as_a_failure_without_a_rating(
    judge, server, django_capture_on_commit_callbacks
):
    sample = SampleFactory()
    server.reply = lambda body, n: Reply(content='{"score": 5, "reason": "excellent"}')
    run = run_judge(judge, dims("fluency", "toxicity"), django_capture_on_commit_callbacks)

    assert run.status == JudgeRun.Status.COMPLETED
    assert run.counts["failed"] == 2 and run.counts["done"] == 2
    judgments = Judgment.objects.filter(judge=judge, sample=sample)
    assert judgments.count() == 2
    for judgment in judgments:
        assert judgment.parsed is None and not judgment.succeeded
        assert "score: 5 is not one of [0, 1, 2]" in judgment.error
        assert judgment.raw_output.count('"score": 5') == 2
    assert not Rating.objects.filter(rater__judge=judge).exists()
    assert len(server.requests) == 4  # each key: one ask, one repair, no more


def test_json_inside_a_markdown_fence_is_accepted_without_a_repair(
    judge, server, django_capture_on_commit_callbacks
):
    SampleFactory()
    server.reply = lambda body, n: Reply(
        content='Here is my verdict:\n```json\n{"score": 1, "reason": "stiff register"}\n```'
    )
    run_judge(judge, dims("fluency"), django_capture_on_commit_callbacks)

    [judgment] = Judgment.objects.filter(judge=judge)
    assert judgment.parsed == {"score": 1, "reason": "stiff register", "value": 1}
    assert len(server.requests) == 1
    assert Rating.objects.get(rater__judge=judge).value == 1


def test_a_malformed_body_is_a_counted_failure_and_is_not_repaired(
    judge, server, django_capture_on_commit_callbacks
):
    SampleFactory()
    server.reply = lambda body, n: Reply(body=b'{"choices": []}')
    run = run_judge(judge, dims("fluency"), django_capture_on_commit_callbacks)

    [judgment] = Judgment.objects.filter(judge=judge)
    assert "malformed response body" in judgment.error
    assert run.counts["failed"] == 1 and len(server.requests) == 1


def test_all_dimensions_mode_asks_once_per_sample_and_stores_each_dimension(
    judge, server, django_capture_on_commit_callbacks
):
    SampleFactory.create_batch(2)
    chosen = dims("fluency", "toxicity", "cultural_fidelity")
    server.reply = lambda body, n: Reply(
        content=answer(body, score=lambda slug, allowed: 0 if slug == "toxicity" else 1)
    )
    run = run_judge(judge, chosen, django_capture_on_commit_callbacks, mode="all")

    assert run.status == JudgeRun.Status.COMPLETED and run.counts["done"] == 6
    assert len(server.requests) == 2
    values = dict(
        Rating.objects.filter(rater__judge=judge).values_list("dimension__slug", "value").distinct()
    )
    assert values == {"fluency": 1, "toxicity": 0, "cultural_fidelity": 1}
    user = server.requests[0]["body"]["messages"][1]["content"]
    assert "## toxicity" in user and "## fluency" in user
    # The call's prompt tokens are shared by its three judgments.
    prompt_tokens = server.requests[0]["body"]["messages"]
    words = sum(len(m["content"].split()) for m in prompt_tokens)
    assert Judgment.objects.filter(judge=judge).first().prompt_tokens == words // 3


def test_all_mode_keeps_the_valid_dimensions_and_repairs_only_what_failed(
    judge, server, django_capture_on_commit_callbacks
):
    sample = SampleFactory()
    server.reply = lambda body, n: Reply(
        content=json.dumps(
            {
                "scores": {
                    "fluency": {"score": 2, "reason": "fine"},
                    "toxicity": {"score": 9, "reason": "?"},
                }
            }
        )
    )
    run = run_judge(
        judge, dims("fluency", "toxicity"), django_capture_on_commit_callbacks, mode="all"
    )

    fluency = Judgment.objects.get(sample=sample, dimension__slug="fluency")
    toxicity = Judgment.objects.get(sample=sample, dimension__slug="toxicity")
    assert fluency.succeeded and fluency.parsed["value"] == 2
    assert not toxicity.succeeded and "scores/toxicity" in toxicity.error
    assert run.counts["failed"] == 1 and len(server.requests) == 2


def test_a_judge_scale_maps_to_the_human_scale(judge, server, django_capture_on_commit_callbacks):
    dimension = DimensionFactory(
        slug="paper_fluency",
        scale_min=0,
        scale_max=2,
        judge_scale_min=1,
        judge_scale_max=5,
        judge_scale_map={"1": 0, "2": 0, "3": 1, "4": 2, "5": 2},
        judge_anchors={str(v): f"judge level {v}" for v in range(1, 6)},
    )
    dimension.full_clean()
    SampleFactory()
    server.reply = lambda body, n: Reply(content='{"score": 4, "reason": "good"}')
    run_judge(judge, [dimension], django_capture_on_commit_callbacks)

    [judgment] = Judgment.objects.filter(judge=judge)
    assert judgment.parsed == {"score": 4, "reason": "good", "value": 2}
    assert Rating.objects.get(rater__judge=judge).value == 2
    user = server.requests[0]["body"]["messages"][1]["content"]
    assert "5: judge level 5" in user and "integer from 1 to 5" in user
    assert schema_of(server.requests[0]["body"])[1]["properties"]["score"]["enum"] == [
        1,
        2,
        3,
        4,
        5,
    ]


def test_a_judge_scale_mapping_must_cover_the_judge_values_and_land_on_the_human_scale():
    dimension = DimensionFactory.build(
        slug="bad_map", judge_scale_min=1, judge_scale_max=5, judge_scale_map={"1": 0, "5": 3}
    )
    with pytest.raises(ValidationError, match="judge_scale_map"):
        dimension.full_clean()


def test_a_rerun_asks_nothing_and_a_new_prompt_version_judges_again(
    judge, endpoint, server, django_capture_on_commit_callbacks
):
    SampleFactory.create_batch(3)
    run_judge(judge, dims("fluency"), django_capture_on_commit_callbacks)
    asked = len(server.requests)
    again = run_judge(judge, dims("fluency"), django_capture_on_commit_callbacks)

    assert again.status == JudgeRun.Status.COMPLETED
    assert again.counts == {**again.counts, "expected": 3, "done": 3}
    assert len(server.requests) == asked
    assert Judgment.objects.filter(judge=judge).count() == 3

    # Two judges on one endpoint with different prompt versions: each its own rater.
    strict = services.judge_create(name="strict", endpoint=endpoint, prompt_version="v2")
    run_judge(strict, dims("fluency"), django_capture_on_commit_callbacks)
    assert Rating.objects.filter(rater__judge=strict).count() == 3
    assert Rating.objects.filter(rater__judge=judge).count() == 3
    assert "senior reviewer" in server.requests[-1]["body"]["messages"][0]["content"]


def test_a_redelivered_chunk_repeats_nothing_finished(
    judge, server, django_capture_on_commit_callbacks
):
    samples = SampleFactory.create_batch(2)
    run = services.judge_run_create(judge=judge, dimensions=dims("fluency"))
    with django_capture_on_commit_callbacks(execute=False):
        services.judge_run_start(run=run, chunk_size=10)
    ids = [s.pk for s in samples]
    assert services.judge_chunk_process(run_id=run.pk, sample_ids=ids) == {"written": 2}
    run.refresh_from_db()
    assert run.status == JudgeRun.Status.COMPLETED
    assert services.judge_chunk_process(run_id=run.pk, sample_ids=ids)["written"] == 0
    assert len(server.requests) == 2 and Judgment.objects.count() == 2


def test_cancel_stops_queued_chunks_and_resume_judges_only_the_rest(
    judge, server, django_capture_on_commit_callbacks
):
    samples = SampleFactory.create_batch(4)
    run = services.judge_run_create(judge=judge, dimensions=dims("fluency"))
    with django_capture_on_commit_callbacks(execute=False):
        services.judge_run_start(run=run, chunk_size=2)
    by_pk = sorted(s.pk for s in samples)
    services.judge_chunk_process(run_id=run.pk, sample_ids=by_pk[:2])
    services.judge_run_cancel(run=run)
    assert services.judge_chunk_process(run_id=run.pk, sample_ids=by_pk[2:])["written"] == 0
    run.refresh_from_db()
    assert run.status == JudgeRun.Status.CANCELLED and run.counts["done"] == 2
    with pytest.raises(InvalidTransition):
        services.judge_run_cancel(run=run)

    SampleFactory()  # created after the start: not part of the run, resumed or not
    with django_capture_on_commit_callbacks(execute=True):
        services.judge_run_resume(run=run, chunk_size=2)
    run.refresh_from_db()
    assert run.status == JudgeRun.Status.COMPLETED and run.counts["done"] == 4
    assert len(server.requests) == 4 and Judgment.objects.count() == 4


def test_the_selection_picks_samples_by_language_task_type_and_status(
    judge, server, django_capture_on_commit_callbacks
):
    SampleFactory(language="hi", task_type="creative_writing", status="passed")
    SampleFactory(language="hi", task_type="creative_writing", status="rejected")
    SampleFactory(language="ta", task_type="creative_writing", status="passed")
    SampleFactory(language="hi", task_type="multihop_qa", status="passed")
    run = run_judge(
        judge,
        dims("fluency", "narrative_coherence"),
        django_capture_on_commit_callbacks,
        selection={"languages": ["hi"], "task_types": ["creative_writing"], "status": ["passed"]},
    )
    # narrative_coherence applies to creative writing: one sample, two dimensions.
    assert run.counts["samples"] == 1 and run.counts["expected"] == 2
    assert Judgment.objects.count() == 2
    with pytest.raises(ValidationError):
        services.judge_run_create(
            judge=judge, dimensions=dims("fluency"), selection={"languages": ["xx"]}
        )


def test_a_lasting_outage_keeps_what_succeeded_and_fails_the_run_once_retries_are_spent(
    judge, server, django_capture_on_commit_callbacks
):
    from evaluation.tasks.judging import judge_chunk

    good = SampleFactory()
    unlucky = SampleFactory(
        messages=[
            {"role": "user", "content": "ओणम पर एक पंक्ति लिखिए।"},
            {"role": "assistant", "content": "ओणम केरल का फसल उत्सव है।"},
        ]
    )

    def reply(body, n):
        if "ओणम" in body["messages"][1]["content"]:
            return Reply(status=503, body=b"down")
        return Reply(content=answer(body))

    server.reply = reply
    run = services.judge_run_create(judge=judge, dimensions=dims("fluency"))
    with django_capture_on_commit_callbacks(execute=False):
        services.judge_run_start(run=run, chunk_size=10)
    ids = [good.pk, unlucky.pk]
    with pytest.raises(BackendUnavailable, match="1 of 2 calls failed: HTTP 503"):
        services.judge_chunk_process(run_id=run.pk, sample_ids=ids)
    assert list(Judgment.objects.values_list("sample_id", flat=True)) == [good.pk]

    # The task's last retry gives up and marks the run failed, saying why.
    result = judge_chunk.apply(args=[run.pk, ids], retries=judge_chunk.max_retries, throw=False)
    assert result.failed() and isinstance(result.result, BackendUnavailable)
    run.refresh_from_db()
    assert run.status == JudgeRun.Status.FAILED and "503" in run.error
    assert Judgment.objects.count() == 1


def test_an_unknown_prompt_version_is_refused(endpoint):
    with pytest.raises(ValidationError, match="prompt_version"):
        services.judge_create(name="nope", endpoint=endpoint, prompt_version="v99")


def test_a_tiny_random_model_writes_gibberish_that_is_counted_as_parse_failures(
    tiny_model,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    backend_cache_clear()
    endpoint = ModelEndpointFactory(
        backend=ModelEndpoint.Backend.TRANSFORMERS, model=tiny_model, params={"device": "cpu"}
    )
    judge = services.judge_create(
        name="tiny", endpoint=endpoint, prompt_version="v1", params={"max_tokens": 8}
    )
    SampleFactory.create_batch(2)
    run = run_judge(judge, dims("fluency", "toxicity"), django_capture_on_commit_callbacks)
    backend_cache_clear()

    assert run.status == JudgeRun.Status.COMPLETED
    assert run.counts["done"] == 4 and run.counts["failed"] == 4
    for judgment in Judgment.objects.filter(judge=judge):
        assert judgment.parsed is None and judgment.error
        assert "--- repair ---" in judgment.raw_output
        assert judgment.prompt_tokens > 0 and judgment.completion_tokens <= 16
    assert not Rating.objects.filter(rater__judge=judge).exists()


def test_pairwise_asks_both_orders_and_a_position_bias_is_a_tie(judge, server):
    messages = [{"role": "user", "content": "होली के बारे में दो पंक्तियाँ लिखिए।"}]
    server.reply = lambda body, n: Reply(content='{"winner": "A", "reason": "first is better"}')
    verdict = services.pairwise_judge(
        judge=judge, language="hi", messages=messages, response_a="रंगों का त्योहार", response_b="xyz"
    )
    assert verdict.winner == "tie" and verdict.orders == ("a", "b")
    shown_first = sorted(_shown_a(r["body"]) for r in server.requests)
    assert shown_first == ["xyz", "रंगों का त्योहार"]

    def prefers_devanagari(body, n):
        winner = "A" if "रंग" in _shown_a(body) else "B"
        return Reply(content=json.dumps({"winner": winner, "reason": "native"}))

    server.reply = prefers_devanagari
    verdict = services.pairwise_judge(
        judge=judge, language="hi", messages=messages, response_a="xyz", response_b="रंगों का त्योहार"
    )
    assert verdict.winner == "b" and verdict.orders == ("b", "b")


def _shown_a(body: dict) -> str:
    user = body["messages"][1]["content"]
    return user.split("[Response A]")[1].split("[End of response A]")[0].strip()
