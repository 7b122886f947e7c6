"""The agreed-subset export: criteria, the chunked decision of which samples pass, and the
streaming writers (JSONL, Parquet, the Updesh_beta layout) with their manifest.json.

Memory stays flat in the number of samples: candidates are read a chunk at a time (keyset
pages within stripes of the id range, by reader threads ahead of the writer), each chunk's
ratings arrive in one query and are decided in numpy, a Parquet writer holds at most one
row group per open file, and the exported subset's alpha is accumulated as one coincidence
matrix (categories × categories) per dimension rather than as rows. See docs/export.md.
"""

from __future__ import annotations

import hashlib
import json
import queue
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from functools import partial
from operator import itemgetter
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from django import db
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import BinaryField, Count, Func, Max, Min, TextField, Value
from django.db.models.functions import Cast
from django.utils import timezone

import parakh
from parakh.prepared import fetch_all
from synth.languages import LANGUAGES
from synth.models import Sample
from synth.task_types import TaskType

from . import agreement
from .models import EXPORT_FORMATS, Dimension, Judge, Rater, Rating

# Rater roles as the ratings query returns them (a CASE in SQL, so numpy sees integers).
HUMAN, ADJUDICATED, JUDGE = 0, 1, 2

JSONL_NAME = "samples.jsonl"
PARQUET_NAME = "samples.parquet"
UPDESH_DIR = "updesh"
MANIFEST_NAME = "manifest.json"
MANIFEST_VERSION = 1


def chunk_size() -> int:
    """Samples per chunk: one ratings query and one numpy decision each."""
    return settings.PARAKH_EXPORT_CHUNK_SIZE


def row_group_size() -> int:
    """Rows a Parquet writer buffers before it writes a row group."""
    return settings.PARAKH_EXPORT_ROW_GROUP_SIZE


# ---------------------------------------------------------------------------- criteria


@dataclass(frozen=True)
class ExportCriteria:
    """What makes a sample exportable. Empty languages / task_types mean all of them.

    A sample passes when, on every chosen dimension, it has at least min_human_ratings
    human ratings whose max − min ≤ max_spread (an adjudicated value settles a
    disagreement instead), its consensus (the adjudicated value, else the lower median of
    the human ratings) is at least min_scores[dimension], the judge (when named) lies
    within judge_tolerance of the consensus, and no human flagged it (exclude_flagged).
    """

    dimensions: tuple[str, ...]
    languages: tuple[str, ...] = ()
    task_types: tuple[str, ...] = ()
    min_human_ratings: int = 2
    max_spread: int = 1
    min_scores: Mapping[str, int] = field(default_factory=dict)
    judge: str = ""
    judge_tolerance: int = 1
    exclude_flagged: bool = True
    include_rejected: bool = False

    def to_dict(self) -> dict:
        return {
            "dimensions": list(self.dimensions),
            "languages": list(self.languages),
            "task_types": list(self.task_types),
            "min_human_ratings": self.min_human_ratings,
            "max_spread": self.max_spread,
            "min_scores": dict(self.min_scores),
            "judge": self.judge,
            "judge_tolerance": self.judge_tolerance,
            "exclude_flagged": self.exclude_flagged,
            "include_rejected": self.include_rejected,
        }

    @classmethod
    def from_dict(cls, data: Mapping) -> ExportCriteria:
        """Criteria from JSON (an Export row, an API body); ValidationError on bad shapes."""
        if not isinstance(data, Mapping):
            raise ValidationError({"criteria": "Criteria must be an object."})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValidationError({"criteria": f"Unknown criteria: {', '.join(unknown)}."})
        errors: dict[str, str] = {}
        values: dict = {}
        for name in ("dimensions", "languages", "task_types"):
            value = data.get(name, [])
            if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
                errors[name] = f"{name} must be a list of strings."
            else:
                values[name] = tuple(value)
        for name in ("min_human_ratings", "max_spread", "judge_tolerance"):
            if name in data:
                value = data[name]
                if not isinstance(value, int) or isinstance(value, bool):
                    errors[name] = f"{name} must be an integer."
                else:
                    values[name] = value
        for name in ("exclude_flagged", "include_rejected"):
            if name in data:
                if not isinstance(data[name], bool):
                    errors[name] = f"{name} must be true or false."
                else:
                    values[name] = data[name]
        if "judge" in data:
            if not isinstance(data["judge"], str):
                errors["judge"] = "judge must be a judge's name."
            else:
                values["judge"] = data["judge"]
        min_scores = data.get("min_scores", {})
        if not isinstance(min_scores, Mapping) or not all(
            isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool)
            for k, v in min_scores.items()
        ):
            errors["min_scores"] = "min_scores must map dimension slugs to integers."
        else:
            values["min_scores"] = dict(min_scores)
        if errors:
            raise ValidationError(errors)
        return cls(**values)


