"""Sources: content hashes and imports."""

import hashlib
import json
from collections.abc import Callable, Iterable

from django.db import connection, transaction
from django.utils import timezone

from ..importers import ImportSummary, InvalidRecord, SourceFileError, SourceRecord
from ..models import LANGUAGE_CODES, Source

IMPORT_BATCH_SIZE = 2000


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
    _insert_sources(new)
    for digest, source in pending.items():
        counts = summary.count(source.language)
        if digest in existing:
            counts.existing += 1
        else:
            counts.added += 1
    pending.clear()


_COPY_COLUMNS = (
    "kind",
    "language",
    "title",
    "text",
    "url",
    "license",
    "subset",
    "content_hash",
    "meta",
    "is_demo",
    "created_at",
)


def _insert_sources(sources: list[Source]) -> None:
    """COPY on PostgreSQL: several times faster than INSERT for the millions of passages of
    a dump. Same transaction, same constraints; bulk_create elsewhere (the SQLite demo)."""
    if not sources:
        return
    if connection.vendor != "postgresql":
        Source.objects.bulk_create(sources, batch_size=IMPORT_BATCH_SIZE)
        return
    now = timezone.now()
    columns = ", ".join(_COPY_COLUMNS)
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg cursor under Django's wrapper
        with raw.copy(f"COPY {Source._meta.db_table} ({columns}) FROM STDIN") as copy:
            for source in sources:
                copy.write_row(
                    (
                        source.kind,
                        source.language,
                        source.title,
                        source.text,
                        source.url,
                        source.license,
                        source.subset,
                        source.content_hash,
                        json.dumps(source.meta, ensure_ascii=False),
                        source.is_demo,
                        now,
                    )
                )
