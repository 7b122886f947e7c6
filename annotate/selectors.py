"""Reads of the annotate app."""

import statistics
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db.models import Avg, Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.http import Http404

from evaluation.models import Comparison, Dimension, Preference, Rater, Rating
from parakh.prepared import PreparedQuery
from synth.models import Sample

from .models import Annotation, AnnotatorLanguage, Assignment, Batch, BatchItem

DONE = [Assignment.Status.SUBMITTED, Assignment.Status.SKIPPED]


@dataclass(frozen=True, slots=True)
class BatchProgress:
    batch: Batch
    done: int
    assigned: int

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.assigned) if self.assigned else 0


def batch_progress_for_annotator(*, user) -> list[BatchProgress]:
    """The annotator's open batches with done / assigned counts, in one query.

    Pull batches count the annotator's claims so far as assigned (their share of the pool
    is not known in advance).
    """
    live = ~Q(assignments__status=Assignment.Status.REVOKED)
    mine = Q(assignments__annotator=user) & live
    batches = (
        Batch.objects.filter(status=Batch.Status.OPEN)
        .filter(Q(assignments__annotator=user) | Q(annotators=user))
        .annotate(
            assigned=Count("assignments", filter=mine, distinct=True),
            done=Count(
                "assignments",
                filter=mine & Q(assignments__status__in=DONE),
                distinct=True,
            ),
        )
        .distinct()
        .order_by("due", "name")
    )
    return [BatchProgress(batch=b, done=b.done, assigned=b.assigned) for b in batches]


_PROGRESS = PreparedQuery(
    lambda p: (
        Assignment.objects.filter(batch_id=p.batch, annotator_id=p.user)
        .exclude(status=Assignment.Status.REVOKED)
        .order_by()
        .values("batch_id")
        .annotate(assigned=Count("pk"), done=Count("pk", filter=Q(status__in=DONE)))
        .values_list("assigned", "done")
    )
)


def batch_progress_of(*, batch: Batch, user) -> BatchProgress:
    assigned, done = _PROGRESS.first(batch=batch.pk, user=user.pk) or (0, 0)
    return BatchProgress(batch=batch, done=done, assigned=assigned)


def item_progress(*, assignment: Assignment, user) -> BatchProgress:
    """The user's progress on the assignment's batch: as read with the assignment when it
    came from ``assignment_next_for``, else counted now."""
    done = getattr(assignment, "progress_done", None)
    if done is None:
        return batch_progress_of(batch=assignment.batch, user=user)
    return BatchProgress(batch=assignment.batch, done=done, assigned=assignment.progress_assigned)


# What an item's page shows besides the assignment, by the kind of batch. Five tables at
# most: the nine-table join of every relation at once took PostgreSQL 5 ms to plan.
_PAGE_RELATIONS = {
    Batch.Kind.RATINGS: ("annotation", "sample__source"),
    Batch.Kind.PAIRWISE: (
        "annotation",
        "comparison__prompt",
        "comparison__response_a",
        "comparison__response_b",
    ),
}


def _own(p):
    return Assignment.objects.filter(pk=p.pk, annotator_id=p.user)


# The hot reads of an item's page and its submit, compiled once per process (see
# parakh.prepared): as querysets they cost more to compose than to run.
_ACCESS_IN_BATCH = {
    kind: PreparedQuery(
        lambda p, relations=relations: _own(p).filter(batch_id=p.batch).select_related(*relations)
    )
    for kind, relations in _PAGE_RELATIONS.items()
}
# The batch's kind is not known yet: join what a ratings item shows, and read a
# comparison's rows apart when it is one.
_ACCESS_PAGE = PreparedQuery(
    lambda p: _own(p).select_related("batch", *_PAGE_RELATIONS[Batch.Kind.RATINGS])
)
_ACCESS_BARE = PreparedQuery(lambda p: _own(p).select_related("batch"))


