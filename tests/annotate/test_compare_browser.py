"""The comparison page in a real Chromium, by keyboard alone, with a right-to-left prompt."""

import pytest

from annotate.models import Assignment
from evaluation.models import Preference
from tests.annotate.helpers import annotator
from tests.annotate.test_browser import page, sign_in  # noqa: F401
from tests.annotate.test_pairwise import open_pairwise
from tests.factories import ComparisonFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_annotator_compares_four_pairs_with_the_keyboard(page, live_server):  # noqa: F811
    asha = annotator("asha", language="ur")
    comparisons = [ComparisonFactory(language="ur", left=f"m{i}", right=f"n{i}") for i in range(4)]
    for comparison in comparisons:
        comparison.prompt.text = "بچت کیسے کریں؟ <script>alert(1)</script>"
        comparison.prompt.save()
    batch = open_pairwise(annotators=[asha], comparisons=comparisons, language="ur")
    sign_in(page, live_server, "asha")
    page.click(f"#batch-{batch.pk} a.continue")
    page.wait_for_selector("#compare-form")
    # A click does not wait for the page's deferred scripts, and keys typed before they run
    # go nowhere; goto() waits for "load" itself.
    page.wait_for_load_state("load")
    assert page.get_attribute("#compare-prompt", "dir") == "rtl"
    assert "<script>" in page.inner_text("#compare-prompt")
    for done, key in enumerate(["a", "b", "t", "n"], start=1):
        before = page.get_attribute("#item-panel", "data-assignment")
        page.keyboard.press(key)
        if done < 4:
            page.wait_for_function(
                f"document.getElementById('item-panel').dataset.assignment !== '{before}'"
            )
            assert page.inner_text("#batch-progress-text") == f"{done} / 4 done"
    page.wait_for_url(f"**/batches/{batch.pk}/next/")
    chosen = {}
    for assignment in Assignment.objects.filter(batch=batch).select_related("comparison"):
        preference = Preference.objects.get(comparison=assignment.comparison, rater__user=asha)
        chosen[assignment.pk] = (preference.outcome, preference.winner_id, assignment.comparison)
    outcomes = [chosen[pk] for pk in sorted(chosen)]
    assert outcomes[0][:2] == ("win", outcomes[0][2].response_a_id)
    assert outcomes[1][:2] == ("win", outcomes[1][2].response_b_id)
    assert [o[0] for o in outcomes[2:]] == ["tie", "both_bad"]
    assert Assignment.objects.filter(batch=batch, status="submitted").count() == 4
