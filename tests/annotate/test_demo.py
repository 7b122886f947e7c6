"""`python manage.py demo`: all 14 languages, logins, an overlap-2 batch, idempotent."""

import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from annotate.demo import ADMIN, ANNOTATORS, DEMO_BATCH_NAME, demo_records
from annotate.models import Assignment, Batch, BatchItem
from evaluation.models import Dimension
from synth.languages import LANGUAGES, script_share
from synth.models import Sample, Source
from tests.utils import base_env

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db


def _row_counts() -> dict[str, int]:
    from django.contrib.auth import get_user_model

    models = [Sample, Source, Batch, BatchItem, Assignment, Dimension, get_user_model()]
    return {model.__name__: model.objects.count() for model in models}


def test_bundled_data_covers_all_languages_in_their_scripts():
    records = demo_records()
    per_language = Counter(language for _, language, _ in records)
    assert set(per_language) == set(LANGUAGES)
    assert min(per_language.values()) >= 6
    task_types: dict[str, set[str]] = {}
    for _, language, record in records:
        task_types.setdefault(language, set()).add(record["task_type"])
    assert min(len(types) for types in task_types.values()) >= 4
    for path, language, record in records:
        answer = " ".join(m["content"] for m in record["messages"] if m["role"] == "assistant")
        if record["task_type"] != "translation_xx_en" and not record.get("demo_note"):
            share = script_share(answer, LANGUAGES[language])
            assert share >= 0.85, f"{path.name} {record['key']}: {share:.0%} in script"


def test_demo_loads_once_and_a_second_run_creates_nothing(capsys):
    call_command("demo", "--no-serve")
    first = _row_counts()
    out = capsys.readouterr().out
    assert "admin" in out and "parakh-admin" in out
    for account in ANNOTATORS:
        assert account.username in out and account.password in out

    call_command("demo", "--no-serve")
    assert _row_counts() == first
    assert "(0 new)" in capsys.readouterr().out

    samples = Sample.objects.filter(is_demo=True)
    counts = Counter(samples.values_list("language", flat=True))
    assert set(counts) == set(LANGUAGES) and min(counts.values()) >= 6
    assert not samples.filter(status=Sample.Status.GENERATED).exists(), "every sample filtered"

    batch = Batch.objects.get(name=DEMO_BATCH_NAME)
    assert batch.overlap == 2 and batch.status == Batch.Status.OPEN
    per_item = Counter(batch.assignments.values_list("sample_id", flat=True))
    assert per_item and set(per_item.values()) == {2}
    assert set(per_item) == set(batch.items.values_list("sample_id", flat=True))


def test_demo_logins_work_and_the_admin_lists_samples_in_every_language(client):
    call_command("demo", "--no-serve")
    assert client.login(username=ADMIN.username, password=ADMIN.password)
    for code in LANGUAGES:
        page = client.get(reverse("admin:synth_sample_changelist"), {"language__exact": code})
        assert page.status_code == 200
        assert Sample.objects.filter(language=code).first().prompt[:30] in page.content.decode()
    client.logout()

    annotator = ANNOTATORS[0]
    assert client.login(username=annotator.username, password=annotator.password)
    home = client.get("/").content.decode()
    assert DEMO_BATCH_NAME in home and "0 / " in home
    assert "bundled demo samples" in home


def test_demo_on_the_embedded_default_sqlite(tmp_path):
    """The quick start's path: no DATABASE_URL, no REDIS_URL, a fresh SQLite file."""
    env = {**base_env(), "DEBUG": "true", "PARAKH_VAR_DIR": str(tmp_path)}
    command = [sys.executable, "manage.py", "demo", "--no-serve"]
    first = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    assert "sqlite3" in first.stdout and (tmp_path / "parakh.sqlite3").exists()
    second = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr
    assert "(0 new)" in second.stdout and "already there" in second.stdout
