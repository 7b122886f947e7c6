"""Agreement reports built from the Rating table, and the cached copies the pages read.

`agreement_report_build` fetches every rating that a filter selects in one query
(values_list into numpy), groups them by (language, dimension) and hands value-counts
matrices to evaluation.agreement. No Python loop runs per rating and no query per sample;
the loops are per cell, per rater and per judge. The result is plain JSON-compatible data,
stored in the cache by services.agreement_report_refresh (on the cpu queue); pages and the
API read only the cached copy (`agreement_report_cached`). See docs/agreement.md.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import date

import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.db.models import Case, Count, IntegerField, Max, Q, QuerySet, Value, When
from django.utils import timezone

from synth.languages import LANGUAGES

from .. import agreement
from ..models import Dimension, Judgment, Rater, Rating

ALL_LANGUAGES = "all"
LANGUAGE_CODES = list(LANGUAGES)
KINDS = [Rater.Kind.HUMAN, Rater.Kind.LLM, Rater.Kind.GOLD, Rater.Kind.ADJUDICATED]
HUMAN, LLM, GOLD, ADJUDICATED = range(4)

NO_JUDGE_OVERLAP = "the judge rated none of the samples that humans rated"
NO_OTHER_RATER = "no sample of this annotator was rated by another human"


def resamples_default() -> int:
    return getattr(settings, "PARAKH_AGREEMENT_RESAMPLES", 1000)


def disagreements_shown() -> int:
    return getattr(settings, "PARAKH_AGREEMENT_TOP_DISAGREEMENTS", 25)


@dataclass(frozen=True)
class AgreementFilter:
    """Which ratings a report covers. sample_ids=None means every sample (a batch is passed
    in as its sample ids, so this app never needs to know about batches)."""

    languages: tuple[str, ...] = ()
    task_types: tuple[str, ...] = ()
    sample_ids: tuple[int, ...] | None = None
    rated_from: date | None = None
    rated_to: date | None = None
    label: str = field(default="", compare=False)

    def as_dict(self) -> dict:
        data = asdict(self)
        data["languages"] = sorted(self.languages)
        data["task_types"] = sorted(self.task_types)
        data["sample_ids"] = None if self.sample_ids is None else sorted(self.sample_ids)
        data["rated_from"] = self.rated_from.isoformat() if self.rated_from else None
        data["rated_to"] = self.rated_to.isoformat() if self.rated_to else None
        return data

    @classmethod
    def from_dict(cls, data: dict) -> AgreementFilter:
        sample_ids = data.get("sample_ids")
        return cls(
            languages=tuple(data.get("languages") or ()),
            task_types=tuple(data.get("task_types") or ()),
            sample_ids=None if sample_ids is None else tuple(int(i) for i in sample_ids),
            rated_from=date.fromisoformat(data["rated_from"]) if data.get("rated_from") else None,
            rated_to=date.fromisoformat(data["rated_to"]) if data.get("rated_to") else None,
            label=data.get("label", ""),
        )

    @property
    def key(self) -> str:
        """Stable cache key part: the same filter, however built, gives the same key."""
        data = self.as_dict()
        data.pop("label")
        encoded = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
        return hashlib.sha256(encoded).hexdigest()[:32]


def agreement_cache_key(*, filters: AgreementFilter, part: str) -> str:
    return f"agreement:v1:{filters.key}:{part}"


def cell_part(language: str, dimension_slug: str) -> str:
    return f"cell:{language}:{dimension_slug}"


# ---------------------------------------------------------------------------- reads


def _ratings(filters: AgreementFilter) -> QuerySet[Rating]:
    ratings = Rating.objects.all()
    if filters.languages:
        ratings = ratings.filter(sample__language__in=filters.languages)
    if filters.task_types:
        ratings = ratings.filter(sample__task_type__in=filters.task_types)
    if filters.sample_ids is not None:
        ratings = ratings.filter(sample_id__in=filters.sample_ids)
    if filters.rated_from:
        ratings = ratings.filter(created_at__date__gte=filters.rated_from)
    if filters.rated_to:
        ratings = ratings.filter(created_at__date__lte=filters.rated_to)
    return ratings


def ratings_version() -> str:
    """What changes whenever a rating is added, changed or deleted (one aggregate query).

    Global rather than per filter: a report is recomputed at most once per change
    (debounced), and the filtered version would need the join to samples on every view."""
    stats = Rating.objects.aggregate(latest=Max("updated_at"), total=Count("id"))
    latest = stats["latest"].isoformat() if stats["latest"] else "-"
    return f"{latest}|{stats['total']}"


def _rating_arrays(filters: AgreementFilter) -> np.ndarray:
    """(sample, language index, dimension, rater, value) of every selected rating, int64."""
    language_index = Case(
        *[When(sample__language=code, then=Value(i)) for i, code in enumerate(LANGUAGE_CODES)],
        default=Value(-1),
        output_field=IntegerField(),
    )
    rows = list(
        _ratings(filters)
        .annotate(language_index=language_index)
        .values_list("sample_id", "language_index", "dimension_id", "rater_id", "value")
        .order_by()
    )
    if not rows:
        return np.zeros((0, 5), dtype=np.int64)
    return np.array(rows, dtype=np.int64)


@dataclass(frozen=True)
class _Raters:
    kind: np.ndarray  # kind index by rater id
    names: dict[int, str]
    judge_of: dict[int, int]  # rater id -> judge id, LLM raters only


def _raters() -> _Raters:
    rows = list(
        Rater.objects.values_list("id", "kind", "user__username", "judge_id", "judge__name")
    )
    top = max((row[0] for row in rows), default=0)
    kind = np.full(top + 1, -1, dtype=np.int64)
    names, judge_of = {}, {}
    for rater_id, rater_kind, username, judge_id, judge_name in rows:
        kind[rater_id] = KINDS.index(rater_kind)
        names[rater_id] = username or judge_name or rater_kind
        if judge_id is not None:
            judge_of[rater_id] = judge_id
    return _Raters(kind, names, judge_of)


def _parse_failures(filters: AgreementFilter) -> dict[tuple[int, int], tuple[int, int]]:
    """(judge id, dimension id) -> (failed, total) Judgments for the filtered samples."""
    judgments = Judgment.objects.all()
    if filters.languages:
        judgments = judgments.filter(sample__language__in=filters.languages)
    if filters.task_types:
        judgments = judgments.filter(sample__task_type__in=filters.task_types)
    if filters.sample_ids is not None:
        judgments = judgments.filter(sample_id__in=filters.sample_ids)
    if filters.rated_from:
        judgments = judgments.filter(created_at__date__gte=filters.rated_from)
    if filters.rated_to:
        judgments = judgments.filter(created_at__date__lte=filters.rated_to)
    rows = (
        judgments.values("judge_id", "dimension_id")
        .annotate(total=Count("id"), failed=Count("id", filter=~Q(error="")))
        .order_by()
    )
    return {(r["judge_id"], r["dimension_id"]): (r["failed"], r["total"]) for r in rows}


# ---------------------------------------------------------------------------- one cell


def _alpha_dict(result: agreement.AlphaResult) -> dict:
    return {
        "value": result.value,
        "n_units": result.n_units,
        "n_ratings": result.n_ratings,
        "reason": result.reason,
    }


def _interval_dict(result: agreement.AlphaInterval) -> dict:
    return {
        "value": result.value,
        "low": result.low,
        "high": result.high,
        "resamples": result.resamples,
        "reason": result.reason,
    }


def _paired_alpha(a: np.ndarray, b: np.ndarray, *, level: str, cats: list[int]) -> dict:
    """Alpha of two coders who rated the same units (a[i] and b[i] on unit i)."""
    units = np.concatenate([np.arange(a.size), np.arange(b.size)])
    counts = agreement.value_counts(units, np.concatenate([a, b]), cats)
    return _alpha_dict(agreement.alpha(counts, level=level, categories=cats))


def _compare(a: np.ndarray, b: np.ndarray, *, level: str, cats: list[int]) -> dict:
    return {
        "n": int(a.size),
        "alpha": _paired_alpha(a, b, level=level, cats=cats),
        "exact": agreement.exact_agreement(a, b),
        "within_one": agreement.within_one_agreement(a, b),
    }


def _find(keys: np.ndarray, in_sorted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of keys in the sorted array in_sorted, and which keys are in it at all."""
    if in_sorted.size == 0:
        return np.zeros(keys.size, dtype=np.int64), np.zeros(keys.size, dtype=bool)
    clipped = np.minimum(np.searchsorted(in_sorted, keys), in_sorted.size - 1)
    return clipped, in_sorted[clipped] == keys