@dataclass(frozen=True)
class ResolvedCriteria:
    """Criteria with their database objects looked up once, before the chunks."""

    criteria: ExportCriteria
    dimensions: tuple[Dimension, ...]
    flag_dimension_ids: tuple[int, ...]
    # None with a judge named: that judge has never rated anything, so nothing passes.
    judge_rater_id: int | None
    # Role (HUMAN, ADJUDICATED, JUDGE) of each rater id; -1 for raters that do not count.
    rater_roles: np.ndarray


def criteria_resolve(criteria: ExportCriteria) -> ResolvedCriteria:
    """Check the criteria against the rubric, languages, task types and judges.

    ValidationError names every bad value, by criterion.
    """
    errors: dict[str, str] = {}
    unknown_languages = [code for code in criteria.languages if code not in LANGUAGES]
    if unknown_languages:
        errors["languages"] = (
            f"Unknown languages: {', '.join(unknown_languages)}; known: {', '.join(LANGUAGES)}."
        )
    unknown_types = [slug for slug in criteria.task_types if slug not in TaskType.values]
    if unknown_types:
        errors["task_types"] = f"Unknown task types: {', '.join(unknown_types)}."
    by_slug = {d.slug: d for d in Dimension.objects.filter(slug__in=criteria.dimensions)}
    if not criteria.dimensions:
        errors["dimensions"] = "Choose at least one dimension."
    else:
        unknown = [slug for slug in criteria.dimensions if slug not in by_slug]
        flags = [s for s in criteria.dimensions if s in by_slug and by_slug[s].kind == "flag"]
        if unknown:
            errors["dimensions"] = f"Unknown dimensions: {', '.join(unknown)}."
        elif flags:
            errors["dimensions"] = (
                f"{', '.join(flags)} are flags, not scored dimensions; flagged items are "
                "left out by exclude_flagged."
            )
        elif len(set(criteria.dimensions)) != len(criteria.dimensions):
            errors["dimensions"] = "A dimension is chosen twice."
    score_errors = []
    for slug, minimum in criteria.min_scores.items():
        if slug not in criteria.dimensions:
            score_errors.append(f"{slug} is not one of the chosen dimensions")
        elif slug in by_slug and minimum not in by_slug[slug].scale:
            dimension = by_slug[slug]
            score_errors.append(
                f"{slug}={minimum} is outside {slug}'s scale "
                f"{dimension.scale_min}–{dimension.scale_max}"
            )
    if score_errors:
        errors["min_scores"] = "; ".join(score_errors) + "."
    if criteria.min_human_ratings < 1:
        errors["min_human_ratings"] = "min_human_ratings must be at least 1."
    if criteria.max_spread < 0:
        errors["max_spread"] = "max_spread must be 0 or more."
    if criteria.judge_tolerance < 0:
        errors["judge_tolerance"] = "judge_tolerance must be 0 or more."
    judge_rater_id = None
    if criteria.judge:
        judge = Judge.objects.filter(name=criteria.judge).first()
        if judge is None:
            errors["judge"] = f"Unknown judge {criteria.judge!r}."
        else:
            rater = Rater.objects.filter(judge=judge).first()
            judge_rater_id = rater.pk if rater else None
    if errors:
        raise ValidationError(errors)
    flag_ids = ()
    if criteria.exclude_flagged:
        flag_ids = tuple(
            Dimension.objects.filter(kind=Dimension.Kind.FLAG).values_list("pk", flat=True)
        )
    return ResolvedCriteria(
        criteria=criteria,
        dimensions=tuple(by_slug[slug] for slug in criteria.dimensions),
        flag_dimension_ids=flag_ids,
        judge_rater_id=judge_rater_id,
        rater_roles=_rater_roles(judge_rater_id),
    )