def access_assignment(
    *, user, pk: int, batch: Batch | None = None, page: bool = True
) -> Assignment:
    """The user's own assignment; anybody else's (staff included) answers 404.

    With what its page shows (``page``): the annotation when there is one, and the sample
    and its source, or the comparison and its prompt and responses. Without, only the
    assignment and its batch: enough for a submit, which reads what it changes under its
    own lock. ``batch``: the assignment's batch, already loaded (the page after a submit,
    on the same batch): it is used, not re-read, so the dimensions read on it serve again.
    """
    if batch is not None:
        assignment = _ACCESS_IN_BATCH[batch.kind].first(pk=pk, user=user.pk, batch=batch.pk)
    elif page:
        assignment = _ACCESS_PAGE.first(pk=pk, user=user.pk)
    else:
        assignment = _ACCESS_BARE.first(pk=pk, user=user.pk)
    if assignment is None:
        raise Http404("No such assignment.")
    if batch is not None:
        assignment.batch = batch
    elif page and assignment.comparison_id is not None:
        assignment.comparison = Comparison.objects.select_related(
            "prompt", "response_a", "response_b"
        ).get(pk=assignment.comparison_id)
    return assignment


def access_batch(*, user, pk: int) -> Batch:
    """An open batch the user works on; others answer 404."""
    batch = (
        Batch.objects.filter(pk=pk)
        .filter(Q(annotators=user) | Q(assignments__annotator=user))
        .distinct()
        .first()
    )
    if batch is None:
        raise Http404("No such batch.")
    return batch


def _next_query(kind: str) -> PreparedQuery:
    def build(p):
        mine = (
            Assignment.objects.filter(batch_id=p.batch, annotator_id=p.user)
            .exclude(status=Assignment.Status.REVOKED)
            .order_by()
            .values("annotator_id")
        )
        # In batch order: the index (batch, annotator, status, position, id) gives the first
        # row without sorting the annotator's other items.
        return (
            Assignment.objects.filter(
                batch_id=p.batch, annotator_id=p.user, status=Assignment.Status.ASSIGNED
            )
            .select_related(*_PAGE_RELATIONS[kind])
            .annotate(
                # The page's progress bar, read in the same query.
                progress_assigned=Subquery(mine.annotate(n=Count("pk")).values("n")),
                progress_done=Subquery(
                    mine.filter(status__in=DONE).annotate(n=Count("pk")).values("n")
                ),
            )
            .order_by("position", "pk")[:1]
        )

    return PreparedQuery(build)


_NEXT = {kind: _next_query(kind) for kind in _PAGE_RELATIONS}


def assignment_next_for(*, annotator, batch: Batch) -> Assignment | None:
    """The annotator's next unscored item of a push batch, in batch order, with what its
    page shows (as ``access_assignment``, and the progress for ``item_progress``) and
    ``batch`` itself as its batch."""
    following = _NEXT[batch.kind].first(batch=batch.pk, user=annotator.pk)
    if following is not None:
        following.batch = batch
    return following


_BATCH_DIMENSIONS = PreparedQuery(lambda p: Dimension.objects.filter(batches=p.batch))


def batch_dimensions(*, batch: Batch) -> list[Dimension]:
    """The batch's dimensions in rubric order. Read once per Batch instance: a batch's
    dimensions are fixed when it is built, and a submit and the page that follows it share
    the instance."""
    cached = batch.__dict__.get("_dimension_list")
    if cached is None:
        cached = batch.__dict__["_dimension_list"] = _BATCH_DIMENSIONS(batch=batch.pk)
    return cached


def assignment_list_for(*, annotator, batch: Batch) -> QuerySet[Assignment]:
    return (
        Assignment.objects.filter(batch=batch, annotator=annotator)
        .exclude(status=Assignment.Status.REVOKED)
        .select_related("sample", "comparison__prompt")
        .order_by("pk")
    )


def ratings_of(*, user, sample: Sample) -> dict[str, int]:
    """The user's own values on a sample, by dimension slug (to prefill a revisit)."""
    return dict(
        Rating.objects.filter(sample=sample, rater__user=user).values_list(
            "dimension__slug", "value"
        )
    )


@dataclass
class AnnotatorRow:
    username: str
    user_id: int
    assigned: int = 0
    done: int = 0
    median_seconds: float | None = None
    gold_correct: int = 0
    gold_total: int = 0

    @property
    def gold_accuracy(self) -> float | None:
        return self.gold_correct / self.gold_total if self.gold_total else None