def _expand(row: np.ndarray, cats: np.ndarray) -> list[int]:
    return np.repeat(cats, row).tolist()


def _cell(
    data: np.ndarray,
    *,
    dimension: Dimension,
    raters: _Raters,
    resamples: int,
    seed: int,
    top: int,
) -> dict:
    """Every figure of one (language, dimension): data rows are (sample, rater, value)."""
    cats = list(dimension.scale)
    cats_array = np.asarray(cats)
    level = dimension.level
    samples, rater_ids, values = data[:, 0], data[:, 1], data[:, 2]
    kind = raters.kind[rater_ids]
    human = kind == HUMAN

    h_samples, h_values = samples[human], values[human]
    units = np.unique(h_samples)
    counts = agreement.value_counts(h_samples, h_values, cats)
    humans = agreement.bootstrap_alpha(
        counts, level=level, categories=cats, resamples=resamples, seed=seed
    )

    # Consensus per human-rated sample: the adjudicated value where there is one, otherwise
    # the lower median of the human ratings.
    cons = agreement.consensus(counts, cats)
    adjudicated = kind == ADJUDICATED
    adj_samples, adj_values = samples[adjudicated], values[adjudicated]
    at, hit = _find(adj_samples, units)
    cons[at[hit]] = adj_values[hit]

    gold = kind == GOLD
    g_order = np.argsort(samples[gold])
    g_samples, g_values = samples[gold][g_order], values[gold][g_order]

    judges = {}
    judge_values: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for rater_id in np.unique(rater_ids[kind == LLM]).tolist():
        mine = rater_ids == rater_id
        j_samples, j_values = samples[mine], values[mine]
        order = np.argsort(j_samples)
        judge_values[rater_id] = (j_samples[order], j_values[order])
        with_humans = agreement.value_counts(
            np.concatenate([h_samples, j_samples]), np.concatenate([h_values, j_values]), cats
        )
        pos, found = _find(j_samples, units)
        judge_side, human_side = j_values[found], cons[pos[found]]
        versus = _compare(judge_side, human_side, level=level, cats=cats)
        if judge_side.size == 0:
            versus["alpha"]["reason"] = NO_JUDGE_OVERLAP
        judges[str(raters.judge_of[rater_id])] = {
            "name": raters.names[rater_id],
            "ratings": int(j_samples.size),
            "with_humans": _alpha_dict(agreement.alpha(with_humans, level=level, categories=cats)),
            "vs_consensus": versus,
            "confusion": agreement.confusion_matrix(judge_side, human_side, cats).tolist(),
            "distribution": np.bincount(
                np.searchsorted(cats_array, j_values), minlength=len(cats)
            ).tolist(),
        }

    judge_pairs = []
    judge_rater_ids = sorted(judge_values)
    for i, first in enumerate(judge_rater_ids):
        for second in judge_rater_ids[i + 1 :]:
            a_samples, a_values = judge_values[first]
            b_samples, b_values = judge_values[second]
            pos, found = _find(a_samples, b_samples)
            judge_pairs.append(
                {
                    "judges": [raters.judge_of[first], raters.judge_of[second]],
                    "names": [raters.names[first], raters.names[second]],
                    **_compare(a_values[found], b_values[pos[found]], level=level, cats=cats),
                }
            )

    annotators = []
    for rater_id in np.unique(rater_ids[human]).tolist():
        mine = human & (rater_ids == rater_id)
        a_samples, a_values = samples[mine], values[mine]
        row = np.searchsorted(units, a_samples)
        others = counts[row].copy()
        others[np.arange(row.size), np.searchsorted(cats_array, a_values)] -= 1
        shared = others.sum(axis=1) > 0
        rest = agreement.consensus(others[shared], cats)
        versus = _compare(a_values[shared], rest, level=level, cats=cats)
        if not shared.any():
            versus["alpha"]["reason"] = NO_OTHER_RATER
        g_pos, g_found = _find(a_samples, g_samples)
        annotators.append(
            {
                "rater": rater_id,
                "name": raters.names[rater_id],
                "ratings": int(a_samples.size),
                "vs_rest": versus,
                "gold_n": int(g_found.sum()),
                "gold_accuracy": float(np.mean(a_values[g_found] == g_values[g_pos[g_found]]))
                if g_found.any()
                else None,
            }
        )

    # Largest disagreement first: the spread (max - min) of the human ratings, then how
    # many humans rated the sample.
    n_human = counts.sum(axis=1)
    rated = counts > 0
    lowest = cats_array[np.argmax(rated, axis=1)]
    highest = cats_array[counts.shape[1] - 1 - np.argmax(rated[:, ::-1], axis=1)]
    spread = np.where(n_human >= 2, highest - lowest, -1)
    worst = np.lexsort((-n_human, -spread))[:top]
    worst = worst[spread[worst] > 0]
    disagreements = []
    for row in worst.tolist():
        sample_id = int(units[row])
        judged = {}
        for rater_id, (j_samples, j_values) in judge_values.items():
            pos, found = _find(np.array([sample_id]), j_samples)
            if found[0]:
                judged[str(raters.judge_of[rater_id])] = int(j_values[pos[0]])
        disagreements.append(
            {
                "sample": sample_id,
                "spread": int(spread[row]),
                "human_values": _expand(counts[row], cats_array),
                "consensus": int(cons[row]),
                "judges": judged,
            }
        )

    return {
        "dimension": dimension.slug,
        "level": level,
        "categories": cats,
        "items": int(np.unique(samples).size),
        "ratings": int(samples.size),
        "human_items": int(units.size),
        "human_ratings": int(h_samples.size),
        "annotator_count": len(annotators),
        "humans": _interval_dict(humans),
        "human_distribution": counts.sum(axis=0).tolist(),
        "judges": judges,
        "judge_pairs": judge_pairs,
        "annotators": annotators,
        "disagreements": disagreements,
    }