def _rater_roles(judge_rater_id: int | None) -> np.ndarray:
    raters = list(Rater.objects.values_list("pk", "kind"))
    roles = np.full(max((pk for pk, _ in raters), default=0) + 1, -1, dtype=np.int64)
    for pk, kind in raters:
        if kind == Rater.Kind.HUMAN:
            roles[pk] = HUMAN
        elif kind == Rater.Kind.ADJUDICATED:
            roles[pk] = ADJUDICATED
    if judge_rater_id is not None:
        roles[judge_rater_id] = JUDGE
    return roles


# ---------------------------------------------------------------------------- the decision


def candidate_queryset(criteria: ExportCriteria):
    """Samples the criteria could export, before any rating is looked at."""
    samples = Sample.objects.all()
    if criteria.languages:
        samples = samples.filter(language__in=criteria.languages)
    if criteria.task_types:
        samples = samples.filter(task_type__in=criteria.task_types)
    if not criteria.include_rejected:
        samples = samples.exclude(status=Sample.Status.REJECTED)
    return samples


class ChunkQueries:
    """The two queries of every chunk, composed with the ORM once per export and run as
    plain SQL with new bounds each time: no queryset is rebuilt and recompiled per chunk,
    and rows come back with one fetchall.

    The ORM's query is wrapped as a subquery, bounds outside; PostgreSQL pulls such a
    subquery up, so the bounds still drive the primary-key index.
    """

    def __init__(self, resolved: ResolvedCriteria) -> None:
        criteria = resolved.criteria
        # The messages as the database's JSON text, which JSONL writes as it is: on
        # PostgreSQL as UTF-8 bytes, so that nothing decodes it here nor re-encodes it.
        messages_json = Cast("messages", TextField())
        self._postgresql = db.connection.vendor == "postgresql"
        if self._postgresql:
            messages_json = Func(
                messages_json, Value("UTF8"), function="convert_to", output_field=BinaryField()
            )
        rows_sql, self._rows_params = (
            candidate_queryset(criteria)
            .order_by()
            .annotate(messages_json=messages_json)
            .values_list(*ROW_FIELDS)
            .query.sql_with_params()
        )
        self._rows_sql = (
            f"SELECT * FROM ({rows_sql}) AS candidate "
            "WHERE candidate.pk > %s AND candidate.pk < %s ORDER BY candidate.pk LIMIT %s"
        )
        dimension_ids = [d.pk for d in resolved.dimensions] + list(resolved.flag_dimension_ids)
        ratings_sql, self._ratings_params = (
            Rating.objects.filter(dimension_id__in=dimension_ids)
            .order_by()
            .values_list("sample_id", "dimension_id", "rater_id", "value")
            .query.sql_with_params()
        )
        self._ratings_sql = (
            f"SELECT * FROM ({ratings_sql}) AS rating "
            "WHERE rating.sample_id >= %s AND rating.sample_id <= %s"
        )
        ids_sql, self._ids_params = (
            candidate_queryset(criteria).order_by().values_list("pk").query.sql_with_params()
        )
        self._sparse_ratings_sql = (
            f"{self._ratings_sql} AND rating.sample_id IN (SELECT candidate.pk FROM "
            f"({ids_sql}) AS candidate WHERE candidate.pk >= %s AND candidate.pk <= %s)"
        )

    def rows(self, *, after: int, before: int, limit: int) -> list[tuple]:
        """Candidates with after < id < before, in id order, at most limit of them; the
        messages as UTF-8 bytes of their JSON text."""
        params = (*self._rows_params, after, before, limit)
        if not self._postgresql:
            rows = fetch_all(db.connection, self._rows_sql, params)
            return [(*row[:3], row[3].encode(), *row[4:]) for row in rows]
        # Binary results: integers and the messages' bytea arrive as they are stored.
        return fetch_all(db.connection, self._rows_sql, params, binary=True)

    def ratings(self, *, low: int, high: int, sparse: bool) -> np.ndarray:
        """(sample_id, dimension_id, rater_id, value) as an n × 4 int64 array, on the
        chosen dimensions and flags, for samples with low ≤ id ≤ high; sparse also names
        the candidates, so that a chunk of one language in fourteen does not fetch the
        other thirteen's ratings."""
        if sparse:
            sql = self._sparse_ratings_sql
            params = (*self._ratings_params, low, high, *self._ids_params, low, high)
        else:
            sql, params = self._ratings_sql, (*self._ratings_params, low, high)
        with db.connection.cursor() as cursor:
            if not self._postgresql:
                cursor.execute(sql, params)
                return np.asarray(cursor.fetchall(), dtype=np.int64).reshape(-1, 4)
            # The chunk's ratings packed by the server into one bytea of big-endian int8s
            # that numpy reads in place: a quarter of the client's work of a Python tuple
            # of four ints per rating, and less of the server's too.
            cursor.execute(
                "SELECT string_agg(int8send(rating.sample_id) || int8send(rating.dimension_id)"
                " || int8send(rating.rater_id) || int8send(rating.value::int8), ''::bytea) "
                f"FROM ({sql}) AS rating",
                params,
            )
            (packed,) = cursor.fetchone()
        if packed is None:
            return np.zeros((0, 4), dtype=np.int64)
        return np.frombuffer(packed, dtype=">i8").reshape(-1, 4).astype(np.int64)


