"""Every write to the annotate app's tables."""

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from evaluation.models import ArenaResponse, Comparison, Dimension, Rater
from evaluation.services import (
    rater_adjudicated,
    rater_for_user,
    rater_gold,
    ratings_upsert_bulk,
)
from evaluation.services.arena import (
    POSITION_CHOICES,
    preference_from_position,
    preference_record,
)
from parakh.prepared import PreparedQuery
from parakh.transitions import DomainError, check_transition
from synth.languages import get_language
from synth.models import Sample

from . import selectors
from .models import (
    ANNOTATORS_GROUP,
    Annotation,
    AnnotatorLanguage,
    AnnotatorProfile,
    Assignment,
    Batch,
    BatchItem,
    Proficiency,
)
from .selectors import gold_candidates, sample_candidates

User = get_user_model()


class BatchError(DomainError):
    pass


def annotator_create(
    *,
    username: str,
    password: str,
    languages: Mapping[str, int],
    email: str = "",
    first_name: str = "",
) -> User:
    """A user in the annotators group with a profile listing their languages."""
    for code in languages:
        get_language(code)  # KeyError names an unknown code
    with transaction.atomic():
        user = User(username=username, email=email, first_name=first_name)
        user.set_password(password)
        user.full_clean()
        user.save()
        user.groups.add(Group.objects.get(name=ANNOTATORS_GROUP))
        profile = AnnotatorProfile.objects.create(user=user)
        annotator_languages_set(profile=profile, languages=languages)
    return user


def annotator_languages_set(*, profile: AnnotatorProfile, languages: Mapping[str, int]) -> None:
    """Replace the profile's languages with ``{code: proficiency}``."""
    with transaction.atomic():
        profile.languages.exclude(language__in=list(languages)).delete()
        for code, proficiency in languages.items():
            AnnotatorLanguage.objects.update_or_create(
                profile=profile, language=code, defaults={"proficiency": Proficiency(proficiency)}
            )


def batch_create(
    *,
    name: str,
    language: str,
    dimensions: Sequence[Dimension],
    samples: Sequence[Sample],
    annotators: Sequence[User],
    overlap: int = 2,
    distribution: str = Batch.Distribution.PUSH,
    min_proficiency: int = Proficiency.FLUENT,
    instructions: str = "",
    due: datetime | None = None,
    created_by: User | None = None,
    gold_samples: Sequence[Sample] = (),
) -> Batch:
    """A draft batch with its items and, for push batches, a balanced pre-assignment.

    Refuses samples of another language, annotators without the language at the required
    proficiency, and an overlap larger than the number of annotators of a push batch.
    ``gold_samples`` (a subset of ``samples``) become gold items; their expected values are
    the gold rater's Ratings (``gold_expected_set``).
    """
    return _batch_store(
        kind=Batch.Kind.RATINGS,
        unit_field="sample",
        units=samples,
        gold_units=gold_samples,
        unit_language=lambda sample: sample.language,
        name=name,
        language=language,
        dimensions=dimensions,
        annotators=annotators,
        overlap=overlap,
        distribution=distribution,
        min_proficiency=min_proficiency,
        instructions=instructions,
        due=due,
        created_by=created_by,
    )


