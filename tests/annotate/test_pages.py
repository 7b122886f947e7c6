"""The annotator's pages: continue, score, revisit, skip, no JavaScript and htmx."""

import pytest
from django.urls import reverse

from annotate.models import Annotation, Assignment, Batch
from annotate.services import batch_transition
from evaluation.models import Rating
from synth.services import content_hash
from tests.annotate.helpers import annotator, full_scores, open_batch
from tests.factories import SampleFactory, SourceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def asha(client, password):
    user = annotator("asha")
    client.login(username="asha", password=password)
    return user


def test_home_lists_my_batch_with_progress_and_continue(client, asha):
    batch = open_batch(annotators=[asha])
    response = client.get(reverse("annotate:home"))
    assert response.status_code == 200
    assert batch.name in response.text
    assert "0 / 3 done" in response.text
    assert reverse("annotate:batch_next", args=[batch.pk]) in response.text


def test_continue_opens_the_first_item_with_text_dimensions_and_flags(client, asha):
    source = SourceFactory(title="दिवाली", text="दीपावली रोशनी का त्योहार है।")
    sample = SampleFactory(source=source)
    batch = open_batch(annotators=[asha], samples=[sample])
    response = client.get(reverse("annotate:batch_next", args=[batch.pk]), follow=True)
    assert response.status_code == 200
    page = response.text
    assert 'lang="hi" dir="ltr"' in page
    assert "Grounding passage" in page and "दीपावली रोशनी" in page
    for slug in ("fluency", "cultural_fidelity", "instruction_adherence"):
        assert f'name="score-{slug}"' in page
    assert 'value="flag_offensive"' in page
    assert "Skip" in page
    assignment = Assignment.objects.get(batch=batch, annotator=asha)
    assert assignment.first_served_at is not None


def test_plain_post_saves_ratings_and_redirects_to_the_next_item(client, asha):
    batch = open_batch(annotators=[asha])
    first, second, _ = Assignment.objects.filter(batch=batch).order_by("pk")
    client.get(reverse("annotate:item", args=[first.pk]))
    data = {**full_scores(2), "flags": ["flag_offensive"], "comment": "ठीक", "active_seconds": "7"}
    response = client.post(reverse("annotate:item", args=[first.pk]), data)
    assert response.status_code == 302
    assert response["Location"] == reverse("annotate:item", args=[second.pk])
    first.refresh_from_db()
    assert first.status == Assignment.Status.SUBMITTED
    assert first.active_seconds == 7 and first.submitted_at >= first.first_served_at
    ratings = dict(
        Rating.objects.filter(sample=first.sample, rater__user=asha).values_list(
            "dimension__slug", "value"
        )
    )
    assert ratings["fluency"] == 2 and ratings["flag_offensive"] == 1
    assert ratings["flag_broken_text"] == 0
    assert Annotation.objects.get(assignment=first).flags == ["flag_offensive"]