def _chunk_ratings(
    resolved: ResolvedCriteria, queries: ChunkQueries, sample_ids: np.ndarray
) -> np.ndarray:
    """(sample_id, dimension_id, role, value) of every rating the decision needs, as one
    int64 array: human and adjudicated ratings on the chosen dimensions and the flags, and
    the judge's. One query per chunk, its samples named by id range (and, for a sparse
    chunk, the candidates' own conditions), never by thousands of parameters; roles come
    from the rater table read once, so that no row needs a join or a per-row conversion."""
    low, high = int(sample_ids[0]), int(sample_ids[-1])
    # Dense chunks (most ids of the range are candidates) skip the subquery: the extra
    # rows are few and dropped below, and the plain range scan is the cheapest plan.
    ratings = queries.ratings(low=low, high=high, sparse=high - low + 1 > 2 * sample_ids.size)
    roles = resolved.rater_roles
    rater = ratings[:, 2]
    # Raters newer than the export's start are not in the table: left out, as is anyone
    # who is neither human, adjudicated nor the chosen judge (gold, other judges).
    known = rater < roles.size
    ratings[:, 2] = np.where(known, roles[np.where(known, rater, 0)], -1)
    # Only the chunk's own samples: not other candidates' neighbours in the range, nor a
    # sample committed inside the range after the chunk was read.
    keep = (ratings[:, 2] >= 0) & np.isin(ratings[:, 0], sample_ids)
    return ratings[keep]


@dataclass
class ChunkDecision:
    passed: np.ndarray  # bool per sample of the chunk
    scores: dict[str, np.ndarray]  # consensus per dimension slug, per sample
    human_counts: dict[str, np.ndarray]  # units × categories of the human ratings


