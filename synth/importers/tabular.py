"""JSONL and Parquet sources, streamed record by record.

Two shapes: Wikipedia pages as in the `wikimedia/wikipedia` dataset (id, url, title, text),
split into grounding passages; and English reasoning samples in chat format
(`messages: [{role, content}]`, as Orca-AgentInstruct and orca-math ship them).
"""

import gzip
import json
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from django.core.exceptions import ValidationError

from synth.models import validate_messages

from . import DEFAULT_PASSAGE_CHARS, InvalidRecord, SourceFileError, SourceRecord, split_passages

REQUIRED_COLUMNS = {"wikipedia": ("title", "text"), "reasoning": ("messages",)}
PARQUET_BATCH_ROWS = 1024


def read_jsonl(path: Path, **options) -> Iterator[SourceRecord | InvalidRecord]:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rb") as handle:
        for line_number, raw in enumerate(handle, start=1):
            location = f"{path.name}:{line_number}"
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as error:
                yield InvalidRecord(location, f"not UTF-8 (byte {error.start} of the line)")
                continue
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                yield InvalidRecord(
                    location, f"malformed JSON: {error.msg} at column {error.colno}"
                )
                continue
            yield from _records_from_row(row, location, **options)


def read_parquet(path: Path, *, kind: str, **options) -> Iterator[SourceRecord | InvalidRecord]:
    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as error:
        raise SourceFileError(str(path), f"not a Parquet file: {error}") from error
    columns = set(parquet.schema_arrow.names)
    missing = [c for c in REQUIRED_COLUMNS[kind] if c not in columns]
    if missing:
        raise SourceFileError(
            str(path),
            f"missing column(s) {', '.join(missing)} for {kind} sources; "
            f"the file has {', '.join(sorted(columns))}",
        )
    index = 0
    for batch in parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS):
        for row in batch.to_pylist():
            index += 1
            yield from _records_from_row(row, f"{path.name}: record {index}", kind=kind, **options)


def _records_from_row(
    row: object,
    location: str,
    *,
    kind: str,
    language: str,
    subset: str = "",
    license: str = "",
    max_chars: int = DEFAULT_PASSAGE_CHARS,
) -> Iterator[SourceRecord | InvalidRecord]:
    if not isinstance(row, dict):
        yield InvalidRecord(location, f"expected a JSON object, got {type(row).__name__}")
        return
    missing = [key for key in REQUIRED_COLUMNS[kind] if row.get(key) in (None, "")]
    if missing:
        yield InvalidRecord(location, f"missing {', '.join(missing)}")
        return
    record_language = row.get("language") or language
    meta = {"record_id": str(row["id"])} if row.get("id") is not None else {}
    if kind == "wikipedia":
        if not isinstance(row["text"], str) or not isinstance(row["title"], str):
            yield InvalidRecord(location, "title and text must be strings")
            return
        for index, passage in enumerate(split_passages(row["text"], max_chars=max_chars)):
            yield SourceRecord(
                kind=kind,
                language=record_language,
                text=passage,
                title=row["title"],
                url=row.get("url") or "",
                license=license or "CC BY-SA 4.0",
                meta={**meta, "passage": index},
                location=location,
            )
        return
    messages = row["messages"]
    try:
        validate_messages(messages)
    except ValidationError as error:
        yield InvalidRecord(location, f"messages: {'; '.join(error.messages)}")
        return
    yield SourceRecord(
        kind=kind,
        language=record_language,
        # Readable in the admin; the structured messages are kept in meta for translation.
        text="\n\n".join(f"{m['role']}: {m['content']}" for m in messages),
        title=str(row.get("title") or row.get("id") or ""),
        url=row.get("url") or "",
        license=license,
        subset=str(row.get("subset") or subset),
        meta={**meta, "messages": messages},
        location=location,
    )
