"""Pairwise batches: comparisons in the batch and assignment machinery, the comparison
page with a plain POST and with htmx, pull claims, gold and progress."""

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.urls import reverse

from annotate.models import Assignment, Batch, BatchItem
from annotate.selectors import batch_progress_by_annotator, batch_progress_of
from annotate.services import (
    BatchError,
    assignment_claim,
    batch_create_pairwise,
    batch_transition,
    gold_preference_set,
    preference_submit,
)
from evaluation.models import Preference
from tests.annotate.helpers import annotator
from tests.factories import PASSWORD, ComparisonFactory, SampleFactory

pytestmark = pytest.mark.django_db


def open_pairwise(*, annotators, comparisons=None, size=3, overlap=1, language="hi", **kwargs):
    comparisons = comparisons or [ComparisonFactory(language=language) for _ in range(size)]
    batch = batch_create_pairwise(
        name=kwargs.pop("name", f"Pairs {comparisons[0].pk}"),
        language=language,
        comparisons=comparisons,
        annotators=annotators,
        overlap=overlap,
        **kwargs,
    )
    return batch_transition(batch=batch, to=Batch.Status.OPEN)


def signed_in(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_push_batch_assigns_each_comparison_k_times():
    people = [annotator("asha"), annotator("ravi"), annotator("meera")]
    batch = open_pairwise(annotators=people, size=4, overlap=2)
    assert batch.kind == Batch.Kind.PAIRWISE
    assert BatchItem.objects.filter(batch=batch, sample__isnull=True).count() == 4
    assignments = Assignment.objects.filter(batch=batch)
    assert assignments.count() == 8
    assert all(a.comparison_id and a.sample_id is None for a in assignments)
    per_person = sorted(assignments.filter(annotator=p).count() for p in people)
    assert per_person == [2, 3, 3]


def test_a_batch_item_holds_exactly_one_of_sample_and_comparison():
    batch = open_pairwise(annotators=[annotator("asha")], size=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        BatchItem.objects.create(
            batch=batch, sample=SampleFactory(), comparison=ComparisonFactory()
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        BatchItem.objects.create(batch=batch)


def test_pairwise_batches_refuse_other_languages_and_unqualified_annotators():
    with pytest.raises(BatchError, match="not in Hindi"):
        open_pairwise(
            annotators=[annotator("asha")], comparisons=[ComparisonFactory(language="ta")]
        )
    with pytest.raises(BatchError, match="lack Hindi"):
        open_pairwise(annotators=[annotator("kumar", language="ta")])


def test_comparison_page_without_javascript(client):
    asha = annotator("asha")
    batch = open_pairwise(annotators=[asha], size=2)
    first, second = Assignment.objects.filter(batch=batch).order_by("pk")
    signed_in(client, asha)
    page = client.get(reverse("annotate:item", args=[first.pk]))
    body = page.content.decode()
    comparison = first.comparison
    assert body.index(comparison.response_a.text) < body.index(comparison.response_b.text)
    assert 'id="choice-n"' in body and 'lang="hi" dir="ltr"' in body
    response = client.post(reverse("annotate:item", args=[first.pk]), {"choice": "b"})
    assert response.status_code == 302
    assert response.url == reverse("annotate:item", args=[second.pk])
    preference = Preference.objects.get(comparison=comparison, rater__user=asha)
    assert preference.outcome == "win"
    assert preference.winner_id == comparison.response_b_id
    assert preference.shown_first_id == comparison.response_a_id
    first.refresh_from_db()
    assert first.status == Assignment.Status.SUBMITTED
    # A revisit shows the choice; changing it replaces the preference.
    assert (
        'id="choice-b" aria-pressed="true"'
        in client.get(reverse("annotate:item", args=[first.pk])).content.decode()
    )
    client.post(reverse("annotate:item", args=[first.pk]), {"choice": "n"})
    preference.refresh_from_db()
    assert preference.outcome == "both_bad" and preference.winner is None
    bad = client.post(reverse("annotate:item", args=[second.pk]), {"choice": "x"})
    assert bad.status_code == 422 and "Choose A, B, tie or both bad" in bad.content.decode()


def test_comparison_page_with_htmx_answers_the_next_item(client):
    asha = annotator("asha")
    batch = open_pairwise(annotators=[asha], size=2)
    first, second = Assignment.objects.filter(batch=batch).order_by("pk")
    signed_in(client, asha)
    url = reverse("annotate:item", args=[first.pk])
    response = client.post(url, {"choice": "t"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert f'data-assignment="{second.pk}"' in response.content.decode()
    assert response["HX-Push-Url"] == reverse("annotate:item", args=[second.pk])
    assert "ratingSaved" in response["HX-Trigger"]
    assert batch_progress_of(batch=batch, user=asha).done == 1
    last = client.post(
        reverse("annotate:item", args=[second.pk]), {"choice": "a"}, headers={"HX-Request": "true"}
    )
    assert last["HX-Redirect"] == reverse("annotate:batch_next", args=[batch.pk])
    mine = client.get(reverse("annotate:batch_next", args=[batch.pk])).content.decode()
    assert second.comparison.prompt.text[:20] in mine


def test_someone_elses_comparison_is_404(client):
    asha, ravi = annotator("asha"), annotator("ravi")
    batch = open_pairwise(annotators=[asha], size=1)
    assignment = Assignment.objects.get(batch=batch)
    signed_in(client, ravi)
    assert client.get(reverse("annotate:item", args=[assignment.pk])).status_code == 404
    assert (
        client.post(reverse("annotate:item", args=[assignment.pk]), {"choice": "a"}).status_code
        == 404
    )
    assert not Preference.objects.exists()


def test_pull_claims_respect_the_overlap():
    people = [annotator("asha"), annotator("ravi"), annotator("meera")]
    batch = open_pairwise(
        annotators=people, size=1, overlap=2, distribution=Batch.Distribution.PULL
    )
    claims = [assignment_claim(batch=batch, annotator=person) for person in people]
    assert claims[0] and claims[1] and claims[2] is None
    assert {c.slot for c in claims[:2]} == {0, 1}
    preference_submit(assignment=claims[0], choice="a")
    # Once submitted, the same person gets nothing new: the only item is theirs already.
    assert assignment_claim(batch=batch, annotator=people[0]) is None


def test_gold_accuracy_on_pairwise_items():
    asha, ravi = annotator("asha"), annotator("ravi")
    comparisons = [ComparisonFactory(), ComparisonFactory()]
    batch = open_pairwise(
        annotators=[asha, ravi],
        comparisons=comparisons,
        overlap=2,
        gold_comparisons=comparisons[:1],
    )
    gold = comparisons[0]
    gold_preference_set(comparison=gold, winner=gold.response_a, outcome="win")
    for person, choice in ((asha, "a"), (ravi, "t")):
        for assignment in Assignment.objects.filter(batch=batch, annotator=person):
            preference_submit(assignment=assignment, choice=choice)
    rows = {row.username: row for row in batch_progress_by_annotator(batch=batch)}
    assert (rows["asha"].gold_correct, rows["asha"].gold_total) == (1, 1)
    assert (rows["ravi"].gold_correct, rows["ravi"].gold_total) == (0, 1)
    assert rows["asha"].done == 2


def test_create_batch_command_builds_a_pairwise_batch_with_gold_first(capsys):
    annotator("asha")
    annotator("ravi")
    comparisons = [ComparisonFactory() for _ in range(4)]
    ComparisonFactory(language="ta")
    gold = comparisons[2]
    gold_preference_set(comparison=gold, winner=None, outcome="tie")
    call_command(
        "create_batch",
        "--name=Pairs",
        "--kind=pairwise",
        "--language=hi",
        "--annotators=asha,ravi",
        "--size=3",
        "--gold-share=0.34",
        "--open",
    )
    batch = Batch.objects.get(name="Pairs")
    items = list(batch.items.order_by("position"))
    assert [i.comparison_id for i in items] == [gold.pk, comparisons[0].pk, comparisons[1].pk]
    assert [i.is_gold for i in items] == [True, False, False]
    assert batch.status == Batch.Status.OPEN and batch.assignments.count() == 6
    assert "3 items, 6 assignments, open" in capsys.readouterr().out