def test_htmx_submit_returns_the_next_item_and_a_moving_progress_bar(client, asha):
    batch = open_batch(annotators=[asha])
    first, second, _ = Assignment.objects.filter(batch=batch).order_by("pk")
    response = client.post(
        reverse("annotate:item", args=[first.pk]), full_scores(1), headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert f'data-assignment="{second.pk}"' in response.text
    assert 'value="1"' in response.text and "1 / 3 done" in response.text
    assert "<html" not in response.text
    assert response["HX-Push-Url"] == reverse("annotate:item", args=[second.pk])
    assert "ratingSaved" in response["HX-Trigger"]


def test_missing_scores_are_refused_with_the_form_again(client, asha):
    batch = open_batch(annotators=[asha])
    assignment = Assignment.objects.filter(batch=batch).first()
    response = client.post(reverse("annotate:item", args=[assignment.pk]), {"score-fluency": "2"})
    assert response.status_code == 422
    assert "missing" in response.text
    assert not Rating.objects.filter(rater__user=asha).exists()


def test_an_htmx_submit_refused_answers_with_the_form_and_its_error_in_place(client, asha):
    # The refusal is raised after the submit's block, with no savepoint: the same request
    # still reads and renders the item, and nothing of the refused submit is kept.
    batch = open_batch(annotators=[asha])
    assignment = Assignment.objects.filter(batch=batch).order_by("pk").first()
    response = client.post(
        reverse("annotate:item", args=[assignment.pk]),
        {"score-fluency": "2", "comment": "kept on the form"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert "missing" in response.text and "kept on the form" in response.text
    assert f'data-assignment="{assignment.pk}"' in response.text
    assert not Rating.objects.filter(rater__user=asha).exists()
    assignment.refresh_from_db()
    assert assignment.status == Assignment.Status.ASSIGNED


def test_revisit_shows_my_values_and_a_change_replaces_them(client, asha):
    batch = open_batch(annotators=[asha], size=1)
    assignment = Assignment.objects.get(batch=batch)
    url = reverse("annotate:item", args=[assignment.pk])
    client.post(url, full_scores(2))
    page = client.get(url).text
    assert 'value="2" checked' in page and "you may change it" in page
    client.post(url, full_scores(0))
    values = set(Rating.objects.filter(rater__user=asha).values_list("value", flat=True))
    assert values == {0}
    assert Annotation.objects.filter(assignment=assignment).count() == 1


def test_an_item_not_yet_scored_in_this_batch_starts_blank(client, asha):
    # The same sample in a second batch: the annotator scores it again, unanchored by the
    # values they gave in the first.
    sample = SampleFactory()
    first = Assignment.objects.get(batch=open_batch(annotators=[asha], samples=[sample]))
    client.post(reverse("annotate:item", args=[first.pk]), full_scores(2))
    second = Assignment.objects.get(
        batch=open_batch(annotators=[asha], samples=[sample], name="again")
    )
    page = client.get(reverse("annotate:item", args=[second.pk])).text
    assert "checked" not in page and "you may change it" not in page


def test_an_htmx_submit_and_the_next_item_take_one_short_transaction(
    client, asha, django_assert_max_num_queries
):
    # The annotation loop's budget (docs/annotation.md): the user, the locked row (the
    # access check too) with its rater, the dimensions, three writes, the next item with its
    # page and progress, and its serve time; plus BEGIN and COMMIT, and no savepoint.
    batch = open_batch(annotators=[asha])
    first, second, third = Assignment.objects.filter(batch=batch).order_by("pk")
    # The annotator's first submit ever also creates their Rater; the budget is the loop's.
    client.post(reverse("annotate:item", args=[first.pk]), full_scores(1))
    with django_assert_max_num_queries(10):
        response = client.post(
            reverse("annotate:item", args=[second.pk]),
            full_scores(1),
            headers={"HX-Request": "true"},
        )
    assert f'data-assignment="{third.pk}"' in response.text
    assert Rating.objects.filter(rater__user=asha, sample=second.sample).count() == 6


def test_a_closed_batch_refuses_changes(client, asha):
    batch = open_batch(annotators=[asha], size=1)
    assignment = Assignment.objects.get(batch=batch)
    batch_transition(batch=batch, to=Batch.Status.CLOSED)
    response = client.post(reverse("annotate:item", args=[assignment.pk]), full_scores(2))
    assert response.status_code == 422
    assert not Rating.objects.filter(rater__user=asha).exists()


def test_skip_moves_on_and_counts_as_done(client, asha):
    batch = open_batch(annotators=[asha], size=2)
    first, second = Assignment.objects.filter(batch=batch).order_by("pk")
    response = client.post(reverse("annotate:item", args=[first.pk]), {"action": "skip"})
    assert response["Location"] == reverse("annotate:item", args=[second.pk])
    first.refresh_from_db()
    assert first.status == Assignment.Status.SKIPPED


def test_when_nothing_is_left_continue_lists_my_items(client, asha):
    batch = open_batch(annotators=[asha], size=1)
    assignment = Assignment.objects.get(batch=batch)
    response = client.post(reverse("annotate:item", args=[assignment.pk]), full_scores(2))
    assert response["Location"] == reverse("annotate:batch_next", args=[batch.pk])
    page = client.get(response["Location"]).text
    assert "Nothing left" in page and reverse("annotate:item", args=[assignment.pk]) in page


def test_urdu_text_is_right_to_left_and_english_prompts_are_marked_english(client, password):
    zoya = annotator("zoya", "ur")
    client.login(username="zoya", password=password)
    sample = SampleFactory(
        language="ur",
        task_type="translation_en_xx",
        messages=[
            {"role": "user", "content": "Translate into Urdu: The monsoon has arrived."},
            {"role": "assistant", "content": "مون سون آ گیا ہے۔"},
        ],
        content_hash=content_hash("urdu-test"),
    )
    batch = open_batch(annotators=[zoya], samples=[sample], language="ur")
    assignment = Assignment.objects.get(batch=batch)
    page = client.get(reverse("annotate:item", args=[assignment.pk])).text
    assert 'lang="ur" dir="rtl">مون سون' in page
    assert 'lang="en" dir="ltr">Translate into Urdu' in page


def test_untrusted_text_is_escaped(client, asha):
    sample = SampleFactory(
        messages=[
            {"role": "user", "content": "<script>window.pwned=1</script>"},
            {"role": "assistant", "content": '<img src=x onerror="window.pwned=1">'},
        ]
    )
    batch = open_batch(annotators=[asha], samples=[sample])
    assignment = Assignment.objects.get(batch=batch)
    page = client.get(reverse("annotate:item", args=[assignment.pk])).text
    assert "<script>window.pwned" not in page and "<img src=x" not in page
    assert "&lt;script&gt;window.pwned=1&lt;/script&gt;" in page