def decide_chunk(
    resolved: ResolvedCriteria, sample_ids: np.ndarray, ratings: np.ndarray
) -> ChunkDecision:
    """Which samples of a chunk pass, and their consensus scores. sample_ids sorted."""
    criteria = resolved.criteria
    n = sample_ids.size
    sample, dimension, role, value = ratings.T
    position = np.searchsorted(sample_ids, sample)
    passed = np.ones(n, dtype=bool)
    scores: dict[str, np.ndarray] = {}
    human_counts: dict[str, np.ndarray] = {}
    for dim in resolved.dimensions:
        on_dim = dimension == dim.pk
        categories = list(dim.scale)
        v = len(categories)
        human = on_dim & (role == HUMAN)
        columns = value[human] - dim.scale_min
        counts = np.bincount(position[human] * v + columns, minlength=n * v).reshape(n, v)
        n_u = counts.sum(axis=1)
        present = counts > 0
        lowest = np.argmax(present, axis=1)
        highest = v - 1 - np.argmax(present[:, ::-1], axis=1)
        consensus = agreement.consensus(counts, categories, missing=dim.scale_min - 1)
        adjudicated = on_dim & (role == ADJUDICATED)
        has_adjudicated = np.zeros(n, dtype=bool)
        has_adjudicated[position[adjudicated]] = True
        consensus[position[adjudicated]] = value[adjudicated]
        agreed = (n_u >= criteria.min_human_ratings) & (
            (highest - lowest <= criteria.max_spread) | has_adjudicated
        )
        passed &= agreed & (consensus >= criteria.min_scores.get(dim.slug, dim.scale_min))
        if criteria.judge:
            judged = on_dim & (role == JUDGE)
            judge_value = np.full(n, np.iinfo(np.int64).min // 2)
            judge_value[position[judged]] = value[judged]
            passed &= np.abs(judge_value - consensus) <= criteria.judge_tolerance
        scores[dim.slug] = consensus
        human_counts[dim.slug] = counts
    if resolved.flag_dimension_ids:
        flagged = np.isin(dimension, resolved.flag_dimension_ids) & (role == HUMAN) & (value == 1)
        passed[position[flagged]] = False
    return ChunkDecision(passed, scores, human_counts)


class SubsetAlpha:
    """Krippendorff's alpha of the exported subset's human ratings on one dimension,
    accumulated chunk by chunk as a coincidence matrix (alpha depends on nothing else)."""

    def __init__(self, dimension: Dimension) -> None:
        self.level = dimension.level
        self.categories = np.asarray(list(dimension.scale))
        v = self.categories.size
        self.coincidences = np.zeros((v, v))
        self.units = 0
        self.pairable_ratings = 0
        self.ratings = 0

    def add(self, counts: np.ndarray) -> None:
        self.ratings += int(counts.sum())
        pairable = counts[counts.sum(axis=1) >= 2]
        if pairable.shape[0]:
            self.coincidences += agreement.coincidences(pairable)
            self.units += int(pairable.shape[0])
            self.pairable_ratings += int(pairable.sum())

    def result(self) -> dict:
        reason = ""
        value = None
        if self.ratings == 0:
            reason = agreement.NO_RATINGS
        elif self.units == 0:
            reason = agreement.NO_PAIRABLE_UNIT
        elif np.count_nonzero(self.coincidences.sum(axis=1) > 0) < 2:
            reason = agreement.ONE_VALUE
        else:
            value = agreement.alpha_from_coincidences(
                self.coincidences, level=self.level, categories=self.categories
            )
            if value is None:
                reason = agreement.NO_EXPECTED_DISAGREEMENT
        return {
            "level": self.level,
            "value": value,
            "units": self.units,
            "ratings": self.pairable_ratings,
            "reason": reason,
        }


# ---------------------------------------------------------------------------- rows


ROW_FIELDS = (
    "pk",
    "language",
    "task_type",
    "messages_json",
    "generator",
    "template_version",
    "job_id",
    "source__url",
    "source__title",
)


@dataclass
class AgreedChunk:
    """The samples of one chunk that pass: their ROW_FIELDS tuples in id order and, per
    dimension slug, their consensus scores in the same order."""

    rows: list[tuple]
    scores: dict[str, list[int]]

    def dicts(self) -> Iterator[dict]:
        """The rows as the dicts the Parquet writers take, messages decoded."""
        slugs = tuple(self.scores)
        for row, values in zip(self.rows, zip(*self.scores.values(), strict=True), strict=True):
            pk, language, task_type, messages, *provenance = row
            yield {
                "id": pk,
                "messages": json.loads(messages),
                **_row_rest(slugs, language, task_type, values, *provenance),
            }


def _row_rest(slugs, language, task_type, values, generator, version, job, url, title) -> dict:
    """An exported row after its id and messages, in the key order every format keeps."""
    return {
        "language": language,
        "flores": LANGUAGES[language].flores,
        "task_type": task_type,
        "scores": dict(zip(slugs, values, strict=True)),
        "provenance": {
            "generator": generator,
            "template_version": version,
            "source_url": url or "",
            "source_title": title or "",
            "job_id": job,
        },
    }


def reader_count() -> int:
    """Threads that read candidates ahead of the writer, each on its own connection."""
    return settings.PARAKH_EXPORT_READERS


def _stripes(resolved: ResolvedCriteria) -> list[tuple[int, int]]:
    """The candidates' id range cut into stripes [start, end) of about one chunk each.

    Stripes are as wide as the candidates' density makes a chunk (a sparse selection, say
    one language of fourteen, gets wider stripes), and they end at the largest id there is
    now: samples created during the export are not part of it.
    """
    bounds = candidate_queryset(resolved.criteria).aggregate(
        low=Min("pk"), high=Max("pk"), count=Count("pk")
    )
    if not bounds["count"]:
        return []
    low, high, count = bounds["low"], bounds["high"], bounds["count"]
    size = chunk_size()
    width = max(size, -(-size * (high - low + 1) // count))
    return [(start, min(start + width, high + 1)) for start in range(low, high + 1, width)]


def _stripe_chunks(
    resolved: ResolvedCriteria, queries: ChunkQueries, start: int, end: int
) -> Iterator[tuple[list[tuple], np.ndarray]]:
    """One stripe's candidates a chunk at a time, in id order: (ROW_FIELDS rows, the
    ratings the decision needs). Only database reads, so it can run in a reader thread.

    Within a stripe the candidates are read by keyset (id greater than the last chunk's,
    LIMIT chunk size), so a chunk never holds more than chunk_size rows whatever the
    density. Short queries, no cursor kept open: a server-side cursor declared WITH HOLD
    outside a transaction, as Django's iterator() does in autocommit, makes PostgreSQL
    materialize the whole result before the first row.
    """
    size = chunk_size()
    last_id = start - 1
    while chunk := queries.rows(after=last_id, before=end, limit=size):
        last_id = chunk[-1][0]
        ids = np.fromiter((row[0] for row in chunk), dtype=np.int64, count=len(chunk))
        yield chunk, _chunk_ratings(resolved, queries, ids)
        if len(chunk) < size or last_id >= end - 1:
            return


_END_OF_PART = object()


def _in_order(parts: list[Callable[[], Iterator]], *, threads: int, depth: int = 2) -> Iterator:
    """The items of parts[0](), then of parts[1](), … with the parts run in `threads`
    threads (part j on thread j % threads), each up to `depth` items ahead.

    The database renders the next chunks (turning JSON into text is most of its work) on
    other cores while this thread decides and writes the current one. Each thread has its
    own database connection, closed when it ends; an exception in a thread is raised here;
    a consumer that stops early (an error in a writer) stops the threads too.
    """
    handoffs = [queue.Queue(maxsize=depth) for _ in range(threads)]
    stop = threading.Event()

    def offer(handoff: queue.Queue, item) -> bool:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def read(thread: int) -> None:
        handoff = handoffs[thread]
        try:
            for part in parts[thread::threads]:
                for item in part():
                    if not offer(handoff, item):
                        return
                if not offer(handoff, _END_OF_PART):
                    return
        except BaseException as error:  # handed to the consumer, raised there
            offer(handoff, error)
        finally:
            db.connection.close()

    workers = [
        threading.Thread(target=read, args=(n,), name=f"export-reader-{n}", daemon=True)
        for n in range(min(threads, len(parts)))
    ]
    for worker in workers:
        worker.start()
    try:
        for index in range(len(parts)):
            handoff = handoffs[index % threads]
            while (item := handoff.get()) is not _END_OF_PART:
                if isinstance(item, BaseException):
                    raise item
                yield item
    finally:
        stop.set()
        for worker in workers:
            worker.join()


def readers_enabled() -> bool:
    """Read in threads unless turned off or inside a transaction: another connection would
    not see this one's uncommitted rows (a test's, or a caller's own atomic block)."""
    return reader_count() > 0 and not db.connection.in_atomic_block


def _candidate_chunks(resolved: ResolvedCriteria) -> Iterator[tuple[list[tuple], np.ndarray]]:
    queries = ChunkQueries(resolved)
    parts = [
        partial(_stripe_chunks, resolved, queries, start, end) for start, end in _stripes(resolved)
    ]
    if readers_enabled():
        return _in_order(parts, threads=reader_count())
    return (item for part in parts for item in part())


def agreed_chunks(
    resolved: ResolvedCriteria,
    *,
    alphas: dict[str, SubsetAlpha] | None = None,
    on_chunk: Callable[[int, int], None] | None = None,
) -> Iterator[AgreedChunk]:
    """The exported samples a chunk at a time, in id order, read in constant memory.

    on_chunk(scanned, exported) is called after every chunk; alphas, when given, gather
    the human ratings of the exported samples.
    """
    scanned = exported = 0
    for chunk, ratings in _candidate_chunks(resolved):
        ids = np.fromiter((row[0] for row in chunk), dtype=np.int64, count=len(chunk))
        decision = decide_chunk(resolved, ids, ratings)
        if alphas is not None:
            for slug, accumulator in alphas.items():
                accumulator.add(decision.human_counts[slug][decision.passed])
        passing = np.flatnonzero(decision.passed)
        yield AgreedChunk(
            rows=[chunk[index] for index in passing.tolist()],
            scores={slug: scores[passing].tolist() for slug, scores in decision.scores.items()},
        )
        scanned += len(chunk)
        exported += passing.size
        if on_chunk is not None:
            on_chunk(scanned, exported)


# ---------------------------------------------------------------------------- writers


def arrow_schema(dimensions: tuple[str, ...]) -> pa.Schema:
    return pa.schema(
        [
            ("id", pa.int64()),
            (
                "messages",
                pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())])),
            ),
            ("language", pa.string()),
            ("flores", pa.string()),
            ("task_type", pa.string()),
            ("scores", pa.struct([(slug, pa.int16()) for slug in dimensions])),
            (
                "provenance",
                pa.struct(
                    [
                        ("generator", pa.string()),
                        ("template_version", pa.string()),
                        ("source_url", pa.string()),
                        ("source_title", pa.string()),
                        ("job_id", pa.int64()),
                    ]
                ),
            ),
        ]
    )


