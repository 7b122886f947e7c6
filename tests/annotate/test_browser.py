"""The scoring page in a real Chromium: keyboard only, right-to-left, untrusted text, 404."""

import json
import os
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import sync_playwright

from annotate.models import Assignment
from evaluation.models import Rating
from synth.services import content_hash
from tests.annotate.helpers import annotator, open_batch
from tests.annotate.seed import reseed
from tests.factories import PASSWORD, SampleFactory

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page(live_server):
    reseed()
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(10_000)
        yield page
        browser.close()


def sign_in(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}{reverse('login')}")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def demo_messages(language: str) -> list[dict]:
    data = json.loads((ROOT / "annotate" / "demo_data" / f"{language}.json").read_text("utf-8"))
    return data["samples"][0]["messages"]


def test_an_annotator_scores_three_items_with_the_keyboard_alone(page, live_server):
    asha = annotator("asha")
    batch = open_batch(annotators=[asha], size=3)
    sign_in(page, live_server, "asha")
    page.click(f"#batch-{batch.pk} a.continue")
    page.wait_for_selector("#item-form")
    # A click does not wait for the page's deferred scripts, and keys typed before they run
    # go nowhere; goto() waits for "load" itself.
    page.wait_for_load_state("load")
    for done in range(1, 4):
        shown = page.get_attribute("#item-panel", "data-assignment")
        page.keyboard.press("2")
        page.keyboard.press("1")
        page.keyboard.press("2")
        page.keyboard.press("Enter")
        if done < 3:
            # The next item has replaced this one (keys now go to it) and the bar moved.
            page.wait_for_function(
                f"document.getElementById('item-panel').dataset.assignment !== '{shown}'"
                f" && document.getElementById('batch-progress').value === {done}",
                timeout=30_000,
            )
    page.wait_for_selector("text=Nothing left")
    assert page.get_attribute("#batch-progress", "value") == "3"
    assert Assignment.objects.filter(batch=batch, status="submitted").count() == 3
    # Per item: the digits 2, 1, 2 went to the three dimensions in page order.
    rubric = Rating.objects.filter(rater__user=asha, dimension__kind="rubric")
    assert rubric.filter(value=1).count() == 3 and rubric.filter(value=2).count() == 6


def test_keys_help_opens_with_question_mark_and_s_skips(page, live_server):
    asha = annotator("asha")
    batch = open_batch(annotators=[asha], size=2)
    sign_in(page, live_server, "asha")
    page.goto(f"{live_server.url}{reverse('annotate:batch_next', args=[batch.pk])}")
    page.wait_for_selector("#item-form")
    page.keyboard.press("?")
    assert page.is_visible("#keys-help")
    page.keyboard.press("Escape")
    first = page.get_attribute("#item-panel", "data-assignment")
    page.keyboard.press("s")
    page.wait_for_function(
        f"document.getElementById('item-panel').dataset.assignment !== '{first}'"
    )
    assert Assignment.objects.get(pk=first).status == "skipped"


def _screenshot_item(page, live_server, language: str, username: str) -> None:
    user = annotator(username, language)
    sample = SampleFactory(
        language=language,
        messages=demo_messages(language),
        content_hash=content_hash("browser", language),
    )
    batch = open_batch(annotators=[user], samples=[sample], language=language)
    assignment = Assignment.objects.get(batch=batch)
    sign_in(page, live_server, username)
    page.goto(f"{live_server.url}{reverse('annotate:item', args=[assignment.pk])}")
    page.wait_for_selector("#item-form")
    page.evaluate("document.fonts.ready")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"item-{language}.png"), full_page=True)


@pytest.mark.parametrize("language,username", [("hi", "asha"), ("ta", "ravi")])
def test_item_page_renders_the_script_in_its_noto_font(page, live_server, language, username):
    _screenshot_item(page, live_server, language, username)
    family = page.evaluate(
        f"getComputedStyle(document.querySelector('.message-assistant [lang={language}]'))"
        ".fontFamily"
    )
    assert "Noto Sans" in family
    loaded = page.evaluate(
        "Array.from(document.fonts).filter(f => f.status === 'loaded').map(f => f.family)"
    )
    assert any("Noto Sans" in name and name != "Noto Sans" for name in loaded), loaded


def test_an_urdu_sample_is_right_to_left(page, live_server):
    _screenshot_item(page, live_server, "ur", "zoya")
    answer = page.locator(".message-assistant .content")
    assert answer.get_attribute("dir") == "rtl"
    assert answer.evaluate("el => getComputedStyle(el).direction") == "rtl"
    assert "Nastaliq" in answer.evaluate("el => getComputedStyle(el).fontFamily")


def test_script_and_onerror_payloads_render_as_text_and_run_nothing(page, live_server):
    asha = annotator("asha")
    sample = SampleFactory(
        messages=[
            {"role": "user", "content": "<script>window.pwned = 'script'</script> कविता लिखिए"},
            {"role": "assistant", "content": "<img src=x onerror=\"window.pwned = 'img'\"> दीप"},
        ]
    )
    batch = open_batch(annotators=[asha], samples=[sample])
    sign_in(page, live_server, "asha")
    page.goto(f"{live_server.url}{reverse('annotate:batch_next', args=[batch.pk])}")
    page.wait_for_selector("#item-form")
    page.wait_for_load_state("networkidle")
    assert page.evaluate("window.pwned === undefined")
    assert page.locator(".conversation img").count() == 0
    assert "<img src=x onerror" in page.inner_text(".message-assistant .content")


def test_opening_another_annotators_assignment_answers_404(page, live_server):
    asha, zoya = annotator("asha"), annotator("zoya")
    batch = open_batch(annotators=[asha, zoya], size=1, overlap=2)
    theirs = Assignment.objects.get(batch=batch, annotator=zoya)
    sign_in(page, live_server, "asha")
    response = page.goto(f"{live_server.url}{reverse('annotate:item', args=[theirs.pk])}")
    assert response.status == 404