def batch_progress_by_annotator(*, batch: Batch) -> list[AnnotatorRow]:
    """Per annotator: done / assigned, median seconds per submitted item, gold accuracy."""
    rows: dict[int, AnnotatorRow] = {}
    seconds: dict[int, list[int]] = {}
    assignments = (
        batch.assignments.exclude(status=Assignment.Status.REVOKED)
        .select_related("annotator")
        .only("annotator__username", "status", "seconds_spent", "annotator_id")
    )
    for assignment in assignments:
        row = rows.setdefault(
            assignment.annotator_id,
            AnnotatorRow(username=assignment.annotator.username, user_id=assignment.annotator_id),
        )
        row.assigned += 1
        if assignment.status in DONE:
            row.done += 1
        if assignment.status == Assignment.Status.SUBMITTED:
            seconds.setdefault(assignment.annotator_id, []).append(assignment.seconds_spent)
    for user_id, values in seconds.items():
        rows[user_id].median_seconds = statistics.median(values)
    if batch.kind == Batch.Kind.PAIRWISE:
        _gold_preferences(batch, rows)
        return sorted(rows.values(), key=lambda row: row.username)
    gold_samples = batch.items.filter(is_gold=True).values("sample")
    gold = {
        (r["sample_id"], r["dimension_id"]): r["value"]
        for r in Rating.objects.filter(
            sample__in=gold_samples,
            rater__kind=Rater.Kind.GOLD,
            dimension__in=batch.dimensions.all(),
        ).values("sample_id", "dimension_id", "value")
    }
    if gold:
        human = Rating.objects.filter(
            sample__in=gold_samples,
            rater__user_id__in=list(rows),
            dimension__in=batch.dimensions.all(),
        ).values("sample_id", "dimension_id", "value", "rater__user_id")
        for rating in human:
            expected = gold.get((rating["sample_id"], rating["dimension_id"]))
            if expected is not None:
                row = rows[rating["rater__user_id"]]
                row.gold_total += 1
                row.gold_correct += rating["value"] == expected
    return sorted(rows.values(), key=lambda row: row.username)


def _gold_preferences(batch: Batch, rows: dict[int, AnnotatorRow]) -> None:
    """Gold accuracy on a pairwise batch: the annotator's verdict equals the gold one
    (same outcome, same winning response; a tie and "both bad" are different answers)."""
    gold_comparisons = batch.items.filter(is_gold=True).values("comparison")
    verdicts = Preference.objects.filter(comparison__in=gold_comparisons)
    gold = {
        p["comparison_id"]: (p["outcome"], p["winner_id"])
        for p in verdicts.filter(rater__kind=Rater.Kind.GOLD).values(
            "comparison_id", "outcome", "winner_id"
        )
    }
    human = verdicts.filter(rater__user_id__in=list(rows), comparison_id__in=list(gold)).values(
        "comparison_id", "outcome", "winner_id", "rater__user_id"
    )
    for preference in human:
        row = rows[preference["rater__user_id"]]
        row.gold_total += 1
        row.gold_correct += gold[preference["comparison_id"]] == (
            preference["outcome"],
            preference["winner_id"],
        )


def batch_totals(*, batch: Batch) -> dict[str, int]:
    live = batch.assignments.exclude(status=Assignment.Status.REVOKED)
    counts = live.aggregate(
        assigned=Count("pk"),
        submitted=Count("pk", filter=Q(status=Assignment.Status.SUBMITTED)),
    )
    counts["items"] = batch.items.count()
    counts["needed"] = counts["items"] * batch.overlap
    return counts


@dataclass
class ReviewItem:
    item: BatchItem
    dimensions: list[Dimension]
    annotators: list[str] = field(default_factory=list)
    # rows: one per dimension, values in annotator order (None = not rated)
    rows: list[tuple[Dimension, list[int | None], int | None, int | None]] = field(
        default_factory=list
    )
    comments: list[tuple[str, str, list[str]]] = field(default_factory=list)


