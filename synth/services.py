"""Every write to the synth app's tables."""

import hashlib
import json
from collections.abc import Callable, Iterable

from django.db import transaction

from parakh.transitions import check_transition, run_transition

from .filters import run_filters
from .importers import ImportSummary, InvalidRecord, SourceFileError, SourceRecord
from .models import LANGUAGE_CODES, GenerationJob, Sample, Source


def content_hash(*parts: object) -> str:
    """sha256 over a canonical JSON encoding of the parts: stable across runs and machines."""
    canonical = json.dumps(parts, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def source_get_or_create(
    *,
    kind: str,
    language: str,
    text: str,
    title: str = "",
    url: str = "",
    license: str = "",
    subset: str = "",
    meta: dict | None = None,
    is_demo: bool = False,
) -> tuple[Source, bool]:
    """Idempotent on (kind, language, text): the same passage imported twice is one row."""
    digest = content_hash(kind, language, text)
    source = Source(
        kind=kind,
        language=language,
        text=text,
        title=title,
        url=url,
        license=license,
        subset=subset,
        meta=meta or {},
        is_demo=is_demo,
        content_hash=digest,
    )
    source.full_clean(validate_unique=False)
    return Source.objects.get_or_create(
        content_hash=digest,
        defaults={
            field.attname: getattr(source, field.attname)
            for field in Source._meta.concrete_fields
            if not field.primary_key and field.attname != "content_hash"
        },
    )


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
    from .tasks import filter_sample

    sample_id = sample.pk
    transaction.on_commit(lambda: filter_sample.delay(sample_id))


def generation_job_transition(*, job: GenerationJob, to: str, error: str = "") -> GenerationJob:
    """Guarded status change; illegal moves raise parakh.transitions.InvalidTransition."""
    return run_transition(job, to=to, error=error)


IMPORT_BATCH_SIZE = 2000


def sources_import(
    *,
    records: Iterable[SourceRecord | InvalidRecord],
    skip_invalid: bool = False,
    on_record: Callable[[], None] | None = None,
) -> ImportSummary:
    """Store every new source of an import in one transaction.

    A bad record stops the import with a SourceFileError naming its file and line, and
    nothing of that import is committed; with ``skip_invalid`` it is reported in the
    summary instead. Idempotent on content hash: importing a file twice adds nothing.
    """
    summary = ImportSummary()
    pending: dict[str, Source] = {}
    with transaction.atomic():
        for record in records:
            if on_record is not None:
                on_record()
            if isinstance(record, SourceRecord):
                problem = _source_record_problem(record)
                if problem:
                    record = InvalidRecord(record.location, problem)
            if isinstance(record, InvalidRecord):
                if not skip_invalid:
                    raise SourceFileError(record.location, record.reason)
                summary.skipped.append(record)
                continue
            digest = content_hash(record.kind, record.language, record.text)
            if digest in pending:
                summary.count(record.language).existing += 1
                continue
            pending[digest] = Source(
                kind=record.kind,
                language=record.language,
                text=record.text,
                title=record.title,
                url=record.url,
                license=record.license,
                subset=record.subset,
                meta=record.meta,
                content_hash=digest,
            )
            if len(pending) >= IMPORT_BATCH_SIZE:
                _flush_sources(pending, summary)
        _flush_sources(pending, summary)
    return summary


def _source_record_problem(record: SourceRecord) -> str:
    if record.language not in LANGUAGE_CODES:
        return f"unknown language {record.language!r}"
    if record.kind not in Source.Kind.values:
        return f"unknown source kind {record.kind!r}"
    if not record.text.strip():
        return "empty text"
    if len(record.title) > Source._meta.get_field("title").max_length:
        return "title longer than 500 characters"
    if len(record.url) > Source._meta.get_field("url").max_length:
        return "URL longer than 1000 characters"
    return ""


def _flush_sources(pending: dict[str, Source], summary: ImportSummary) -> None:
    if not pending:
        return
    # One query for what is already stored, one bulk insert for the rest.
    existing = set(
        Source.objects.filter(content_hash__in=list(pending)).values_list("content_hash", flat=True)
    )
    new = [source for digest, source in pending.items() if digest not in existing]
    Source.objects.bulk_create(new, batch_size=IMPORT_BATCH_SIZE)
    for digest, source in pending.items():
        counts = summary.count(source.language)
        if digest in existing:
            counts.existing += 1
        else:
            counts.added += 1
    pending.clear()
