"""Samples: creation (idempotent on content hash), status moves, quality filters."""

import logging
from typing import NotRequired, TypedDict, Unpack

from django.db import transaction

from parakh.transitions import check_transition

from ..filters import run_filters
from ..models import GenerationJob, Sample, Source
from .sources import content_hash

logger = logging.getLogger(__name__)


def sample_build(
    *,
    language: str,
    task_type: str,
    messages: list[dict],
    generator: str,
    source: Source | None = None,
    job: GenerationJob | None = None,
    template_version: str = "",
    params: dict | None = None,
    key: object = None,
    is_demo: bool = False,
) -> Sample:
    """A validated, unsaved sample with its content hash.

    ``key`` is the caller's deterministic identity of the sample (job, source, phase,
    variant, ...); without it the hash covers the content itself, so a re-import of the same
    messages adds nothing.
    """
    identity = key if key is not None else (language, task_type, messages)
    sample = Sample(
        language=language,
        task_type=task_type,
        messages=messages,
        generator=generator,
        source=source,
        job=job,
        template_version=template_version,
        params=params or {},
        is_demo=is_demo,
        content_hash=content_hash("sample", identity),
    )
    # Constraints are the database's to check on insert; validating them here would cost a
    # query per CHECK constraint per sample. So are foreign keys to rows the caller read:
    # Django checks each with a query, two a sample for a generated one.
    stored = [name for name, row in (("job", job), ("source", source)) if row and row.pk]
    sample.full_clean(exclude=stored, validate_unique=False, validate_constraints=False)
    return sample


class SampleFields(TypedDict):
    """sample_build's and sample_create's keyword arguments."""

    language: str
    task_type: str
    messages: list[dict]
    generator: str
    source: NotRequired[Source | None]
    job: NotRequired[GenerationJob | None]
    template_version: NotRequired[str]
    params: NotRequired[dict | None]
    key: NotRequired[object]
    is_demo: NotRequired[bool]


def sample_create(**fields: Unpack[SampleFields]) -> tuple[Sample, bool]:
    """Create a sample unless its content hash is stored (arguments: sample_build's)."""
    sample = sample_build(**fields)
    existing = Sample.objects.filter(content_hash=sample.content_hash).first()
    if existing is not None:
        return existing, False
    with transaction.atomic():
        sample.save()
    return sample, True


def samples_create_bulk(*, samples: list[Sample]) -> list[Sample]:
    """Store the built samples whose content hash is not stored yet, in one INSERT, and
    queue them for filtering; returns the new ones. A concurrent writer of the same keys
    makes the INSERT fail with IntegrityError: the caller falls back to sample_create."""
    digests = [sample.content_hash for sample in samples]
    existing = set(
        Sample.objects.filter(content_hash__in=digests).values_list("content_hash", flat=True)
    )
    new = [sample for sample in samples if sample.content_hash not in existing]
    with transaction.atomic():
        Sample.objects.bulk_create(new)
    samples_queue_filter(samples=new)
    return new


def sample_transition(*, sample: Sample, to: str) -> Sample:
    check_transition(sample, current=sample.status, target=to, allowed=Sample.TRANSITIONS)
    sample.status = to
    sample.save(update_fields=["status"])
    return sample


def sample_filter(*, sample_id: int) -> Sample | None:
    """Run every quality filter on a sample and pass or reject it.

    Idempotent: a sample that has already left GENERATED is returned untouched, so a
    redelivered task changes nothing. Takes the row lock itself.
    """
    with transaction.atomic():
        sample = Sample.objects.select_for_update().filter(pk=sample_id).first()
        if sample is None or sample.status != Sample.Status.GENERATED:
            return sample
        report = run_filters(sample)
        sample.filter_report = report
        passed = all(entry["passed"] for entry in report.values())
        target = Sample.Status.PASSED if passed else Sample.Status.REJECTED
        check_transition(sample, current=sample.status, target=target, allowed=Sample.TRANSITIONS)
        sample.status = target
        sample.save(update_fields=["filter_report", "status"])
    return sample


def sample_queue_filter(*, sample: Sample) -> None:
    """Filter the sample on the cpu queue once the transaction that created it commits."""
    from ..tasks import filter_sample

    sample_id = sample.pk
    transaction.on_commit(lambda: filter_sample.delay(sample_id))


def samples_queue_filter(*, samples: list[Sample]) -> None:
    """Filter the samples on the cpu queue, as one task, once their transaction commits:
    a message per sample cost a generation worker more than storing the sample did."""
    from ..tasks import filter_samples

    sample_ids = [sample.pk for sample in samples]
    if sample_ids:
        transaction.on_commit(lambda: filter_samples.delay(sample_ids))


def samples_filter(*, sample_ids: list[int]) -> dict[str, int]:
    """sample_filter on each sample, one transaction each; returns how many ended in each
    status. Idempotent as sample_filter is. A sample whose filters raise is logged and
    left waiting while the rest are filtered, and the first such error is raised at the
    end, so that the task still shows the failure: one bad sample holds none of the
    others back, as when each sample was a task of its own."""
    outcome: dict[str, int] = {}
    errors: list[Exception] = []
    for sample_id in sample_ids:
        try:
            sample = sample_filter(sample_id=sample_id)
        except Exception as error:
            logger.exception("Filtering sample %s failed", sample_id)
            errors.append(error)
            continue
        if sample is not None:
            outcome[sample.status] = outcome.get(sample.status, 0) + 1
    if errors:
        raise errors[0]
    return outcome
