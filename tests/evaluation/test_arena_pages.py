"""The arena leaderboard page and API: staff only, intervals drawn, CSV/JSON/JSONL."""

import csv
import io
import json

import pytest
from django.urls import reverse

from evaluation.services.arena import preference_from_position, preference_record
from tests.factories import (
    AnnotatorFactory,
    ComparisonFactory,
    HumanRaterFactory,
    JudgeRaterFactory,
    StaffFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def preferences():
    """alpha beats beta in Hindi (judge and humans agree), gamma beats alpha in Urdu."""
    judge = JudgeRaterFactory()
    humans = [HumanRaterFactory(), HumanRaterFactory()]
    for _ in range(6):
        comparison = ComparisonFactory(language="hi", left="alpha", right="beta")
        preference_record(
            comparison=comparison, rater=judge, outcome="win", winner=comparison.response_a
        )
        for human in humans:
            preference_from_position(comparison=comparison, rater=human, choice="a")
    tie = ComparisonFactory(language="hi", left="beta", right="alpha")
    preference_record(comparison=tie, rater=judge, outcome="tie")
    preference_from_position(comparison=tie, rater=humans[0], choice="t")
    preference_from_position(comparison=tie, rater=humans[1], choice="n")
    for _ in range(3):
        comparison = ComparisonFactory(language="ur", left="alpha", right="gamma")
        preference_record(
            comparison=comparison, rater=judge, outcome="win", winner=comparison.response_b
        )
    return judge


@pytest.fixture
def staff_client(client):
    client.force_login(StaffFactory())
    return client


def test_leaderboard_page_ranks_and_draws_intervals(staff_client, preferences):
    url = reverse("evaluation:arena-leaderboard")
    page = staff_client.get(url).content.decode()
    assert page.index("gamma") < page.index("alpha") < page.index("beta")
    assert page.count('<svg class="interval"') == 3
    assert "<line x1=" in page
    assert 'lang="ur" dir="rtl"' in page
    hindi = staff_client.get(url, {"language": "hi", "raters": "human", "method": "elo"})
    body = hindi.content.decode()
    assert "gamma" not in body.split('id="arena-board"')[1]
    assert "online Elo" in body
    assert 'id="arena-agreement"' in body
    partial = staff_client.get(url, {"language": "hi"}, headers={"HX-Request": "true"})
    assert partial.content.decode().lstrip().startswith('<section class="card" id="arena-board"')
    assert staff_client.get(url, {"method": "nope"}).status_code == 400


def test_pages_and_api_are_staff_only(client, preferences):
    urls = [
        reverse("evaluation:arena-leaderboard"),
        reverse("arena-api-leaderboard"),
        reverse("arena-api-leaderboard-csv"),
        reverse("arena-api-agreement"),
        reverse("arena-api-pairs"),
    ]
    client.force_login(AnnotatorFactory())
    assert {client.get(url).status_code for url in urls} <= {302, 403}


def test_api_json_csv_and_agreement(staff_client, preferences):
    data = staff_client.get(reverse("arena-api-leaderboard"), {"resamples": 100}).json()
    assert data["battles"] == 10 and data["resamples"] == 100
    assert data["models"] == ["gamma", "alpha", "beta"]
    assert all(row["low"] <= row["rating"] <= row["high"] for row in data["rows"])
    assert data["rows"][1]["ties"] == 1
    response = staff_client.get(reverse("arena-api-leaderboard-csv"), {"language": "ur"})
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(r["rank"], r["model"]) for r in rows] == [("1", "gamma"), ("2", "alpha")]
    agreement = staff_client.get(reverse("arena-api-agreement"), {"language": "hi"}).json()
    [judge] = agreement["judges"]
    # 6 comparisons × 2 humans agree on alpha; on the tie, "tie" and "both bad" both match.
    assert judge["comparisons"] == 7 and judge["pairs"] == 14 and judge["exact"] == 1.0
    assert staff_client.get(reverse("arena-api-leaderboard"), {"language": "xx"}).status_code == 400


def test_preference_pairs_export(staff_client, preferences):
    response = staff_client.get(reverse("arena-api-pairs"), {"language": "hi", "raters": "llm"})
    lines = [json.loads(line) for line in b"".join(response.streaming_content).splitlines()]
    assert len(lines) == 6
    assert {(line["chosen_model"], line["rejected_model"]) for line in lines} == {("alpha", "beta")}
    assert lines[0]["prompt"][0]["role"] == "user"
    everyone = staff_client.get(reverse("arena-api-pairs"))
    records = [json.loads(line) for line in b"".join(everyone.streaming_content).splitlines()]
    assert len(records) == 6 + 12 + 3
    assert {r["rater"] for r in records} == {"human", f"llm:{preferences.judge.name}"}


def test_an_empty_arena_shows_no_preferences(staff_client):
    page = staff_client.get(reverse("evaluation:arena-leaderboard"), {"method": "elo"})
    assert "No preferences yet" in page.content.decode()
    data = staff_client.get(reverse("arena-api-leaderboard"), {"raters": "all"}).json()
    assert data["battles"] == 0 and data["rows"] == []