class JsonlWriter:
    """samples.jsonl, one sample a line, keys in a fixed order (id, messages, language,
    flores, task_type, scores, provenance), written as UTF-8 bytes.

    A line is three pieces: the id, the messages as the database's JSON text (bytes
    straight from the driver: no decode, no re-encode) and everything after them, which
    many samples share (a language, a task type, the scores, a provenance) and so comes
    from a small cache encoded once.
    """

    # Distinct line tails held encoded; past this the cache starts over (memory stays flat).
    TAIL_CACHE_SIZE = 10_000

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = path.open("wb", buffering=1 << 20)
        self._tails: dict[tuple, bytes] = {}

    @staticmethod
    def _tail(*key) -> bytes:
        encoded = json.dumps(_row_rest(*key), ensure_ascii=False, separators=(",", ":"))
        return f",{encoded[1:]}\n".encode()

    def write_chunk(self, chunk: AgreedChunk) -> None:
        slugs = tuple(chunk.scores)
        tails = self._tails
        if len(tails) > self.TAIL_CACHE_SIZE:
            tails.clear()
        lines = []
        append = lines.append
        for row, values in zip(chunk.rows, zip(*chunk.scores.values(), strict=True), strict=True):
            pk, language, task_type, messages, generator, version, job, url, title = row
            key = (slugs, language, task_type, values, generator, version, job, url, title)
            tail = tails.get(key)
            if tail is None:
                tail = tails[key] = self._tail(*key)
            append(b'{"id":%d,"messages":%b%b' % (pk, messages, tail))
        self._file.write(b"".join(lines))

    def close(self) -> list[Path]:
        self._file.close()
        return [self.path]