def _batch_store(
    *,
    kind: str,
    unit_field: str,
    units: Sequence,
    gold_units: Sequence,
    unit_language: Callable[[object], str],
    name: str,
    language: str,
    dimensions: Sequence[Dimension],
    annotators: Sequence[User],
    overlap: int,
    distribution: str,
    min_proficiency: int,
    instructions: str,
    due: datetime | None,
    created_by: User | None,
) -> Batch:
    """What rating and pairwise batches share: the checks, the batch, its items (samples
    or comparisons, ``unit_field``) and the push pre-assignment."""
    label = "Samples" if unit_field == "sample" else "Comparisons"
    wrong_language = [unit.pk for unit in units if unit_language(unit) != language]
    if wrong_language:
        raise BatchError(
            f"{label} {wrong_language} are not in {get_language(language).name}; "
            "a batch holds one language."
        )
    _check_annotators(language=language, annotators=annotators, min_proficiency=min_proficiency)
    gold_ids = {unit.pk for unit in gold_units}
    if not gold_ids <= {unit.pk for unit in units}:
        raise BatchError(f"Gold {label.lower()} must be among the batch's {label.lower()}.")
    _check_overlap(distribution=distribution, overlap=overlap, annotators=annotators)
    with transaction.atomic():
        batch = Batch(
            name=name,
            kind=kind,
            language=language,
            overlap=overlap,
            distribution=distribution,
            instructions=instructions,
            due=due,
            created_by=created_by,
        )
        batch.full_clean()
        batch.save()
        batch.dimensions.set(dimensions)
        batch.annotators.set(annotators)
        BatchItem.objects.bulk_create(
            BatchItem(batch=batch, position=i, is_gold=unit.pk in gold_ids, **{unit_field: unit})
            for i, unit in enumerate(units)
        )
        if distribution == Batch.Distribution.PUSH:
            Assignment.objects.bulk_create(
                _balanced_assignments(batch, units, annotators, unit_field=unit_field)
            )
    return batch


def _check_annotators(*, language: str, annotators: Sequence[User], min_proficiency: int) -> None:
    qualified = set(
        AnnotatorLanguage.objects.filter(
            profile__user__in=annotators, language=language, proficiency__gte=min_proficiency
        ).values_list("profile__user_id", flat=True)
    )
    unqualified = [user.username for user in annotators if user.pk not in qualified]
    if unqualified:
        raise BatchError(
            f"{', '.join(unqualified)} lack {get_language(language).name} at "
            f"{Proficiency(min_proficiency).label} or better."
        )


def _check_overlap(*, distribution: str, overlap: int, annotators: Sequence[User]) -> None:
    if distribution == Batch.Distribution.PUSH and overlap > len(annotators):
        raise BatchError(
            f"Overlap {overlap} needs at least {overlap} annotators; {len(annotators)} chosen."
        )


def _balanced_assignments(
    batch: Batch, units: Sequence, annotators: Sequence[User], *, unit_field: str = "sample"
) -> list[Assignment]:
    # Item i goes to annotators i*k … i*k+k-1 (mod n): every item gets k distinct people and
    # every annotator's load differs from another's by at most one.
    count = len(annotators)
    return [
        Assignment(
            batch=batch,
            annotator=annotators[(index * batch.overlap + j) % count],
            slot=j,
            overlap=batch.overlap,
            position=index,
            **{unit_field: unit},
        )
        for index, unit in enumerate(units)
        for j in range(batch.overlap)
    ]


def batch_create_pairwise(
    *,
    name: str,
    language: str,
    comparisons: Sequence[Comparison],
    annotators: Sequence[User],
    overlap: int = 2,
    distribution: str = Batch.Distribution.PUSH,
    min_proficiency: int = Proficiency.FLUENT,
    instructions: str = "",
    due: datetime | None = None,
    created_by: User | None = None,
    gold_comparisons: Sequence[Comparison] = (),
) -> Batch:
    """A draft pairwise batch: annotators choose the better of two responses to a prompt.

    The same rules as batch_create: one language, qualified annotators, overlap k with a
    balanced pre-assignment for push batches. ``gold_comparisons`` (among ``comparisons``)
    become gold items; their expected verdict is the gold rater's Preference
    (``gold_preference_set``).
    """
    # Fresh rows with their prompts, in the caller's order (the batch's item order).
    loaded = Comparison.objects.select_related("prompt").in_bulk([c.pk for c in comparisons])
    comparisons = [loaded[c.pk] for c in comparisons if c.pk in loaded]
    if not comparisons:
        raise BatchError("Choose at least one comparison.")
    return _batch_store(
        kind=Batch.Kind.PAIRWISE,
        unit_field="comparison",
        units=comparisons,
        gold_units=gold_comparisons,
        unit_language=lambda comparison: comparison.prompt.language,
        name=name,
        language=language,
        dimensions=(),
        annotators=annotators,
        overlap=overlap,
        distribution=distribution,
        min_proficiency=min_proficiency,
        instructions=instructions,
        due=due,
        created_by=created_by,
    )


