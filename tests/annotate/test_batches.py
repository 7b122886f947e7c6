"""Staff: build (page and command), push and pull, database guarantees, progress, review."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from annotate.models import Annotation, Assignment, Batch
from annotate.services import (
    BatchError,
    annotation_submit,
    assignment_claim,
    gold_expected_set,
)
from evaluation.models import Dimension, Rater, Rating
from tests.annotate.helpers import RUBRIC, annotator, open_batch
from tests.factories import SampleFactory

pytestmark = pytest.mark.django_db


def scores(value: int) -> dict[str, int]:
    return dict.fromkeys(RUBRIC, value)


@pytest.fixture
def staff_client(client, staff, password):
    client.login(username="staff", password=password)
    return client


def test_build_page_creates_a_push_batch_for_qualified_annotators(staff_client):
    asha, zoya = annotator("asha"), annotator("zoya")
    annotator("ravi", "ta")
    SampleFactory.create_batch(4, status="passed")
    SampleFactory(status="rejected")
    dimensions = Dimension.objects.filter(slug__in=RUBRIC)
    data = {
        "name": "Hindi one",
        "language": "hi",
        "dimensions": [d.pk for d in dimensions],
        "statuses": ["passed"],
        "size": 3,
        "overlap": 2,
        "distribution": "push",
        "annotators": [asha.pk, zoya.pk],
        "min_proficiency": 2,
        "gold_share": 0,
        "open_now": "on",
    }
    response = staff_client.post(reverse("annotate:batch_build"), data)
    batch = Batch.objects.get(name="Hindi one")
    assert response["Location"] == reverse("annotate:batch_progress", args=[batch.pk])
    assert batch.status == "open" and batch.items.count() == 3
    assert batch.items.filter(sample__status="rejected").count() == 0
    assert batch.assignments.count() == 6
    assert set(batch.assignments.values_list("slot", flat=True)) == {0, 1}


def test_build_page_refuses_an_annotator_without_the_language(staff_client):
    ravi = annotator("ravi", "ta")
    SampleFactory(status="passed")
    data = {
        "name": "Wrong people",
        "language": "hi",
        "dimensions": [Dimension.objects.get(slug="fluency").pk],
        "statuses": ["passed"],
        "size": 1,
        "overlap": 1,
        "distribution": "push",
        "annotators": [ravi.pk],
        "min_proficiency": 2,
    }
    response = staff_client.post(reverse("annotate:batch_build"), data)
    assert response.status_code == 422 and "ravi lack Hindi" in response.text
    assert not Batch.objects.filter(name="Wrong people").exists()


def test_create_batch_command_with_gold_items(capsys):
    asha, zoya = annotator("asha"), annotator("zoya")
    samples = SampleFactory.create_batch(4, status="passed")
    fluency = Dimension.objects.get(slug="fluency")
    gold_expected_set(sample=samples[3], values={fluency: 2})
    call_command(
        "create_batch",
        "--name=cli",
        "--language=hi",
        "--annotators=asha,zoya",
        "--size=2",
        "--overlap=2",
        "--gold-share=0.5",
        "--open",
    )
    batch = Batch.objects.get(name="cli")
    assert "2 items, 4 assignments, open" in capsys.readouterr().out
    assert list(batch.items.filter(is_gold=True).values_list("sample", flat=True)) == [
        samples[3].pk
    ]
    assert set(batch.annotators.all()) == {asha, zoya}


def test_database_refuses_a_third_annotator_on_an_overlap_two_item():
    people = [annotator(f"a{i}") for i in range(3)]
    batch = open_batch(annotators=people[:2], size=1, overlap=2)
    sample = batch.items.get().sample
    with pytest.raises(IntegrityError), transaction.atomic():
        Assignment.objects.create(
            batch=batch, sample=sample, annotator=people[2], slot=2, overlap=2
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Assignment.objects.create(
            batch=batch, sample=sample, annotator=people[2], slot=1, overlap=2
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Assignment.objects.create(batch=batch, sample=sample, annotator=people[2], overlap=2)


def test_database_refuses_the_same_sample_twice_for_one_annotator():
    asha = annotator("asha")
    batch = open_batch(annotators=[asha], size=1, overlap=1)
    existing = batch.assignments.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        Assignment.objects.create(
            batch=batch, sample=existing.sample, annotator=asha, slot=0, overlap=3
        )


def test_a_double_submit_stores_one_annotation():
    asha = annotator("asha")
    batch = open_batch(annotators=[asha], size=1)
    assignment = batch.assignments.get()
    annotation_submit(assignment=assignment, scores=scores(2))
    annotation_submit(assignment=assignment, scores=scores(2))
    assert Annotation.objects.filter(assignment=assignment).count() == 1
    assert Rating.objects.filter(rater__user=asha, dimension__kind="rubric").count() == 3


def test_pull_claims_respect_k_and_an_expired_lease_returns_the_item():
    people = [annotator(f"p{i}") for i in range(3)]
    batch = open_batch(annotators=people, size=1, overlap=2, distribution="pull")
    first = assignment_claim(batch=batch, annotator=people[0])
    assert assignment_claim(batch=batch, annotator=people[0]) == first  # held, not a second
    assert assignment_claim(batch=batch, annotator=people[1]) is not None
    assert assignment_claim(batch=batch, annotator=people[2]) is None
    Assignment.objects.filter(pk=first.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    third = assignment_claim(batch=batch, annotator=people[2])
    assert third is not None and third.slot == first.slot
    assert not Assignment.objects.filter(pk=first.pk).exists()


def test_pull_claim_refuses_someone_outside_the_batch():
    batch = open_batch(annotators=[annotator("asha")], distribution="pull")
    with pytest.raises(BatchError):
        assignment_claim(batch=batch, annotator=annotator("zoya"))


def test_progress_page_shows_done_median_and_gold_accuracy(staff_client):
    asha, zoya = annotator("asha"), annotator("zoya")
    batch = open_batch(annotators=[asha, zoya], size=2, overlap=2)
    gold_item = batch.items.first()
    gold_item.is_gold = True
    gold_item.save()
    fluency = Dimension.objects.get(slug="fluency")
    gold_expected_set(sample=gold_item.sample, values={fluency: 2})
    mine = batch.assignments.get(annotator=asha, sample=gold_item.sample)
    annotation_submit(assignment=mine, scores=scores(2))
    url = reverse("annotate:batch_progress", args=[batch.pk])
    page = staff_client.get(url).text
    assert f'id="annotator-{asha.pk}"' in page
    assert "1 / 2" in page and "100% (1/1)" in page
    assert 'hx-trigger="every 5s"' in page
    partial = staff_client.get(url, headers={"HX-Request": "true"})
    assert partial.status_code == 200 and "<html" not in partial.text
    staff_client.post(reverse("annotate:batch_status", args=[batch.pk]), {"to": "closed"})
    batch.refresh_from_db()
    assert batch.status == "closed"
    assert staff_client.get(url, headers={"HX-Request": "true"}).status_code == 286


def test_revoke_frees_the_place_and_reassign_hands_it_over(staff_client):
    asha, zoya, ravi = annotator("asha"), annotator("zoya"), annotator("ravi")
    batch = open_batch(annotators=[asha], size=1, overlap=1)
    assignment = batch.assignments.get()
    staff_client.post(
        reverse("annotate:assignment_reassign", args=[assignment.pk]), {"annotator": zoya.pk}
    )
    assignment.refresh_from_db()
    assert assignment.annotator == zoya and assignment.slot == 0
    staff_client.post(reverse("annotate:assignment_revoke", args=[assignment.pk]))
    assignment.refresh_from_db()
    assert assignment.status == "revoked" and assignment.slot is None
    Assignment.objects.create(
        batch=batch, sample=assignment.sample, annotator=ravi, slot=0, overlap=1
    )


def test_review_shows_annotations_side_by_side_and_stores_adjudication(staff_client):
    asha, zoya = annotator("asha"), annotator("zoya")
    batch = open_batch(annotators=[asha, zoya], size=1, overlap=2)
    for person, value in ((asha, 2), (zoya, 0)):
        annotation_submit(
            assignment=batch.assignments.get(annotator=person),
            scores=scores(value),
            comment=f"note by {person.username}",
        )
    sample = batch.items.get().sample
    url = reverse("annotate:review_item", args=[batch.pk, sample.pk])
    page = staff_client.get(url).text
    assert "<th>asha</th><th>zoya</th>" in page and "note by zoya" in page
    listing = staff_client.get(reverse("annotate:review_list", args=[batch.pk])).text
    assert "2 / 2" in listing
    staff_client.post(url, {"final-fluency": "1"})
    final = Rating.objects.get(sample=sample, rater__kind=Rater.Kind.ADJUDICATED)
    assert final.dimension.slug == "fluency" and final.value == 1
    humans = Rating.objects.filter(sample=sample, rater__kind=Rater.Kind.HUMAN)
    assert humans.filter(dimension__kind="rubric").count() == 6  # left as they were
