"""Rows that migrations seed, restored for transactional tests (which flush every table)."""

import importlib

from django.apps import apps
from django.contrib.auth.models import Group

from annotate.models import ANNOTATORS_GROUP


def reseed() -> None:
    rubric = importlib.import_module("evaluation.migrations.0003_seed_rubric")
    rubric.seed_rubric(apps, None)
    Group.objects.get_or_create(name=ANNOTATORS_GROUP)
