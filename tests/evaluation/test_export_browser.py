"""The export page in a real Chromium: start an export, watch its row poll, download."""

import importlib
import os
from pathlib import Path

import pytest
from django.apps import apps
from django.urls import reverse
from playwright.sync_api import sync_playwright

from evaluation.export import ExportCriteria
from evaluation.models import Dimension, Export
from evaluation.services import export_run
from tests.factories import PASSWORD, HumanRaterFactory, RatingFactory, SampleFactory, StaffFactory

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page(live_server, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    # Transactional tests flush every table, the migration-seeded rubric included.
    importlib.import_module("evaluation.migrations.0003_seed_rubric").seed_rubric(apps, None)
    StaffFactory(username="staff")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_context(accept_downloads=True).new_page()
        page.set_default_timeout(10_000)
        page.goto(f"{live_server.url}{reverse('login')}")
        page.fill("#id_username", "staff")
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")
        yield page
        browser.close()


def test_a_pending_export_polls_until_its_files_appear(page, live_server):
    fluency = Dimension.objects.get(slug="fluency")
    sample = SampleFactory(language="ur")
    for _ in range(2):
        RatingFactory(sample=sample, dimension=fluency, rater=HumanRaterFactory(), value=2)
    export = Export.objects.create(
        criteria=ExportCriteria(dimensions=("fluency",)).to_dict(), formats=["jsonl", "updesh"]
    )
    page.goto(f"{live_server.url}{reverse('evaluation:export-list')}")
    row = page.locator(f"#export-{export.pk}")
    assert "Pending" in row.inner_text()
    # The worker's part, done here: the row, still polling, picks the result up.
    export_run(export_id=export.pk)
    link = row.get_by_role("link", name="updesh/creative_writing/urd_Arab.parquet")
    link.wait_for()
    assert "Completed" in row.inner_text()
    assert row.get_attribute("hx-trigger") is None
    with page.expect_download() as download:
        row.get_by_role("link", name="samples.jsonl").click()
    assert str(sample.pk) in Path(download.value.path()).read_text(encoding="utf-8")


def test_starting_an_export_from_the_form(page, live_server):
    page.goto(f"{live_server.url}{reverse('evaluation:export-list')}")
    page.get_by_label("Fluency", exact=True).check()
    page.get_by_role("button", name="Start export").click()
    page.locator("#exports tbody tr").first.wait_for()
    export = Export.objects.get()
    assert export.criteria["dimensions"] == ["fluency"]
    # With eager Celery (the tests' setting) the export ran as soon as the request committed.
    page.locator(f"#export-{export.pk}").get_by_text("Completed").wait_for()