def batch_transition(*, batch: Batch, to: str) -> Batch:
    check_transition(batch, current=batch.status, target=to, allowed=Batch.TRANSITIONS)
    batch.status = to
    batch.save(update_fields=["status", "updated_at"])
    return batch


def assignment_transition(*, assignment: Assignment, to: str) -> Assignment:
    check_transition(
        assignment, current=assignment.status, target=to, allowed=Assignment.TRANSITIONS
    )
    assignment.status = to
    assignment.save(update_fields=["status", "updated_at"])
    return assignment


def _lease() -> timedelta:
    return timedelta(seconds=getattr(settings, "PARAKH_ANNOTATE_LEASE_SECONDS", 30 * 60))


def gold_expected_set(*, sample: Sample, values: Mapping[Dimension, int]) -> None:
    """The expected values of a gold item, stored as the gold rater's Ratings."""
    ratings_upsert_bulk(sample=sample, rater=rater_gold(), values=values)


def gold_preference_set(
    *, comparison: Comparison, winner: ArenaResponse | None, outcome: str
) -> None:
    """The expected verdict of a gold comparison, as the gold rater's Preference."""
    preference_record(comparison=comparison, rater=rater_gold(), outcome=outcome, winner=winner)


def assignment_release_expired(*, batch: Batch) -> int:
    """Return abandoned pull claims to the pool: unsubmitted claims past their lease."""
    deleted, _ = Assignment.objects.filter(
        batch=batch,
        status=Assignment.Status.ASSIGNED,
        lease_expires_at__lt=timezone.now(),
    ).delete()
    return deleted


def assignment_claim(*, batch: Batch, annotator: User) -> Assignment | None:
    """The annotator's next item of a pull batch: their live claim, or a new one.

    The item row is taken with ``FOR UPDATE SKIP LOCKED``, so concurrent claimers spread
    over different items instead of queueing on one; the free slot is counted again once the
    lock is held (the candidate query's snapshot may be older), and the database's unique
    slot and ``slot < overlap`` constraints stop anything that slips through.
    """
    if batch.distribution != Batch.Distribution.PULL:
        raise BatchError("Only pull batches are claimed; push batches are pre-assigned.")
    if batch.status != Batch.Status.OPEN:
        raise BatchError("This batch is not open.")
    if not batch.annotators.filter(pk=annotator.pk).exists():
        raise BatchError("You are not among this batch's annotators.")
    now = timezone.now()
    held = (
        Assignment.objects.filter(
            batch=batch, annotator=annotator, status=Assignment.Status.ASSIGNED
        )
        .filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__gte=now))
        .order_by("pk")
        .first()
    )
    if held:
        return held
    assignment_release_expired(batch=batch)
    unit = "comparison" if batch.kind == Batch.Kind.PAIRWISE else "sample"
    taken = (
        Assignment.objects.filter(batch=batch, slot__isnull=False, **{unit: OuterRef(unit)})
        .values(unit)
        .annotate(count=Count("pk"))
        .values("count")
    )
    mine = Assignment.objects.filter(batch=batch, annotator=annotator, **{unit: OuterRef(unit)})
    candidates = (
        BatchItem.objects.filter(batch=batch)
        .annotate(taken=Coalesce(Subquery(taken), 0))
        .filter(taken__lt=batch.overlap)
        .exclude(Exists(mine))
        .order_by("position", "pk")
    )
    # Each pass either claims or finds its item full by now, which the next pass excludes.
    while True:
        with transaction.atomic():
            item = candidates.select_for_update(skip_locked=True, of=("self",)).first()
            if item is None:
                # Every open item may merely be locked by other claimers right now: wait for
                # one rather than answer "nothing left" while places remain.
                item = candidates.select_for_update(of=("self",)).first()
            if item is None:
                return None
            unit_id = {f"{unit}_id": getattr(item, f"{unit}_id")}
            used = set(
                Assignment.objects.filter(batch=batch, slot__isnull=False, **unit_id).values_list(
                    "slot", flat=True
                )
            )
            free = [slot for slot in range(batch.overlap) if slot not in used]
            if not free:
                continue
            try:
                with transaction.atomic():
                    return Assignment.objects.create(
                        batch=batch,
                        **unit_id,
                        annotator=annotator,
                        slot=free[0],
                        overlap=batch.overlap,
                        position=item.position,
                        lease_expires_at=now + _lease(),
                    )
            except IntegrityError:
                continue


