"""Readers of source files: MediaWiki XML dumps, Parquet/JSONL in the shape of the
`wikimedia/wikipedia` dataset, and English reasoning sets in chat format.

Readers stream (constant memory whatever the file size) and yield SourceRecords, or
InvalidRecords naming the file and line/record, in file order; writing them is
synth.services.sources_import's job.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_PASSAGE_CHARS = 1500
# Sentence ends in the Updesh languages: Latin, danda (।, ॥), Urdu full stop (۔), Arabic ?
_SENTENCE_END = re.compile(r"(?<=[.!?।॥۔؟])\s+")


@dataclass(frozen=True, slots=True)
class SourceRecord:
    kind: str
    language: str
    text: str
    title: str = ""
    url: str = ""
    license: str = ""
    subset: str = ""
    meta: dict = field(default_factory=dict)
    location: str = ""  # "file:line" or "file:page 12", for messages


@dataclass(frozen=True, slots=True)
class InvalidRecord:
    location: str
    reason: str


class SourceFileError(Exception):
    """A file that cannot be imported at all, or a bad record when not skipping."""

    def __init__(self, location: str, reason: str) -> None:
        self.location = location
        self.reason = reason
        super().__init__(f"{location}: {reason}")


def split_passages(text: str, *, max_chars: int = DEFAULT_PASSAGE_CHARS) -> Iterator[str]:
    """Grounding passages of at most ``max_chars``: whole paragraphs where they fit, whole
    sentences where a paragraph is longer, hard cuts only for a sentence longer still."""
    current: list[str] = []
    size = 0
    for paragraph in (p.strip() for p in re.split(r"\n\s*\n|\n", text)):
        if not paragraph:
            continue
        pieces = [paragraph] if len(paragraph) <= max_chars else _sentences(paragraph, max_chars)
        for piece in pieces:
            if current and size + 1 + len(piece) > max_chars:
                yield "\n".join(current)
                current, size = [], 0
            current.append(piece)
            size += len(piece) + (1 if size else 0)
    if current:
        yield "\n".join(current)


def _sentences(paragraph: str, max_chars: int) -> list[str]:
    pieces = []
    for sentence in _SENTENCE_END.split(paragraph):
        while len(sentence) > max_chars:
            pieces.append(sentence[:max_chars])
            sentence = sentence[max_chars:]
        if sentence:
            pieces.append(sentence)
    return pieces


def detect_format(path: Path) -> str:
    name = path.name.lower()
    if name.endswith((".xml", ".xml.bz2")):
        return "mediawiki"
    if name.endswith((".jsonl", ".jsonl.gz", ".ndjson")):
        return "jsonl"
    if name.endswith(".parquet"):
        return "parquet"
    raise SourceFileError(
        str(path), "unknown file type; expected .xml, .xml.bz2, .jsonl, .jsonl.gz or .parquet"
    )


@dataclass
class LanguageCounts:
    added: int = 0
    existing: int = 0


@dataclass
class ImportSummary:
    per_language: dict[str, LanguageCounts] = field(default_factory=dict)
    skipped: list[InvalidRecord] = field(default_factory=list)

    def count(self, language: str) -> LanguageCounts:
        return self.per_language.setdefault(language, LanguageCounts())

    def add_counts(self, other: "ImportSummary") -> None:
        """Add another summary's per-language counts to these."""
        for language, counts in other.per_language.items():
            total = self.count(language)
            total.added += counts.added
            total.existing += counts.existing

    @property
    def added(self) -> int:
        return sum(c.added for c in self.per_language.values())

    @property
    def existing(self) -> int:
        return sum(c.existing for c in self.per_language.values())
