"""Arena data: importing prompts and responses, comparisons, and LLM judge preferences."""

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction

from evaluation import services
from evaluation.models import ArenaPrompt, ArenaResponse, Comparison, Preference
from evaluation.selectors.arena import arena_leaderboard, preference_pairs
from evaluation.services.arena import (
    ArenaImportError,
    arena_import,
    arena_judge_comparisons,
    comparisons_create,
)
from synth.backends import backend_cache_clear
from synth.models import ModelEndpoint
from tests.factories import ModelEndpointFactory
from tests.synth.test_backends import ChatServer, Reply

pytestmark = pytest.mark.django_db

ROWS = [
    {
        "prompt_id": "q1",
        "language": "hi",
        "domain": "healthcare",
        "prompt": "बुखार में क्या करें?",
        "model": "alpha",
        "response": "आराम करें और पानी पिएँ।",
    },
    {
        "prompt_id": "q1",
        "language": "hi",
        "domain": "healthcare",
        "prompt": "बुखार में क्या करें?",
        "model": "beta",
        "response": "xyz",
    },
    {
        "prompt_id": "q1",
        "language": "hi",
        "domain": "healthcare",
        "prompt": "बुखार में क्या करें?",
        "model": "gamma",
        "response": "डॉक्टर से मिलें।",
    },
    {
        "prompt_id": "q2",
        "language": "ur",
        "domain": "finance",
        "prompt": "بچت کیسے کریں؟",
        "model": "alpha",
        "response": "ہر مہینے کچھ رقم الگ رکھیں۔",
    },
    {
        "prompt_id": "q2",
        "language": "ur",
        "domain": "finance",
        "prompt": "بچت کیسے کریں؟",
        "model": "beta",
        "response": "xyz",
    },
]


def write_jsonl(path, rows):
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n")
    return path


def test_import_jsonl_and_parquet_is_idempotent(tmp_path):
    path = write_jsonl(tmp_path / "arena.jsonl", ROWS)
    summary = arena_import(path=path)
    assert (summary.prompts_created, summary.responses_created) == (2, 5)
    again = arena_import(path=path)
    assert (again.prompts_created, again.responses_created, again.responses_unchanged) == (0, 0, 5)
    parquet = tmp_path / "arena.parquet"
    pq.write_table(pa.Table.from_pylist(ROWS), parquet)
    assert arena_import(path=parquet).responses_unchanged == 5
    assert ArenaResponse.objects.count() == 5
    assert ArenaPrompt.objects.get(external_id="q2").language == "ur"


def test_import_errors_name_the_file_and_line_and_write_nothing(tmp_path):
    rows = [ROWS[0], {**ROWS[1], "language": "xx"}, {**ROWS[2], "response": ""}]
    path = write_jsonl(tmp_path / "bad.jsonl", rows)
    with path.open("a") as handle:
        handle.write("{not json\n")
    with pytest.raises(ArenaImportError) as error:
        arena_import(path=path)
    assert error.value.errors == [
        "bad.jsonl:2: unknown language 'xx'",
        "bad.jsonl:3: missing response",
        "bad.jsonl:4: malformed JSON: Expecting property name enclosed in double quotes "
        "at column 2",
    ]
    assert not ArenaPrompt.objects.exists()
    with pytest.raises(CommandError, match=r"bad\.jsonl:2: unknown language"):
        call_command("import_arena", str(path))


def test_import_refuses_a_changed_response_and_a_parquet_without_columns(tmp_path):
    arena_import(path=write_jsonl(tmp_path / "a.jsonl", ROWS[:2]))
    changed = write_jsonl(tmp_path / "b.jsonl", [{**ROWS[1], "response": "new text"}])
    with pytest.raises(ArenaImportError, match=r"b\.jsonl:1: the response of 'beta' differs"):
        arena_import(path=changed)
    parquet = tmp_path / "c.parquet"
    pq.write_table(pa.Table.from_pylist([{"prompt_id": "q"}]), parquet)
    with pytest.raises(ArenaImportError, match=r"c\.parquet: missing column"):
        arena_import(path=parquet)


def test_command_imports_and_makes_one_comparison_per_pair(tmp_path, capsys):
    path = write_jsonl(tmp_path / "arena.jsonl", ROWS)
    call_command("import_arena", str(path), "--seed", "1")
    call_command("import_arena", str(path), "--seed", "2")
    # Three responses to q1 make three pairs, two to q2 one.
    assert Comparison.objects.count() == 4
    assert comparisons_create(seed=3) == 0
    comparison = Comparison.objects.first()
    with pytest.raises(IntegrityError), transaction.atomic():
        Comparison.objects.create(
            prompt=comparison.prompt,
            response_a=comparison.response_b,
            response_b=comparison.response_a,
        )
    assert "4 comparisons made" in capsys.readouterr().out


