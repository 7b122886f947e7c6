"""Annotators see only their own things; staff pages are staff-only; sign-in is throttled."""

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from annotate.models import Assignment
from evaluation.models import Rating
from tests.annotate.helpers import annotator, full_scores, open_batch

pytestmark = pytest.mark.django_db


@pytest.fixture
def two(client, password):
    asha, zoya = annotator("asha"), annotator("zoya")
    batch = open_batch(annotators=[asha, zoya], overlap=1, size=2)
    client.login(username="asha", password=password)
    theirs = Assignment.objects.get(batch=batch, annotator=zoya)
    return batch, theirs


def test_another_annotators_assignment_is_404_to_read_and_to_write(client, two):
    _, theirs = two
    url = reverse("annotate:item", args=[theirs.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, full_scores(2)).status_code == 404
    assert not Rating.objects.exists()


def test_a_batch_i_do_not_work_on_is_404(client, password):
    other = open_batch(annotators=[annotator("zoya")])
    annotator("asha")
    client.login(username="asha", password=password)
    assert client.get(reverse("annotate:batch_next", args=[other.pk])).status_code == 404


@pytest.mark.parametrize(
    "name,args",
    [
        ("batch_list", []),
        ("batch_build", []),
        ("batch_progress", ["batch"]),
        ("review_list", ["batch"]),
    ],
)
def test_staff_pages_send_annotators_to_sign_in(client, two, name, args):
    batch, _ = two
    response = client.get(reverse(f"annotate:{name}", args=[batch.pk for _ in args]))
    assert response.status_code == 302 and "login" in response["Location"]


def test_staff_writes_are_refused_to_annotators(client, two):
    batch, theirs = two
    assert client.post(reverse("annotate:assignment_revoke", args=[theirs.pk])).status_code == 302
    theirs.refresh_from_db()
    assert theirs.status == Assignment.Status.ASSIGNED
    client.post(reverse("annotate:batch_status", args=[batch.pk]), {"to": "closed"})
    batch.refresh_from_db()
    assert batch.status == "open"


def test_htmx_post_without_csrf_token_is_refused(password):
    asha = annotator("asha")
    batch = open_batch(annotators=[asha], size=1)
    client = Client(enforce_csrf_checks=True)
    client.login(username="asha", password=password)
    mine = Assignment.objects.get(batch=batch)
    url = reverse("annotate:item", args=[mine.pk])
    response = client.post(url, full_scores(2), headers={"HX-Request": "true"})
    assert response.status_code == 403
    page = client.get(url)
    token = str(page.context["csrf_token"])
    assert f'"x-csrftoken": "{token}"' in page.text
    ok = client.post(url, full_scores(2), headers={"HX-Request": "true", "X-CSRFToken": token})
    assert ok.status_code == 200
    assert Rating.objects.filter(rater__user=asha).exists()


def test_sign_in_locks_out_after_repeated_failures(client, password, settings):
    settings.PARAKH_LOGIN_MAX_FAILURES = 3
    cache.clear()
    annotator("asha")
    url = reverse("login")
    for _ in range(3):
        assert client.post(url, {"username": "asha", "password": "wrong"}).status_code == 200
    locked = client.post(url, {"username": "asha", "password": password})
    assert locked.status_code == 429 and "Too many" in locked.text
    assert "_auth_user_id" not in client.session
    cache.clear()
    assert client.post(url, {"username": "asha", "password": password}).status_code == 302


def test_a_deactivated_annotator_is_signed_out_at_their_next_request(client, password):
    asha = annotator("asha")
    batch = open_batch(annotators=[asha], size=1)
    client.login(username="asha", password=password)
    mine = Assignment.objects.get(batch=batch)
    url = reverse("annotate:item", args=[mine.pk])
    assert client.get(url).status_code == 200
    asha.is_active = False
    asha.save(update_fields=["is_active"])
    response = client.post(url, full_scores(2))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert not Rating.objects.exists()
