"""Arena writes: import prompts and responses, make comparisons, record preferences, and
let an LLM judge compare responses (both orders; see judging.pairwise_judge)."""

from __future__ import annotations

import gzip
import json
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet

from synth.backends import BackendUnavailable, ChatRequest, backend_for
from synth.languages import LANGUAGES
from synth.models import ModelEndpoint

from ..models import ArenaPrompt, ArenaResponse, Comparison, Judge, Preference, Rater
from .judging import pairwise_judge
from .ratings import rater_for_judge

COLUMNS = ("prompt_id", "language", "prompt", "model", "response")
PARQUET_BATCH_ROWS = 1024


class ArenaImportError(Exception):
    """A file that cannot be imported; ``errors`` names each bad line as "file:line: why"."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        shown = "; ".join(errors[:5])
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        super().__init__(f"{shown}{more}")


@dataclass
class ArenaImportSummary:
    prompts_created: int = 0
    responses_created: int = 0
    responses_unchanged: int = 0
    errors: list[str] = field(default_factory=list)


def _rows_jsonl(path: Path) -> Iterator[tuple[str, object]]:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            location = f"{path.name}:{number}"
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as error:
                yield location, ValueError(f"not UTF-8 (byte {error.start} of the line)")
                continue
            if not line.strip():
                continue
            try:
                yield location, json.loads(line)
            except json.JSONDecodeError as error:
                yield location, ValueError(f"malformed JSON: {error.msg} at column {error.colno}")


def _rows_parquet(path: Path) -> Iterator[tuple[str, object]]:
    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as error:
        raise ArenaImportError([f"{path.name}: not a Parquet file: {error}"]) from error
    missing = [c for c in COLUMNS if c not in parquet.schema_arrow.names]
    if missing:
        raise ArenaImportError([f"{path.name}: missing column(s) {', '.join(missing)}"])
    number = 0
    for batch in parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS):
        for row in batch.to_pylist():
            number += 1
            yield f"{path.name}: record {number}", row


def _check_row(row: object) -> str:
    if not isinstance(row, dict):
        return f"expected a JSON object, got {type(row).__name__}"
    missing = [c for c in COLUMNS if row.get(c) in (None, "")]
    if missing:
        return f"missing {', '.join(missing)}"
    if row["language"] not in LANGUAGES:
        return f"unknown language {row['language']!r}"
    for key in ("prompt", "model", "response", "domain"):
        if row.get(key) is not None and not isinstance(row[key], str):
            return f"{key} must be a string"
    return ""


def arena_import(*, path: Path) -> ArenaImportSummary:
    """Import one JSONL (optionally .gz) or Parquet file of rows (prompt_id, language,
    domain, prompt, model, response). All or nothing: any bad row raises ArenaImportError
    naming every bad line, and nothing is written. Importing the same file twice adds
    nothing; a prompt or response that differs from the stored one is an error."""
    reader = _rows_parquet if path.suffix.lower() == ".parquet" else _rows_jsonl
    errors: list[str] = []
    prompts: dict[str, dict] = {}
    responses: dict[tuple[str, str], tuple[str, str]] = {}
    for location, row in reader(path):
        problem = str(row) if isinstance(row, Exception) else _check_row(row)
        if problem:
            errors.append(f"{location}: {problem}")
            continue
        key = str(row["prompt_id"])
        prompt = {
            "language": row["language"],
            "domain": row.get("domain") or "",
            "text": row["prompt"],
        }
        if prompts.setdefault(key, prompt) != prompt:
            errors.append(f"{location}: prompt {key!r} differs from an earlier line")
        if (key, row["model"]) in responses:
            errors.append(
                f"{location}: a second response of {row['model']!r} to prompt {key!r} "
                f"(first at {responses[key, row['model']][1]})"
            )
            continue
        responses[key, row["model"]] = (row["response"], location)
    if errors:
        raise ArenaImportError(errors)

    summary = ArenaImportSummary()
    with transaction.atomic():
        stored = {p.external_id: p for p in ArenaPrompt.objects.filter(external_id__in=prompts)}
        for key, values in prompts.items():
            existing = stored.get(key)
            if existing is None:
                prompt = ArenaPrompt(external_id=key, **values)
                prompt.full_clean()
                prompt.save()
                stored[key] = prompt
                summary.prompts_created += 1
            elif {f: getattr(existing, f) for f in values} != values:
                errors.append(f"{path.name}: prompt {key!r} differs from the stored one")
        known = {
            (r.prompt.external_id, r.model_name): r.text
            for r in ArenaResponse.objects.filter(prompt__in=stored.values()).select_related(
                "prompt"
            )
        }
        new = []
        for (key, model), (text, location) in responses.items():
            if (key, model) not in known:
                new.append(ArenaResponse(prompt=stored[key], model_name=model, text=text))
            elif known[key, model] == text:
                summary.responses_unchanged += 1
            else:
                errors.append(f"{location}: the response of {model!r} differs from the stored one")
        if errors:
            raise ArenaImportError(errors)
        ArenaResponse.objects.bulk_create(new)
        summary.responses_created = len(new)
    return summary


def arena_generate(
    *,
    endpoint: ModelEndpoint,
    model_name: str,
    prompts: QuerySet[ArenaPrompt],
    max_tokens: int = 1024,
    temperature: float = 0.0,
) -> dict:
    """``model_name``'s responses, through ``endpoint``, to every prompt it has not answered
    yet. A reply that failed for good is counted and left out (the next call asks again);
    a transient failure raises BackendUnavailable after storing what did succeed."""
    missing = list(prompts.exclude(responses__model_name=model_name).order_by("pk"))
    if not missing:
        return {"written": 0, "failed": 0}
    requests = [
        ChatRequest(
            messages=[{"role": "user", "content": p.text}],
            temperature=temperature,
            max_tokens=max_tokens,
        )
        for p in missing
    ]
    results = backend_for(endpoint).chat(requests)
    new = [
        ArenaResponse(prompt=prompt, model_name=model_name, text=result.text.strip())
        for prompt, result in zip(missing, results, strict=True)
        if result.ok and result.text.strip()
    ]
    ArenaResponse.objects.bulk_create(new, ignore_conflicts=True)
    transient = [r for r in results if r.transient]
    if transient:
        raise BackendUnavailable(
            f"{len(transient)} of {len(results)} calls failed: {transient[0].error}"
        )
    return {"written": len(new), "failed": len(missing) - len(new)}


def comparisons_create(
    *, prompts: QuerySet[ArenaPrompt] | None = None, seed: int | None = None
) -> int:
    """A comparison for every pair of responses to the same prompt that has none yet, with
    positions drawn at random (seeded, for a repeatable plan). Returns how many were made."""
    rng = random.Random(seed)
    prompts = ArenaPrompt.objects.all() if prompts is None else prompts
    existing = {
        frozenset(pair)
        for pair in Comparison.objects.filter(prompt__in=prompts).values_list(
            "response_a_id", "response_b_id"
        )
    }
    new = []
    responses = ArenaResponse.objects.filter(prompt__in=prompts).order_by("prompt_id", "pk")
    by_prompt: dict[int, list[ArenaResponse]] = {}
    for response in responses:
        by_prompt.setdefault(response.prompt_id, []).append(response)
    for prompt_id, group in by_prompt.items():
        for first, second in combinations(group, 2):
            if frozenset((first.pk, second.pk)) in existing:
                continue
            if rng.random() < 0.5:
                first, second = second, first
            new.append(Comparison(prompt_id=prompt_id, response_a=first, response_b=second))
    Comparison.objects.bulk_create(new, ignore_conflicts=True)
    return len(new)


def preference_record(
    *,
    comparison: Comparison,
    rater: Rater,
    outcome: str,
    winner: ArenaResponse | None = None,
    shown_first: ArenaResponse | None = None,
    rationale: str = "",
    detail: dict | None = None,
) -> Preference:
    """Create or replace ``rater``'s preference on ``comparison``."""
    preference = Preference.objects.filter(comparison=comparison, rater=rater).first()
    preference = preference or Preference(comparison=comparison, rater=rater)
    preference.outcome = outcome
    preference.winner = winner
    preference.shown_first = shown_first
    preference.rationale = rationale
    preference.detail = detail or {}
    preference.full_clean(validate_unique=False)
    preference.save()
    return preference


