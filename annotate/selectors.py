"""Reads of the annotate app."""

from dataclasses import dataclass

from django.db.models import Count, Q

from .models import Assignment, Batch


@dataclass(frozen=True, slots=True)
class BatchProgress:
    batch: Batch
    done: int
    assigned: int

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.assigned) if self.assigned else 0


def batch_progress_for_annotator(*, user) -> list[BatchProgress]:
    """The annotator's open batches with done / assigned counts, in one query."""
    live = ~Q(assignments__status=Assignment.Status.REVOKED)
    mine = Q(assignments__annotator=user) & live
    batches = (
        Batch.objects.filter(status=Batch.Status.OPEN, assignments__annotator=user)
        .annotate(
            assigned=Count("assignments", filter=mine, distinct=True),
            done=Count(
                "assignments",
                filter=mine
                & Q(
                    assignments__status__in=[Assignment.Status.SUBMITTED, Assignment.Status.SKIPPED]
                ),
                distinct=True,
            ),
        )
        .distinct()
        .order_by("due", "name")
    )
    return [BatchProgress(batch=b, done=b.done, assigned=b.assigned) for b in batches]