def review_item(*, batch: Batch, sample_id: int) -> ReviewItem:
    """All annotations of an item side by side, with gold and adjudicated values."""
    item = (
        BatchItem.objects.select_related("sample", "sample__source")
        .filter(batch=batch, sample_id=sample_id)
        .first()
    )
    if item is None:
        raise Http404("No such item in this batch.")
    assignments = list(
        batch.assignments.filter(sample_id=sample_id, status=Assignment.Status.SUBMITTED)
        .select_related("annotator")
        .order_by("annotator__username")
    )
    users = [a.annotator for a in assignments]
    dimensions = [d for d in batch.dimensions.all() if d.applies_to(item.sample.task_type)]
    ratings = Rating.objects.filter(sample_id=sample_id, dimension__in=dimensions).values(
        "dimension_id", "value", "rater__user_id", "rater__kind"
    )
    human: dict[tuple[int, int], int] = {}
    special: dict[tuple[str, int], int] = {}
    for r in ratings:
        if r["rater__kind"] == Rater.Kind.HUMAN:
            human[(r["rater__user_id"], r["dimension_id"])] = r["value"]
        elif r["rater__kind"] in (Rater.Kind.GOLD, Rater.Kind.ADJUDICATED):
            special[(r["rater__kind"], r["dimension_id"])] = r["value"]
    review = ReviewItem(item=item, dimensions=dimensions, annotators=[u.username for u in users])
    for dimension in dimensions:
        review.rows.append(
            (
                dimension,
                [human.get((u.pk, dimension.pk)) for u in users],
                special.get((Rater.Kind.GOLD, dimension.pk)),
                special.get((Rater.Kind.ADJUDICATED, dimension.pk)),
            )
        )
    annotations = Annotation.objects.filter(assignment__in=assignments).select_related(
        "assignment__annotator"
    )
    review.comments = [(a.assignment.annotator.username, a.comment, a.flags) for a in annotations]
    return review


def review_list(*, batch: Batch) -> QuerySet[BatchItem]:
    """The batch's items with how many submissions and whether adjudicated."""
    adjudicated = Rating.objects.filter(
        sample=OuterRef("sample"), rater__kind=Rater.Kind.ADJUDICATED
    )
    # Pairwise items are reviewed on the arena pages, not here.
    return (
        batch.items.filter(sample__isnull=False)
        .select_related("sample")
        .annotate(
            submissions=Count(
                "sample__assignments",
                filter=Q(
                    sample__assignments__batch=batch,
                    sample__assignments__status=Assignment.Status.SUBMITTED,
                ),
            ),
            adjudicated=Exists(adjudicated),
        )
        .order_by("position", "pk")
    )


def qualified_annotators(*, language: str, min_proficiency: int):
    return (
        get_user_model()
        .objects.filter(
            annotator_profile__languages__in=AnnotatorLanguage.objects.filter(
                language=language, proficiency__gte=min_proficiency
            )
        )
        .distinct()
        .order_by("username")
    )


def sample_candidates(
    *,
    language: str,
    task_types: list[str] | None = None,
    statuses: list[str] | None = None,
    judge_min: float | None = None,
    judge_max: float | None = None,
    source_kind: str = "",
) -> QuerySet[Sample]:
    """Samples a batch may hold: language, task types, status, mean judge score, source."""
    samples = Sample.objects.filter(language=language)
    if task_types:
        samples = samples.filter(task_type__in=task_types)
    if statuses:
        samples = samples.filter(status__in=statuses)
    if source_kind == "none":
        samples = samples.filter(source__isnull=True)
    elif source_kind:
        samples = samples.filter(source__kind=source_kind)
    if judge_min is not None or judge_max is not None:
        samples = samples.annotate(
            judge_mean=Avg(
                "ratings__value",
                filter=Q(
                    ratings__rater__kind=Rater.Kind.LLM,
                    ratings__dimension__kind=Dimension.Kind.RUBRIC,
                ),
            )
        )
        if judge_min is not None:
            samples = samples.filter(judge_mean__gte=judge_min)
        if judge_max is not None:
            samples = samples.filter(judge_mean__lte=judge_max)
    return samples.order_by("pk")


def gold_candidates(*, samples: QuerySet[Sample]) -> QuerySet[Sample]:
    """Those of ``samples`` that have expected values (gold Ratings)."""
    return samples.filter(
        Exists(Rating.objects.filter(sample=OuterRef("pk"), rater__kind=Rater.Kind.GOLD))
    )