def assignment_serve(*, assignment: Assignment) -> Assignment:
    """Record the first time the item was shown; a pull claim's lease restarts on view."""
    update_fields = []
    now = timezone.now()
    if assignment.first_served_at is None:
        assignment.first_served_at = now
        update_fields.append("first_served_at")
    if assignment.status == Assignment.Status.ASSIGNED and assignment.lease_expires_at:
        assignment.lease_expires_at = now + _lease()
        update_fields.append("lease_expires_at")
    if update_fields:
        assignment.save(update_fields=[*update_fields, "updated_at"])
    return assignment


_LOCK_ASSIGNMENT = PreparedQuery(
    lambda p: (
        Assignment.objects.select_for_update(of=("self",))
        .select_related("batch", "sample", "annotator__rater")
        .filter(pk=p.pk, annotator_id=p.annotator)
        .order_by()
    )
)


def assignment_submit(
    *,
    assignment_id: int,
    annotator_id: int,
    skip: bool = False,
    scores: Mapping[str, int] | None = None,
    flags: Sequence[str] = (),
    choice: str = "",
    comment: str = "",
    active_seconds: int = 0,
) -> Assignment:
    """One submit of the item page, whatever the item: a skip, the scores and flags of a
    ratings item, or the choice on a pairwise one. Submitting again while the batch is open
    replaces the earlier values.

    Only the annotator's own assignment: anybody else's id raises
    ``Assignment.DoesNotExist``, as a missing one does. The row is locked (which serialises
    a double submit: the second sees the first's result) and checked once for all of it.
    Returns the assignment as locked, with its batch and, after scores or a choice, its
    ``annotation``.
    """
    # Inside the request's transaction this takes no savepoint (two round trips fewer on
    # every submit): every check comes before the first write, and a refusal is raised only
    # once the block is left, so the transaction stays usable for the page that shows it.
    with transaction.atomic(savepoint=False):
        # Only the assignment's row (of="self"): locking the joined batch row too would queue
        # every submit of a batch behind one another.
        assignment = _LOCK_ASSIGNMENT.first(pk=assignment_id, annotator=annotator_id)
        if assignment is None:
            raise Assignment.DoesNotExist(f"No assignment {assignment_id} of this annotator.")
        try:
            write = _checked_submission(
                assignment,
                skip=skip,
                scores=scores or {},
                flags=flags,
                choice=choice,
                comment=comment,
                active_seconds=active_seconds,
            )
        except DomainError as error:
            refused = error
        else:
            refused = None
            write()
    if refused is not None:
        raise refused
    return assignment


def _checked_submission(
    assignment: Assignment,
    *,
    skip: bool,
    scores: Mapping[str, int],
    flags: Sequence[str],
    choice: str,
    comment: str,
    active_seconds: int,
) -> Callable[[], None]:
    """Check a submit against the locked assignment, and return what writes it. Raises a
    DomainError, always before anything is written."""
    if assignment.batch.status != Batch.Status.OPEN:
        raise BatchError("This batch is closed; its annotations can no longer change.")
    if assignment.status == Assignment.Status.REVOKED:
        raise BatchError("This assignment was withdrawn.")
    if skip:
        if assignment.status == Assignment.Status.SKIPPED:
            return lambda: None
        _check_status(assignment, Assignment.Status.SKIPPED)
        return partial(_write_skip, assignment)
    _check_status(assignment, Assignment.Status.SUBMITTED)
    if assignment.comparison_id:
        if choice not in POSITION_CHOICES:
            raise BatchError("Choose A, B, tie or both bad.")
        return partial(
            _write_preference,
            assignment,
            choice=choice,
            comment=comment,
            active_seconds=active_seconds,
        )
    values, raised = _checked_values(assignment, scores=scores, flags=flags)
    return partial(
        _write_annotation,
        assignment,
        values=values,
        raised=raised,
        comment=comment,
        active_seconds=active_seconds,
    )


