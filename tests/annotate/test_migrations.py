"""Migrations that move data: run backwards and forwards on rows made at the latest state."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from annotate.models import Assignment, Batch
from tests.factories import (
    AssignmentFactory,
    BatchFactory,
    BatchItemFactory,
    ComparisonFactory,
)

BEFORE_POSITION = ("annotate", "0005_pairwise")
WITH_POSITION = ("annotate", "0006_assignment_position")


def migrate(target: tuple[str, str]) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([target])


@pytest.mark.django_db(transaction=True)
def test_existing_assignments_take_their_items_position():
    batch = BatchFactory()
    items = [BatchItemFactory(batch=batch, position=position) for position in (4, 9)]
    assignments = [AssignmentFactory(batch=batch, sample=item.sample) for item in items]
    pairwise = BatchFactory(kind=Batch.Kind.PAIRWISE)
    comparison = ComparisonFactory()
    BatchItemFactory(batch=pairwise, sample=None, comparison=comparison, position=2)
    compared = AssignmentFactory(batch=pairwise, sample=None, comparison=comparison)
    leaf = max(
        key
        for key in MigrationExecutor(connection).loader.graph.leaf_nodes()
        if key[0] == "annotate"
    )

    migrate(BEFORE_POSITION)
    migrate(WITH_POSITION)
    migrate(leaf)

    positions = dict(Assignment.objects.values_list("pk", "position"))
    assert positions == {assignments[0].pk: 4, assignments[1].pk: 9, compared.pk: 2}