# Keys of the comparison page and of an API choice: positions as the rater saw them.
POSITION_CHOICES = {"a": "position a", "b": "position b", "t": "tie", "n": "both bad"}


def preference_from_position(
    *, comparison: Comparison, rater: Rater, choice: str, rationale: str = ""
) -> Preference:
    """Record a human's choice made on the page, where response_a is shown in position A."""
    if choice not in POSITION_CHOICES:
        raise ValidationError({"choice": f"Choose one of {', '.join(POSITION_CHOICES)}."})
    winner = {"a": comparison.response_a, "b": comparison.response_b}.get(choice)
    outcome = {"t": Preference.Outcome.TIE, "n": Preference.Outcome.BOTH_BAD}.get(
        choice, Preference.Outcome.WIN
    )
    return preference_record(
        comparison=comparison,
        rater=rater,
        outcome=outcome,
        winner=winner,
        shown_first=comparison.response_a,
        rationale=rationale,
    )


def arena_judge_comparisons(*, judge: Judge, comparisons: Iterable[Comparison]) -> dict:
    """Ask ``judge`` about every comparison it has no preference on yet (both orders, so a
    position bias becomes a tie) and store its verdicts. Raises BackendUnavailable on a
    transient failure; what was judged before it stays."""
    rater = rater_for_judge(judge=judge)
    comparisons = list(comparisons)
    done = set(
        Preference.objects.filter(rater=rater, comparison__in=comparisons).values_list(
            "comparison_id", flat=True
        )
    )
    written = 0
    for comparison in comparisons:
        if comparison.pk in done:
            continue
        comparison = Comparison.objects.select_related("prompt", "response_a", "response_b").get(
            pk=comparison.pk
        )
        verdict = pairwise_judge(
            judge=judge,
            language=comparison.prompt.language,
            messages=[{"role": "user", "content": comparison.prompt.text}],
            response_a=comparison.response_a.text,
            response_b=comparison.response_b.text,
        )
        winner = {"a": comparison.response_a, "b": comparison.response_b}.get(verdict.winner)
        preference_record(
            comparison=comparison,
            rater=rater,
            outcome=Preference.Outcome.WIN if winner else Preference.Outcome.TIE,
            winner=winner,
            rationale="\n\n".join(reason for reason in verdict.reasons if reason),
            detail={
                "prompt_version": judge.prompt_version,
                # The winner of each order in terms of the responses: "a" is response_a.
                "orders": list(verdict.orders),
                "raw_outputs": list(verdict.raw_outputs),
            },
        )
        written += 1
    return {"written": written, "skipped": len(done)}