def _check_status(assignment: Assignment, target: str) -> None:
    check_transition(
        assignment, current=assignment.status, target=target, allowed=Assignment.TRANSITIONS
    )


def _checked_values(
    assignment: Assignment, *, scores: Mapping[str, int], flags: Sequence[str]
) -> tuple[dict[Dimension, int], list[str]]:
    """The Ratings' values of a ratings submit, by dimension, and the flags raised.

    ``scores`` maps the slug of every rubric dimension of the batch that applies to the
    sample's task type to a value; ``flags`` lists the flag dimensions raised (the others
    of the batch are stored as 0, so that agreement on flags counts "not flagged" too).
    """
    # A batch's dimensions are fixed when it is built: read once per batch instance, they
    # serve the page that follows on the same instance.
    rubric, flag_dimensions = item_dimensions(
        batch=assignment.batch, task_type=assignment.sample.task_type
    )
    missing = [d.name for d in rubric if d.slug not in scores]
    if missing:
        raise BatchError(f"Score every dimension; missing: {', '.join(missing)}.")
    known = {d.slug for d in rubric}
    unknown = sorted(set(scores) - known)
    if unknown:
        raise BatchError(f"Not dimensions of this item: {', '.join(unknown)}.")
    unknown_flags = sorted(set(flags) - {d.slug for d in flag_dimensions})
    if unknown_flags:
        raise BatchError(f"Unknown flags: {', '.join(unknown_flags)}.")
    for dimension in rubric:
        value = scores[dimension.slug]
        if value not in dimension.scale:
            raise BatchError(
                f"{dimension.name}: {value} is outside {dimension.scale_min}–{dimension.scale_max}."
            )
    raised = [d.slug for d in flag_dimensions if d.slug in flags]
    values = {
        **{dimension: scores[dimension.slug] for dimension in rubric},
        **{dimension: int(dimension.slug in raised) for dimension in flag_dimensions},
    }
    return values, raised


def _write_annotation(
    assignment: Assignment,
    *,
    values: Mapping[Dimension, int],
    raised: list[str],
    comment: str,
    active_seconds: int,
) -> None:
    # One statement for every score and flag of the submit.
    ratings_upsert_bulk(
        sample=assignment.sample,
        rater=rater_for_user(user=assignment.annotator),
        values=values,
    )
    _annotation_upsert(assignment=assignment, comment=comment, flags=raised)
    _mark_submitted(assignment, active_seconds=active_seconds)


def _write_preference(
    assignment: Assignment, *, choice: str, comment: str, active_seconds: int
) -> None:
    # In terms of the responses; the positions as shown are recorded too.
    preference_from_position(
        comparison=assignment.comparison,
        rater=rater_for_user(user=assignment.annotator),
        choice=choice,
    )
    _annotation_upsert(assignment=assignment, comment=comment, flags=[])
    _mark_submitted(assignment, active_seconds=active_seconds)


def _write_skip(assignment: Assignment) -> None:
    assignment.status = Assignment.Status.SKIPPED
    assignment.lease_expires_at = None
    assignment.save(update_fields=["status", "lease_expires_at", "updated_at"])


def annotation_submit(
    *,
    assignment: Assignment,
    scores: Mapping[str, int],
    flags: Sequence[str] = (),
    comment: str = "",
    active_seconds: int = 0,
) -> Annotation:
    """Save the annotator's scores and flags on a ratings item as their Ratings, and the
    comment and time (``assignment_submit`` for one kind of item)."""
    return assignment_submit(
        assignment_id=assignment.pk,
        annotator_id=assignment.annotator_id,
        scores=scores,
        flags=flags,
        comment=comment,
        active_seconds=active_seconds,
    ).annotation