def test_positions_are_randomised():
    prompt = ArenaPrompt.objects.create(external_id="p", language="en", text="Q?")
    responses = [
        ArenaResponse.objects.create(prompt=prompt, model_name=f"m{i:02d}", text=str(i))
        for i in range(12)
    ]
    comparisons_create(seed=0)
    first_is_lower = [c.response_a_id < c.response_b_id for c in Comparison.objects.all()]
    assert len(first_is_lower) == 66
    assert 10 < sum(first_is_lower) < 56
    assert {r.pk for r in responses} == {
        pk for c in Comparison.objects.all() for pk in (c.response_a_id, c.response_b_id)
    }


def _shown_a(body: dict) -> str:
    user = body["messages"][1]["content"]
    return user.split("[Response A]")[1].split("[End of response A]")[0].strip()


@pytest.fixture
def server():
    backend_cache_clear()
    with ChatServer() as chat_server:
        yield chat_server
    backend_cache_clear()


@pytest.fixture
def judge(server):
    endpoint = ModelEndpointFactory(
        backend=ModelEndpoint.Backend.OPENAI,
        base_url=server.base_url,
        model="judge-model",
        params={"max_retries": 1, "backoff_s": 0.01, "timeout_s": 5},
    )
    return services.judge_create(name="arena-judge", endpoint=endpoint, prompt_version="v1")


def test_a_judge_that_always_prefers_position_a_yields_ties(tmp_path, judge, server):
    call_command("import_arena", str(write_jsonl(tmp_path / "a.jsonl", ROWS)), "--seed", "4")
    server.reply = lambda body, n: Reply(content='{"winner": "A", "reason": "first"}')
    call_command("arena_judge", "--judge", judge.name)
    preferences = Preference.objects.filter(rater__judge=judge)
    assert preferences.count() == 4
    assert set(preferences.values_list("outcome", flat=True)) == {"tie"}
    assert all(p.detail["orders"] == ["a", "b"] for p in preferences)
    # Each comparison was asked twice, once with each response first.
    assert len(server.requests) == 8
    # Asking again asks nothing: one preference per (comparison, judge).
    call_command("arena_judge", "--judge", judge.name)
    assert len(server.requests) == 8
    board = arena_leaderboard(raters="llm", resamples=50)
    assert {row["ties"] for row in board.rows} >= {2}
    assert len({row["rating"] for row in board.rows}) == 1
    assert list(preference_pairs()) == []


def test_a_judge_that_prefers_real_answers_ranks_them_first(tmp_path, judge, server):
    arena_import(path=write_jsonl(tmp_path / "a.jsonl", ROWS))
    comparisons_create(seed=5)

    def prefers_non_xyz(body, n):
        return Reply(
            content=json.dumps({"winner": "B" if _shown_a(body) == "xyz" else "A", "reason": "r"})
        )

    server.reply = prefers_non_xyz
    result = arena_judge_comparisons(judge=judge, comparisons=Comparison.objects.all())
    assert result == {"written": 4, "skipped": 0}
    beta_losses = Preference.objects.filter(rater__judge=judge, outcome="win").exclude(
        winner__model_name="beta"
    )
    # Every comparison with beta was lost by beta; alpha vs gamma were both "first": a tie.
    assert beta_losses.count() == 3
    board = arena_leaderboard(raters="llm", resamples=50)
    assert board.models[-1] == "beta"
    pairs = list(preference_pairs(language="hi"))
    assert len(pairs) == 2
    assert all(p["rejected"] == [{"role": "assistant", "content": "xyz"}] for p in pairs)
    assert {p["rater"] for p in pairs} == {"llm:arena-judge"}


def test_responses_generated_through_an_endpoint(tmp_path, server, capsys):
    arena_import(path=write_jsonl(tmp_path / "a.jsonl", ROWS))
    ModelEndpointFactory(
        name="local",
        backend=ModelEndpoint.Backend.OPENAI,
        base_url=server.base_url,
        model="m",
        params={"max_retries": 1, "backoff_s": 0.01, "timeout_s": 5},
    )
    server.reply = lambda body, n: Reply(content=f"answer to {body['messages'][0]['content']}")
    call_command("arena_generate", "--endpoint", "local", "--model-name", "delta", "--seed", "1")
    delta = ArenaResponse.objects.filter(model_name="delta")
    assert delta.count() == 2
    assert delta.get(prompt__external_id="q2").text == "answer to بچت کیسے کریں؟"
    # q1 now has four responses (6 pairs), q2 three (3 pairs).
    assert Comparison.objects.count() == 9
    call_command("arena_generate", "--endpoint", "local", "--model-name", "delta")
    assert len(server.requests) == 2
    assert "0 responses written" in capsys.readouterr().out.splitlines()[-1]
