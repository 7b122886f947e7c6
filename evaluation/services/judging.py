"""LLM judges and judge runs: create, start, cancel, resume, and judge a chunk of samples.

Idempotent by construction: one Judgment per (judge, sample, dimension, prompt version),
held by a unique constraint. A chunk asks the backend only for keys with no Judgment yet,
and writes under the run's row lock after checking again, so a redelivered chunk (a killed
worker, a resume) repeats nothing that was finished.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Max, QuerySet
from django.utils import timezone

from parakh.transitions import RunStatus, run_transition
from synth.backends import BackendUnavailable, ChatResult, backend_for
from synth.languages import LANGUAGES
from synth.models import ModelEndpoint, Sample
from synth.task_types import TaskType

from .. import judging
from ..models import Dimension, Judge, JudgeRun, Judgment, Rating
from .ratings import rater_for_judge

logger = logging.getLogger(__name__)

SELECTION_KEYS = frozenset({"languages", "task_types", "status", "batch"})


def _chunk_size() -> int:
    return int(getattr(settings, "PARAKH_JUDGE_CHUNK_SIZE", 32))


def judge_run_transition(*, run: JudgeRun, to: str, error: str = "") -> JudgeRun:
    """Guarded status change; illegal moves raise parakh.transitions.InvalidTransition."""
    return run_transition(run, to=to, error=error)


def judge_create(
    *, name: str, endpoint: ModelEndpoint, prompt_version: str, params: dict | None = None
) -> Judge:
    """A judge, with its LLM Rater. Temperature 0 unless ``params`` says otherwise."""
    if prompt_version not in judging.prompt_versions():
        raise ValidationError(
            {
                "prompt_version": f"No prompt version {prompt_version!r}; "
                f"known: {', '.join(judging.prompt_versions())}."
            }
        )
    params = {"temperature": 0, **(params or {})}
    judging.Sampling.of(params)  # refuses non-numeric sampling values now, not mid-run
    judge = Judge(name=name, endpoint=endpoint, prompt_version=prompt_version, params=params)
    judge.full_clean()
    with transaction.atomic():
        judge.save()
        rater_for_judge(judge=judge)
    return judge


def _clean_selection(selection: dict) -> dict:
    unknown = set(selection) - SELECTION_KEYS
    if unknown:
        raise ValidationError({"selection": f"Unknown keys: {', '.join(sorted(unknown))}."})
    clean: dict = {}
    for key, allowed in (
        ("languages", set(LANGUAGES)),
        ("task_types", set(TaskType.values)),
        ("status", set(Sample.Status.values)),
    ):
        values = selection.get(key) or []
        if isinstance(values, str):
            values = [values]
        bad = [v for v in values if v not in allowed]
        if bad:
            raise ValidationError({"selection": f"Unknown {key}: {', '.join(map(str, bad))}."})
        if values:
            clean[key] = sorted(set(values))
    if selection.get("batch") not in (None, ""):
        try:
            clean["batch"] = int(selection["batch"])
        except (TypeError, ValueError):
            raise ValidationError({"selection": "batch must be a batch id."}) from None
    return clean


def judge_run_create(
    *,
    judge: Judge,
    dimensions: Iterable[Dimension],
    selection: dict | None = None,
    mode: str = JudgeRun.Mode.SINGLE,
    created_by=None,
) -> JudgeRun:
    dimensions = list(dimensions)
    if not dimensions:
        raise ValidationError({"dimensions": "Choose at least one dimension."})
    run = JudgeRun(
        judge=judge, mode=mode, selection=_clean_selection(selection or {}), created_by=created_by
    )
    run.full_clean()
    with transaction.atomic():
        run.save()
        run.dimensions.set(dimensions)
    return run


def judge_run_samples(*, run: JudgeRun) -> QuerySet[Sample]:
    """The samples a run judges: its selection, frozen at the newest sample when it started."""
    selection = run.selection or {}
    samples = Sample.objects.all()
    if selection.get("languages"):
        samples = samples.filter(language__in=selection["languages"])
    if selection.get("task_types"):
        samples = samples.filter(task_type__in=selection["task_types"])
    if selection.get("status"):
        samples = samples.filter(status__in=selection["status"])
    if selection.get("batch"):
        # Reverse relation to annotate.BatchItem: a query, not an import of annotate.
        samples = samples.filter(batch_items__batch_id=selection["batch"])
    last = (run.counts or {}).get("last_sample_id")
    if last is not None:
        samples = samples.filter(pk__lte=last)
    return samples.order_by("pk")


def _run_keys_judged(run: JudgeRun, samples: QuerySet[Sample]) -> QuerySet[Judgment]:
    return Judgment.objects.filter(
        judge=run.judge,
        prompt_version=run.judge.prompt_version,
        dimension__in=run.dimensions.all(),
        sample__in=samples,
    )


def _expected(run: JudgeRun, samples: QuerySet[Sample]) -> int:
    dimensions = list(run.dimensions.all())
    by_task = samples.order_by().values("task_type").annotate(n=Count("pk"))
    return sum(
        row["n"] * sum(d.applies_to(row["task_type"]) for d in dimensions) for row in by_task
    )


def judge_run_start(*, run: JudgeRun, chunk_size: int | None = None) -> JudgeRun:
    """Freeze the selection (at its newest sample), count what is to do, and queue the
    chunks on the gpu queue.

    Keys already judged (by an earlier run of the same judge and prompt version) count as
    done; a run with nothing left completes at once."""
    from ..tasks.judging import judge_chunk

    chunk_size = chunk_size or _chunk_size()
    with transaction.atomic():
        run = JudgeRun.objects.select_for_update().select_related("judge").get(pk=run.pk)
        judge_run_transition(run=run, to=RunStatus.RUNNING)
        # A resumed run keeps the selection it was frozen with at its first start.
        frozen = (run.counts or {}).get("last_sample_id")
        if frozen is None:
            frozen = judge_run_samples(run=run).aggregate(last=Max("pk"))["last"] or 0
        run.counts = {"last_sample_id": frozen}
        samples = judge_run_samples(run=run)
        judged = _run_keys_judged(run, samples)
        sample_ids = list(samples.values_list("pk", flat=True))
        chunks = [sample_ids[i : i + chunk_size] for i in range(0, len(sample_ids), chunk_size)]
        run.counts.update(
            samples=len(sample_ids),
            expected=_expected(run, samples),
            done=judged.count(),
            failed=judged.exclude(error="").count(),
            chunks=len(chunks),
            chunk_size=chunk_size,
        )
        run.save(update_fields=["counts", "updated_at"])
        if run.counts["done"] >= run.counts["expected"]:
            return judge_run_transition(run=run, to=RunStatus.COMPLETED)
        for chunk in chunks:
            transaction.on_commit(lambda chunk=chunk: judge_chunk.delay(run.pk, chunk))
    return run


def judge_run_cancel(*, run: JudgeRun) -> JudgeRun:
    """Queued chunks of a cancelled run do nothing; what was judged stays."""
    with transaction.atomic():
        run = JudgeRun.objects.select_for_update().get(pk=run.pk)
        return judge_run_transition(run=run, to=RunStatus.CANCELLED)


def judge_run_resume(*, run: JudgeRun, chunk_size: int | None = None) -> JudgeRun:
    """Start a cancelled or failed run again: only what has no Judgment yet is asked."""
    with transaction.atomic():
        run = JudgeRun.objects.select_for_update().get(pk=run.pk)
        judge_run_transition(run=run, to=RunStatus.PENDING)
    return judge_run_start(run=run, chunk_size=chunk_size)


def judge_run_fail(*, run_id: int, error: str) -> None:
    with transaction.atomic():
        run = JudgeRun.objects.select_for_update().filter(pk=run_id).first()
        if run is not None and run.status == RunStatus.RUNNING:
            judge_run_transition(run=run, to=RunStatus.FAILED, error=error)


@dataclass
class _Outcome:
    """What to store for one (sample, dimension)."""

    sample: Sample
    dimension: Dimension
    raw_output: str
    parsed: dict | None
    error: str
    latency_ms: int
    prompt_tokens: int
    completion_tokens: int


@dataclass
class _Call:
    """One backend call and the dimensions it answers (one, or all of a task type)."""

    sample: Sample
    dimensions: list[Dimension]
    messages: list[dict]
    schema: dict
    name: str
    results: list[ChatResult] = field(default_factory=list)
    # Per result: {dimension slug: (parsed, error)}, or None for a transport failure.
    verdicts: list[dict | None] = field(default_factory=list)

    def add(self, result: ChatResult) -> None:
        self.results.append(result)
        if not result.ok:
            self.verdicts.append(None)
        elif self.name == "all":
            self.verdicts.append(judging.parse_all(result.text, self.dimensions))
        else:
            self.verdicts.append({self.dimensions[0].slug: judging.parse(result.text, self.schema)})


def _calls(run: JudgeRun, samples: list[Sample], missing: dict) -> list[_Call]:
    version = run.judge.prompt_version
    calls = []
    for sample in samples:
        dimensions = missing.get(sample.pk)
        if not dimensions:
            continue
        if run.mode == JudgeRun.Mode.ALL:
            calls.append(
                _Call(
                    sample=sample,
                    dimensions=dimensions,
                    messages=judging.render_all(
                        version=version, sample=sample, dimensions=dimensions
                    ),
                    schema=judging.all_schema(dimensions),
                    name="all",
                )
            )
        else:
            calls.extend(
                _Call(
                    sample=sample,
                    dimensions=[dimension],
                    messages=judging.render_single(
                        version=version, sample=sample, dimension=dimension
                    ),
                    schema=judging.score_schema(dimension),
                    name=dimension.slug,
                )
                for dimension in dimensions
            )
    return calls


def _outcomes(call: _Call) -> list[_Outcome]:
    """Per dimension, the first valid answer of the call and its repair; else the last
    error, with every raw reply kept for inspection."""
    first = call.results[0]
    raw = "\n\n--- repair ---\n\n".join(result.text for result in call.results)
    # An all-dimensions call's tokens are shared by its judgments, so per-judgment figures
    # compare across modes.
    share = len(call.dimensions)
    prompt_tokens = sum(r.prompt_tokens for r in call.results) // share
    completion_tokens = sum(r.completion_tokens for r in call.results) // share
    latency_ms = sum(r.latency_ms for r in call.results)
    outcomes = []
    for dimension in call.dimensions:
        parsed, error = None, first.error
        for verdict in call.verdicts:
            if verdict is None:
                continue
            parsed, error = verdict[dimension.slug]
            if parsed is not None:
                break
        if parsed is not None:
            parsed = {**parsed, "value": judging.to_human_scale(dimension, parsed["score"])}
        outcomes.append(
            _Outcome(
                sample=call.sample,
                dimension=dimension,
                raw_output=raw,
                parsed=parsed,
                error="" if parsed is not None else error or "invalid reply",
                latency_ms=latency_ms,
                prompt_tokens=prompt_tokens,
                completion_tokens=completion_tokens,
            )
        )
    return outcomes


def _needs_repair(call: _Call) -> str:
    verdict = call.verdicts[0]
    if verdict is None:
        return ""  # a transport failure is not the model's to repair
    return "; ".join(error for parsed, error in verdict.values() if parsed is None)


def judge_chunk_process(*, run_id: int, sample_ids: list[int]) -> dict:
    """Judge the samples of one chunk on the run's dimensions; returns what it wrote.

    Raises BackendUnavailable when some calls failed transiently after the backend's own
    retries: what did succeed is stored first, so the retried chunk asks only for the rest.
    """
    run = JudgeRun.objects.select_related("judge__endpoint").filter(pk=run_id).first()
    if run is None or run.status != RunStatus.RUNNING:
        return {"written": 0, "skipped": "run not running"}
    judge = run.judge
    dimensions = list(run.dimensions.all())
    samples = list(Sample.objects.filter(pk__in=sample_ids).order_by("pk"))
    missing = _missing(judge, dimensions, samples)
    calls = _calls(run, samples, missing)
    if not calls:
        return {"written": 0}

    backend = backend_for(judge.endpoint)
    sampling = judging.Sampling.of(judge.params)
    for call, result in zip(
        calls,
        backend.chat([sampling.request(c.messages, c.schema, c.name) for c in calls]),
        strict=True,
    ):
        call.add(result)
    # One repair attempt, with the validation error, for every reply that was not usable.
    repairs = [(call, error) for call in calls if (error := _needs_repair(call))]
    if repairs:
        requests = [
            sampling.request(
                judging.repair_messages(call.messages, call.results[0].text, error, call.schema),
                call.schema,
                call.name,
            )
            for call, error in repairs
        ]
        for (call, _), result in zip(repairs, backend.chat(requests), strict=True):
            call.add(result)

    transient = [c for c in calls if any(r.transient for r in c.results)]
    outcomes = [o for c in calls if c not in transient for o in _outcomes(c)]
    written = _store(run, outcomes)
    if transient:
        raise BackendUnavailable(
            f"{len(transient)} of {len(calls)} calls failed: {transient[0].results[-1].error}"
        )
    return {"written": written}


def _missing(judge: Judge, dimensions: list[Dimension], samples: list[Sample]) -> dict:
    done = set(
        Judgment.objects.filter(
            judge=judge,
            prompt_version=judge.prompt_version,
            sample__in=samples,
            dimension__in=dimensions,
        ).values_list("sample_id", "dimension_id")
    )
    return {
        sample.pk: [
            d
            for d in dimensions
            if d.applies_to(sample.task_type) and (sample.pk, d.pk) not in done
        ]
        for sample in samples
    }


def _store(run: JudgeRun, outcomes: list[_Outcome]) -> int:
    """Write Judgments and their Ratings in one transaction under the run's lock, skipping
    any key that a concurrent delivery of the same chunk wrote meanwhile."""
    if not outcomes:
        return 0
    judge = run.judge
    rater = rater_for_judge(judge=judge)
    with transaction.atomic():
        locked = JudgeRun.objects.select_for_update().get(pk=run.pk)
        done = set(
            Judgment.objects.filter(
                judge=judge,
                prompt_version=judge.prompt_version,
                sample__in={o.sample.pk for o in outcomes},
                dimension__in={o.dimension.pk for o in outcomes},
            ).values_list("sample_id", "dimension_id")
        )
        fresh = [o for o in outcomes if (o.sample.pk, o.dimension.pk) not in done]
        # ignore_conflicts: another run of the same judge and version may overlap this one.
        Judgment.objects.bulk_create(
            [
                Judgment(
                    run=locked,
                    judge=judge,
                    sample=o.sample,
                    dimension=o.dimension,
                    prompt_version=judge.prompt_version,
                    raw_output=o.raw_output,
                    parsed=o.parsed,
                    error=o.error,
                    latency_ms=o.latency_ms,
                    prompt_tokens=o.prompt_tokens,
                    completion_tokens=o.completion_tokens,
                )
                for o in fresh
            ],
            ignore_conflicts=True,
        )
        now = timezone.now()
        Rating.objects.bulk_create(
            [
                Rating(
                    sample=o.sample,
                    dimension=o.dimension,
                    rater=rater,
                    value=o.parsed["value"],
                    rationale=str(o.parsed.get("reason", "")),
                    created_at=now,
                    updated_at=now,
                )
                for o in fresh
                if o.parsed is not None
            ],
            update_conflicts=True,
            unique_fields=["sample", "dimension", "rater"],
            update_fields=["value", "rationale", "updated_at"],
        )
        counts = locked.counts
        counts["done"] = counts.get("done", 0) + len(fresh)
        counts["failed"] = counts.get("failed", 0) + sum(o.parsed is None for o in fresh)
        locked.counts = counts
        locked.save(update_fields=["counts", "updated_at"])
        if locked.status == RunStatus.RUNNING and counts["done"] >= counts.get("expected", 0):
            judge_run_transition(run=locked, to=RunStatus.COMPLETED)
    return len(fresh)


@dataclass(frozen=True)
class PairwiseVerdict:
    """Which response is better: "a", "b" or "tie"; ``orders`` holds the winner of each
    order as asked ("a"/"b"/"tie", or None for an unusable reply)."""

    winner: str
    orders: tuple[str | None, str | None]
    reasons: tuple[str, str]
    raw_outputs: tuple[str, str]


def pairwise_judge(
    *,
    judge: Judge,
    language: str,
    messages: list[dict],
    response_a: str,
    response_b: str,
) -> PairwiseVerdict:
    """Ask the judge which response is better, in both orders: position bias cancels out,
    and two orders that disagree (or an unusable reply) count as a tie."""
    version = judge.prompt_version
    orders = [(response_a, response_b), (response_b, response_a)]
    sampling = judging.Sampling.of(judge.params)
    requests = [
        sampling.request(
            judging.render_pairwise(
                version=version, language=language, messages=messages, response_a=a, response_b=b
            ),
            judging.PAIRWISE_SCHEMA,
            "pairwise",
        )
        for a, b in orders
    ]
    results = backend_for(judge.endpoint).chat(requests)
    if any(r.transient for r in results):
        raise BackendUnavailable(next(r.error for r in results if r.transient))
    winners: list[str | None] = []
    reasons = []
    for swapped, result in enumerate(results):
        parsed, _ = judging.parse(result.text, judging.PAIRWISE_SCHEMA) if result.ok else (None, "")
        reasons.append(parsed["reason"] if parsed else "")
        if parsed is None:
            winners.append(None)
        elif parsed["winner"] == "tie":
            winners.append("tie")
        else:
            # "A" is response_a in the first order and response_b in the swapped one.
            first_shown = parsed["winner"] == "A"
            winners.append("a" if first_shown != bool(swapped) else "b")
    winner = winners[0] if winners[0] == winners[1] and winners[0] is not None else "tie"
    return PairwiseVerdict(
        winner=winner,
        orders=(winners[0], winners[1]),
        reasons=(reasons[0], reasons[1]),
        raw_outputs=(results[0].text, results[1].text),
    )


__all__ = [
    "PairwiseVerdict",
    "judge_chunk_process",
    "judge_create",
    "judge_run_cancel",
    "judge_run_create",
    "judge_run_fail",
    "judge_run_resume",
    "judge_run_samples",
    "judge_run_start",
    "judge_run_transition",
    "pairwise_judge",
]