class ParquetRowsWriter:
    """One Parquet file written a row group at a time: at most row_group_size rows held."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.schema = schema
        self._writer = pq.ParquetWriter(path, schema, compression="zstd")
        self._rows: list[dict] = []
        self._size = row_group_size()

    def write(self, row: dict) -> None:
        self._rows.append(row)
        if len(self._rows) >= self._size:
            self._flush()

    def _flush(self) -> None:
        if self._rows:
            self._writer.write_table(pa.Table.from_pylist(self._rows, schema=self.schema))
            self._rows = []

    def close(self) -> list[Path]:
        self._flush()
        self._writer.close()
        return [self.path]


class UpdeshWriter:
    """The Updesh_beta layout: a folder (config) per task type, a Parquet file per
    language split named by its FLORES code, e.g. creative_writing/hin_Deva.parquet."""

    def __init__(self, directory: Path, schema: pa.Schema) -> None:
        self.directory = directory
        self.schema = schema
        self._writers: dict[tuple[str, str], ParquetRowsWriter] = {}

    def write(self, row: dict) -> None:
        key = (row["task_type"], row["flores"])
        writer = self._writers.get(key)
        if writer is None:
            path = self.directory / key[0] / f"{key[1]}.parquet"
            writer = self._writers[key] = ParquetRowsWriter(path, self.schema)
        writer.write(row)

    def close(self) -> list[Path]:
        return [path for key in sorted(self._writers) for path in self._writers[key].close()]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def export_write(
    *,
    criteria: ExportCriteria,
    formats: list[str],
    directory: Path,
    on_progress: Callable[[int, int], None] | None = None,
) -> dict:
    """Write the agreed subset in each format and manifest.json into directory; return the
    manifest. The manifest is written last, so its presence means the export is whole."""
    unknown = [name for name in formats if name not in EXPORT_FORMATS]
    if unknown or not formats:
        raise ValidationError(
            {"formats": f"Formats must be some of {', '.join(EXPORT_FORMATS)}; got {formats}."}
        )
    resolved = criteria_resolve(criteria)
    directory.mkdir(parents=True, exist_ok=True)
    schema = arrow_schema(criteria.dimensions)
    jsonl = JsonlWriter(directory / JSONL_NAME) if "jsonl" in formats else None
    row_writers: list[ParquetRowsWriter | UpdeshWriter] = []
    if "parquet" in formats:
        row_writers.append(ParquetRowsWriter(directory / PARQUET_NAME, schema))
    if "updesh" in formats:
        row_writers.append(UpdeshWriter(directory / UPDESH_DIR, schema))
    writers = ([jsonl] if jsonl is not None else []) + row_writers
    alphas = {dim.slug: SubsetAlpha(dim) for dim in resolved.dimensions}
    per_cell: Counter[tuple[str, str]] = Counter()
    scanned_total = 0

    def chunk_done(scanned: int, exported: int) -> None:
        nonlocal scanned_total
        scanned_total = scanned
        if on_progress is not None:
            on_progress(scanned, exported)

    language_and_task_type = itemgetter(1, 2)
    for chunk in agreed_chunks(resolved, alphas=alphas, on_chunk=chunk_done):
        per_cell.update(map(language_and_task_type, chunk.rows))
        if jsonl is not None:
            jsonl.write_chunk(chunk)
        if row_writers:
            for row in chunk.dicts():
                for writer in row_writers:
                    writer.write(row)
    paths = [path for writer in writers for path in writer.close()]

    languages: Counter[str] = Counter()
    task_types: Counter[str] = Counter()
    cells: dict[str, dict[str, int]] = {}
    for (language, task_type), count in sorted(per_cell.items()):
        languages[language] += count
        task_types[task_type] += count
        cells.setdefault(language, {})[task_type] = count
    manifest = {
        "manifest_version": MANIFEST_VERSION,
        "app": "parakh",
        "app_version": parakh.__version__,
        "created_at": timezone.now().isoformat(),
        "criteria": criteria.to_dict(),
        "formats": [name for name in EXPORT_FORMATS if name in formats],
        "counts": {
            "samples": sum(per_cell.values()),
            "scanned": scanned_total,
            "languages": dict(sorted(languages.items())),
            "task_types": dict(sorted(task_types.items())),
            "languages_by_task_type": cells,
        },
        "alpha": {slug: accumulator.result() for slug, accumulator in alphas.items()},
        "files": [
            {
                "name": path.relative_to(directory).as_posix(),
                "bytes": path.stat().st_size,
                "sha256": file_sha256(path),
            }
            for path in paths
        ],
    }
    (directory / MANIFEST_NAME).write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return manifest
