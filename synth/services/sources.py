"""Sources: content hashes and imports."""

import hashlib
import json
import queue
import threading
from collections.abc import Callable, Iterable

from django.db import DEFAULT_DB_ALIAS, connections, transaction
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

    On PostgreSQL the batches are written by a thread of their own, on this transaction's
    connection, while the records of the next batch are parsed: the server's work on one
    batch (the look-up of known hashes, the COPY) overlaps the parsing of the next.
    """
    summary = ImportSummary()
    pending: dict[str, SourceRecord] = {}
    with transaction.atomic(), _BatchWriter(summary) as writer:
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
            # The record itself, not a Source instance: a model's __init__ per passage was
            # an eighth of a dump's import time.
            pending[digest] = record
            if len(pending) >= IMPORT_BATCH_SIZE:
                writer.write(pending)
                pending = {}
        writer.write(pending)
    return summary


class _BatchWriter:
    """Writes batches of new sources in order, in a thread on the caller's connection
    (PostgreSQL), or at once where threads would need connections of their own.

    Batches go in order through a queue of two; an error in the thread is raised at the
    next write or on leaving; leaving waits for the thread, so the transaction is
    committed or rolled back only once nothing else uses its connection, and an error of
    the caller's skips the batches still queued. The batches' counts are kept apart and
    added to the caller's summary on leaving: the caller counts its own duplicates in the
    same summary meanwhile, and two threads' += on one counter can lose updates."""

    def __init__(self, summary: ImportSummary) -> None:
        self.summary = summary
        self.written = ImportSummary()
        # The wrapper itself: django.db.connection is a proxy that, in the writer thread,
        # would resolve to a connection of that thread, outside this transaction.
        self.db = connections[DEFAULT_DB_ALIAS]
        self.threaded = self.db.vendor == "postgresql"
        self._queue: queue.Queue = queue.Queue(maxsize=2)
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> "_BatchWriter":
        if self.threaded:
            self.db.inc_thread_sharing()
            self._thread = threading.Thread(target=self._run, name="import-writer", daemon=True)
            self._thread.start()
        return self

    def _run(self) -> None:
        while (batch := self._queue.get()) is not None:
            if self._error is None:
                try:
                    _flush_sources(batch, self.written, db=self.db)
                except BaseException as error:  # raised in the caller's thread
                    self._error = error

    def write(self, batch: dict[str, SourceRecord]) -> None:
        if not batch:
            return
        if not self.threaded:
            _flush_sources(batch, self.written, db=self.db)
            return
        self._raise_error()
        self._queue.put(batch)

    def _raise_error(self) -> None:
        if self._error is not None:
            raise self._error

    def __exit__(self, kind, error, traceback) -> None:
        if self._thread is not None:
            if error is not None and self._error is None:
                self._error = error  # nothing more to write: it is all rolled back
            self._queue.put(None)
            self._thread.join()
            self.db.dec_thread_sharing()
            if error is None:
                self._raise_error()
        self.summary.add_counts(self.written)


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


def _flush_sources(pending: dict[str, SourceRecord], summary: ImportSummary, *, db) -> None:
    """One query for what is already stored, one bulk insert for the rest; on ``db``, the
    importing transaction's connection (which may belong to another thread)."""
    if not pending:
        return
    with db.cursor() as cursor:
        cursor.execute(
            f"SELECT content_hash FROM {Source._meta.db_table} WHERE content_hash IN "
            f"({', '.join(['%s'] * len(pending))})",
            list(pending),
        )
        existing = {row[0] for row in cursor.fetchall()}
    new = [(digest, record) for digest, record in pending.items() if digest not in existing]
    _insert_sources(new, db=db)
    for digest, record in pending.items():
        counts = summary.count(record.language)
        if digest in existing:
            counts.existing += 1
        else:
            counts.added += 1


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


def _insert_sources(new: list[tuple[str, SourceRecord]], *, db) -> None:
    """COPY on PostgreSQL: several times faster than INSERT for the millions of passages of
    a dump. Same transaction, same constraints; bulk_create elsewhere (the SQLite demo)."""
    if not new:
        return
    if db.vendor != "postgresql":
        Source.objects.using(db.alias).bulk_create(
            [
                Source(
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
                for digest, record in new
            ],
            batch_size=IMPORT_BATCH_SIZE,
        )
        return
    now = timezone.now()
    columns = ", ".join(_COPY_COLUMNS)
    with db.cursor() as cursor:
        raw = cursor.cursor  # the psycopg cursor under Django's wrapper
        with raw.copy(f"COPY {Source._meta.db_table} ({columns}) FROM STDIN") as copy:
            for digest, record in new:
                copy.write_row(
                    (
                        record.kind,
                        record.language,
                        record.title,
                        record.text,
                        record.url,
                        record.license,
                        record.subset,
                        digest,
                        json.dumps(record.meta, ensure_ascii=False),
                        False,
                        now,
                    )
                )