def preference_submit(
    *, assignment: Assignment, choice: str, comment: str = "", active_seconds: int = 0
) -> Annotation:
    """Save the annotator's choice on a pairwise item as their Preference, and the comment
    and time. ``choice``: "a" or "b" (the position preferred), "t" tie, "n" both bad."""
    if assignment.comparison_id is None:
        raise BatchError("This item is not a comparison.")
    return assignment_submit(
        assignment_id=assignment.pk,
        annotator_id=assignment.annotator_id,
        choice=choice,
        comment=comment,
        active_seconds=active_seconds,
    ).annotation


def assignment_skip(*, assignment: Assignment) -> Assignment:
    """Set the item aside; it stays the annotator's and can still be scored later."""
    return assignment_submit(
        assignment_id=assignment.pk, annotator_id=assignment.annotator_id, skip=True
    )


def _annotation_upsert(*, assignment: Assignment, comment: str, flags: list[str]) -> Annotation:
    """The assignment's one Annotation, created or replaced in one statement (INSERT … ON
    CONFLICT (assignment) DO UPDATE): no read first, no savepoints. Cached on the
    assignment as its ``annotation``."""
    (annotation,) = Annotation.objects.bulk_create(
        [Annotation(assignment=assignment, comment=comment, flags=flags)],
        update_conflicts=True,
        unique_fields=["assignment"],
        update_fields=["comment", "flags", "updated_at"],
    )
    assignment.annotation = annotation
    return annotation


def _mark_submitted(assignment: Assignment, *, active_seconds: int) -> None:
    """Submitted now, with the time spent. Caller holds the assignment's row lock and has
    checked the transition."""
    now = timezone.now()
    first_submit = assignment.status != Assignment.Status.SUBMITTED
    served = assignment.first_served_at or now
    if first_submit:
        assignment.seconds_spent = max(0, int((now - served).total_seconds()))
    assignment.first_served_at = served
    assignment.submitted_at = now
    assignment.active_seconds += max(0, int(active_seconds))
    assignment.lease_expires_at = None
    assignment.status = Assignment.Status.SUBMITTED
    assignment.save(
        update_fields=[
            "status",
            "first_served_at",
            "submitted_at",
            "seconds_spent",
            "active_seconds",
            "lease_expires_at",
            "updated_at",
        ]
    )


def assignment_revoke(*, assignment: Assignment) -> Assignment:
    """Withdraw the assignment; its place on the item is free again. Ratings stay."""
    with transaction.atomic():
        assignment = Assignment.objects.select_for_update().get(pk=assignment.pk)
        check_transition(
            assignment,
            current=assignment.status,
            target=Assignment.Status.REVOKED,
            allowed=Assignment.TRANSITIONS,
        )
        assignment.status = Assignment.Status.REVOKED
        assignment.slot = None
        assignment.lease_expires_at = None
        assignment.save(update_fields=["status", "slot", "lease_expires_at", "updated_at"])
    return assignment


def assignment_reassign(*, assignment: Assignment, annotator: User) -> Assignment:
    """Hand an unfinished item to someone else, keeping its place on the item."""
    with transaction.atomic():
        assignment = (
            Assignment.objects.select_for_update().select_related("batch").get(pk=assignment.pk)
        )
        if assignment.status == Assignment.Status.SUBMITTED:
            raise BatchError("A submitted item cannot be reassigned; revoke it instead.")
        if assignment.status == Assignment.Status.REVOKED:
            raise BatchError("A revoked item cannot be reassigned.")
        batch = assignment.batch
        qualified = AnnotatorLanguage.objects.filter(
            profile__user=annotator, language=batch.language
        ).exists()
        if not qualified:
            raise BatchError(f"{annotator} lacks {get_language(batch.language).name}.")
        if Assignment.objects.filter(
            batch=batch, sample_id=assignment.sample_id, annotator=annotator
        ).exists():
            raise BatchError(f"{annotator} already has this item.")
        assignment.annotator = annotator
        assignment.status = Assignment.Status.ASSIGNED
        assignment.first_served_at = None
        assignment.save(update_fields=["annotator", "status", "first_served_at", "updated_at"])
        batch.annotators.add(annotator)
    return assignment


