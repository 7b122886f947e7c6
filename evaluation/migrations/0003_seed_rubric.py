"""Seed the rubric of the Updesh human evaluation from evaluation/rubric/v1.json.

The file is versioned and never edited in place: a changed rubric is a new file and a new
migration, so that a fresh database and an old one end with the same dimensions.
"""

import json
from pathlib import Path

from django.db import migrations

RUBRIC_FILE = Path(__file__).resolve().parent.parent / "rubric" / "v1.json"
FIELDS = (
    "name",
    "kind",
    "level",
    "scale_min",
    "scale_max",
    "position",
    "guidelines",
    "anchors",
    "task_types",
)


def seed_rubric(apps, schema_editor) -> None:
    Dimension = apps.get_model("evaluation", "Dimension")
    rubric = json.loads(RUBRIC_FILE.read_text(encoding="utf-8"))
    for entry in rubric["dimensions"]:
        Dimension.objects.update_or_create(
            slug=entry["slug"], defaults={field: entry[field] for field in FIELDS}
        )


def unseed_rubric(apps, schema_editor) -> None:
    Dimension = apps.get_model("evaluation", "Dimension")
    rubric = json.loads(RUBRIC_FILE.read_text(encoding="utf-8"))
    slugs = [entry["slug"] for entry in rubric["dimensions"]]
    Dimension.objects.filter(slug__in=slugs, ratings__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("evaluation", "0002_rating_value_in_scale")]

    operations = [migrations.RunPython(seed_rubric, unseed_rubric)]
