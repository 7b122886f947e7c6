"""Samples: creation (idempotent on content hash), status moves, quality filters."""

from django.db import transaction

from parakh.transitions import check_transition

from ..filters import run_filters
from ..models import GenerationJob, Sample, Source
from .sources import content_hash


def sample_create(
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
) -> tuple[Sample, bool]:
    """Create a sample unless one with the same content hash exists.

    ``key`` is the caller's deterministic identity of the sample (job, source, phase,
    variant, ...); without it the hash covers the content itself, so a re-import of the same
    messages adds nothing.
    """
    identity = key if key is not None else (language, task_type, messages)
    digest = content_hash("sample", identity)
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
        content_hash=digest,
    )
    sample.full_clean(validate_unique=False)
    existing = Sample.objects.filter(content_hash=digest).first()
    if existing is not None:
        return existing, False
    with transaction.atomic():
        sample.save()
    return sample, True


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