def adjudication_set(*, sample: Sample, values: Mapping[Dimension, int]) -> None:
    """The final value per dimension chosen by staff, as the adjudicated rater's Ratings."""
    for dimension, value in values.items():
        if value not in dimension.scale:
            raise BatchError(f"{dimension.name}: {value} is outside its scale.")
    ratings_upsert_bulk(sample=sample, rater=rater_adjudicated(), values=values)


def item_dimensions(*, batch: Batch, task_type: str) -> tuple[list[Dimension], list[Dimension]]:
    """(rubric dimensions, flag dimensions) of the batch that apply to a task type."""
    dimensions = [d for d in selectors.batch_dimensions(batch=batch) if d.applies_to(task_type)]
    rubric = [d for d in dimensions if d.kind == Dimension.Kind.RUBRIC]
    flags = [d for d in dimensions if d.kind == Dimension.Kind.FLAG]
    return rubric, flags


def batch_build(
    *,
    name: str,
    language: str,
    dimensions: Sequence[Dimension],
    annotators: Sequence[User],
    size: int,
    overlap: int = 2,
    distribution: str = Batch.Distribution.PUSH,
    task_types: Sequence[str] = (),
    statuses: Sequence[str] = (Sample.Status.PASSED,),
    judge_min: float | None = None,
    judge_max: float | None = None,
    source_kind: str = "",
    gold_share: float = 0.0,
    min_proficiency: int = Proficiency.FLUENT,
    instructions: str = "",
    due: datetime | None = None,
    created_by: User | None = None,
    open_now: bool = False,
) -> Batch:
    """Choose samples by the filter (gold ones first up to ``gold_share`` of ``size``) and
    create the batch; optionally open it."""
    pool = sample_candidates(
        language=language,
        task_types=list(task_types),
        statuses=list(statuses),
        judge_min=judge_min,
        judge_max=judge_max,
        source_kind=source_kind,
    )
    gold = list(gold_candidates(samples=pool)[: round(size * gold_share)]) if gold_share else []
    rest = list(pool.exclude(pk__in=[s.pk for s in gold])[: size - len(gold)])
    samples = gold + rest
    if not samples:
        raise BatchError("No sample matches the filter.")
    with transaction.atomic():
        batch = batch_create(
            name=name,
            language=language,
            dimensions=dimensions,
            samples=samples,
            annotators=annotators,
            overlap=overlap,
            distribution=distribution,
            min_proficiency=min_proficiency,
            instructions=instructions,
            due=due,
            created_by=created_by,
            gold_samples=gold,
        )
        if open_now:
            batch_transition(batch=batch, to=Batch.Status.OPEN)
    return batch


def batch_build_pairwise(
    *,
    name: str,
    language: str,
    annotators: Sequence[User],
    size: int,
    overlap: int = 2,
    distribution: str = Batch.Distribution.PUSH,
    gold_share: float = 0.0,
    min_proficiency: int = Proficiency.FLUENT,
    instructions: str = "",
    due: datetime | None = None,
    created_by: User | None = None,
    open_now: bool = False,
) -> Batch:
    """A pairwise batch of the language's arena comparisons, oldest first (gold ones, those
    with an expected verdict, first up to ``gold_share`` of ``size``); optionally open it."""
    pool = Comparison.objects.filter(prompt__language=language).order_by("pk")
    with_gold = pool.filter(preferences__rater__kind=Rater.Kind.GOLD)
    gold = list(with_gold[: round(size * gold_share)]) if gold_share else []
    rest = list(pool.exclude(pk__in=[c.pk for c in gold])[: size - len(gold)])
    if not gold + rest:
        raise BatchError(f"No arena comparison in {get_language(language).name}.")
    with transaction.atomic():
        batch = batch_create_pairwise(
            name=name,
            language=language,
            comparisons=gold + rest,
            annotators=annotators,
            overlap=overlap,
            distribution=distribution,
            min_proficiency=min_proficiency,
            instructions=instructions,
            due=due,
            created_by=created_by,
            gold_comparisons=gold,
        )
        if open_now:
            batch_transition(batch=batch, to=Batch.Status.OPEN)
    return batch