def _summary(cell: dict) -> dict:
    """What the overview grid shows of a cell: no per-item or per-annotator lists."""
    return {
        "dimension": cell["dimension"],
        "items": cell["items"],
        "ratings": cell["ratings"],
        "human_items": cell["human_items"],
        "human_ratings": cell["human_ratings"],
        "annotator_count": cell["annotator_count"],
        "humans": cell["humans"],
        "judges": {
            judge_id: {
                "name": judge["name"],
                "with_humans": judge["with_humans"],
                "vs_consensus": judge["vs_consensus"],
            }
            for judge_id, judge in cell["judges"].items()
        },
    }


# ---------------------------------------------------------------------------- whole report


def agreement_report_build(
    *, filters: AgreementFilter, resamples: int | None = None, seed: int = 0
) -> dict[str, dict]:
    """Compute every part of the report for a filter; {part: data}, parts named as the
    cache keys: "overview", "judges" and cell_part(language, dimension) per cell, where
    language ALL_LANGUAGES pools every selected language. Heavy: run it off the request
    path (services.agreement_report_refresh on the cpu queue)."""
    resamples = resamples_default() if resamples is None else resamples
    version = ratings_version()
    rows = _rating_arrays(filters)
    raters = _raters()
    dimension_ids = np.unique(rows[:, 2]).tolist()
    dimensions = list(Dimension.objects.filter(id__in=dimension_ids))
    present = set(np.unique(rows[:, 3]).tolist())
    judges = sorted(j for rater_id, j in raters.judge_of.items() if rater_id in present)

    # Sorted by (dimension, language) once; each cell is then a contiguous slice.
    order = np.lexsort((rows[:, 1], rows[:, 2]))
    rows = rows[order]
    top = disagreements_shown()
    parts: dict[str, dict] = {}
    grid: dict[str, dict[str, dict]] = {}
    languages_present: set[str] = set()
    for dimension in dimensions:
        lo, hi = np.searchsorted(rows[:, 2], [dimension.id, dimension.id + 1])
        block = rows[lo:hi]
        pooled = _cell(
            block[:, [0, 3, 4]],
            dimension=dimension,
            raters=raters,
            resamples=resamples,
            seed=seed,
            top=top,
        )
        parts[cell_part(ALL_LANGUAGES, dimension.slug)] = pooled
        grid.setdefault(ALL_LANGUAGES, {})[dimension.slug] = _summary(pooled)
        for index in np.unique(block[:, 1]).tolist():
            code = LANGUAGE_CODES[index]
            languages_present.add(code)
            l_lo, l_hi = np.searchsorted(block[:, 1], [index, index + 1])
            cell = _cell(
                block[l_lo:l_hi][:, [0, 3, 4]],
                dimension=dimension,
                raters=raters,
                resamples=resamples,
                seed=seed,
                top=top,
            )
            cell["language"] = code
            parts[cell_part(code, dimension.slug)] = cell
            grid.setdefault(code, {})[dimension.slug] = _summary(cell)

    meta = {
        "computed_at": timezone.now().isoformat(),
        "ratings_version": version,
        "filters": filters.as_dict(),
        "resamples": resamples,
        "seed": seed,
    }
    for part in parts.values():
        part.update(meta)
    dimension_rows = [
        {
            "slug": d.slug,
            "name": d.name,
            "level": d.level,
            "scale_min": d.scale_min,
            "scale_max": d.scale_max,
        }
        for d in dimensions
    ]
    judge_names = {raters.judge_of[r]: raters.names[r] for r in raters.judge_of}
    judge_rows = [{"id": judge_id, "name": judge_names[judge_id]} for judge_id in judges]
    parts["overview"] = {
        **meta,
        "languages": [code for code in LANGUAGE_CODES if code in languages_present],
        "dimensions": dimension_rows,
        "judges": judge_rows,
        "grid": grid,
    }
    failures = _parse_failures(filters)
    parts["judges"] = {
        **meta,
        "dimensions": dimension_rows,
        "judges": judge_rows,
        "rows": [
            {
                "dimension": dimension.slug,
                "humans": parts[cell_part(ALL_LANGUAGES, dimension.slug)]["humans"],
                "judges": [
                    _judge_column(
                        parts[cell_part(ALL_LANGUAGES, dimension.slug)]["judges"].get(
                            str(judge_id)
                        ),
                        failures.get((judge_id, dimension.id), (0, 0)),
                        judge_id,
                    )
                    for judge_id in judges
                ],
            }
            for dimension in dimensions
        ],
    }
    return parts


def _judge_column(judge: dict | None, failures: tuple[int, int], judge_id: int) -> dict:
    failed, total = failures
    return {
        "judge": judge_id,
        "ratings": judge["ratings"] if judge else 0,
        "with_humans": judge["with_humans"] if judge else None,
        "vs_consensus": judge["vs_consensus"] if judge else None,
        "judgments": total,
        "parse_failures": failed,
        "parse_failure_rate": failed / total if total else None,
    }


def agreement_report_cached(*, filters: AgreementFilter, part: str = "overview") -> dict | None:
    """The stored copy of one part of a filter's report, or None if none is stored."""
    return cache.get(agreement_cache_key(filters=filters, part=part))


def agreement_report_pending(*, filters: AgreementFilter) -> bool:
    """Whether a recompute of this filter's report is queued or running."""
    return cache.get(agreement_cache_key(filters=filters, part="lock")) is not None
