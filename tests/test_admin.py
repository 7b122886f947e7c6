"""Every model is in the admin, and its list, search and add pages load."""

import pytest
from django.contrib import admin
from django.urls import reverse

from tests.factories import AssignmentFactory, JudgeRaterFactory, RatingFactory

pytestmark = pytest.mark.django_db

APP_MODELS = {
    "synth": {"source", "modelendpoint", "generationjob", "sample"},
    "evaluation": {
        "dimension",
        "judge",
        "judgerun",
        "judgment",
        "rater",
        "rating",
        "arenaprompt",
        "arenaresponse",
        "comparison",
        "preference",
    },
    "annotate": {"annotatorprofile", "batch", "batchitem", "assignment", "annotation"},
}


def test_every_model_is_registered():
    registered = {(m._meta.app_label, m._meta.model_name) for m in admin.site._registry}
    for app, models in APP_MODELS.items():
        assert {(app, model) for model in models} <= registered


@pytest.mark.parametrize(
    ("app", "model"),
    [(app, model) for app, models in APP_MODELS.items() for model in sorted(models)],
)
def test_changelist_search_and_add_pages_load(client, staff, app, model):
    RatingFactory()
    JudgeRaterFactory()
    AssignmentFactory()
    client.force_login(staff)
    changelist = reverse(f"admin:{app}_{model}_changelist")
    assert client.get(changelist).status_code == 200
    assert client.get(changelist, {"q": "दिवाली"}).status_code == 200
    assert client.get(reverse(f"admin:{app}_{model}_add")).status_code == 200


def test_sample_list_shows_language_and_prompt(client, staff):
    rating = RatingFactory()
    client.force_login(staff)
    page = client.get(reverse("admin:synth_sample_changelist")).content.decode()
    assert rating.sample.prompt[:40] in page
    assert "Hindi" in page


def test_sample_list_escapes_untrusted_text_and_sets_direction(client, staff):
    from tests.factories import SampleFactory

    SampleFactory(
        language="ur",
        messages=[
            {"role": "user", "content": "<script>alert(1)</script> عید"},
            {"role": "assistant", "content": "عید مبارک"},
        ],
    )
    client.force_login(staff)
    page = client.get(reverse("admin:synth_sample_changelist")).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'lang="ur" dir="rtl"' in page
