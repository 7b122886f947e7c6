"""Generation jobs: create, start (fan out chunks on the gpu queue), process a chunk, cancel,
resume, and the counters on the job row.

Every call has a deterministic key (job, source, task type, language, phase, variant). A
chunk looks up what is already stored under its keys before it asks the model anything, so
a retried or redelivered chunk creates no duplicate and repeats no finished call. The job's
counters are recounted from the rows (samples and failed calls), never incremented, so a
chunk that runs twice cannot count twice either.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import Count, Max

from parakh.transitions import RunStatus, run_transition

from .. import generation as gen
from ..backends import BackendUnavailable, ChatRequest, backend_for
from ..models import GenerationCall, GenerationJob, ModelEndpoint, Sample, Source
from .samples import sample_build, sample_create, sample_queue_filter, samples_create_bulk
from .sources import content_hash

MAX_ERROR_CHARS = 2_000


def generation_job_transition(*, job: GenerationJob, to: str, error: str = "") -> GenerationJob:
    """Guarded status change; illegal moves raise parakh.transitions.InvalidTransition."""
    return run_transition(job, to=to, error=error)


def generation_job_create(
    *,
    task_type: str,
    languages: list[str],
    endpoint: ModelEndpoint,
    template_version: str = "",
    params: dict | None = None,
    created_by=None,
) -> GenerationJob:
    """A pending job; the template version defaults to the newest file for the task type."""
    version = template_version or gen.latest_template_version(task_type)
    # Refuses a version with no file now rather than in every chunk later.
    gen.load_template(task_type, version)
    job = GenerationJob(
        task_type=task_type,
        languages=list(languages),
        endpoint=endpoint,
        template_version=version,
        params=dict(params or {}),
        created_by=created_by,
    )
    job.full_clean()
    job.save()
    return job


def _source_ids(job: GenerationJob, params: dict, max_pk: int | None) -> list[int]:
    """The job's sources in a stable order; ``max_pk`` freezes the set for a resume."""
    query = Source.objects.filter(kind=gen.source_kind(job.task_type))
    if params.get("subset"):
        query = query.filter(subset=params["subset"])
    if max_pk is not None:
        query = query.filter(pk__lte=max_pk)
    limit = params.get("source_limit")
    ids: list[int] = []
    for language in gen.source_language_filter(job.task_type, job.languages):
        per_language = query.filter(language=language).order_by("pk").values_list("pk", flat=True)
        ids.extend(per_language[: int(limit)] if limit else per_language)
    return sorted(ids)


def generation_job_start(*, job: GenerationJob) -> GenerationJob:
    """Move a pending job to running and queue one generate_chunk per slice of its sources.

    The chunks are queued once the transaction commits, so a worker never sees a job that
    is not running yet. A resumed job queues every chunk again: chunks skip what is stored.
    """
    from ..tasks import generate_chunk

    with transaction.atomic():
        job = GenerationJob.objects.select_for_update().select_related("endpoint").get(pk=job.pk)
        template = gen.load_template(job.task_type, job.template_version)
        params = gen.effective_params(template, job.params)
        frozen = job.counts.get("source_max_pk")
        ids = _source_ids(job, params, frozen)
        variants = int(params["samples_per_source"])
        by_language: dict[str, dict[str, int]] = {}
        languages = dict(Source.objects.filter(pk__in=ids).values_list("pk", "language").order_by())
        for source_id in ids:
            for language in gen.unit_languages(job.task_type, job.languages, languages[source_id]):
                entry = by_language.setdefault(language, {"total": 0, "samples": 0, "failed": 0})
                entry["total"] += variants
        size = max(1, int(params["chunk_size"]))
        chunks = [ids[start : start + size] for start in range(0, len(ids), size)]
        if frozen is None:
            frozen = Source.objects.aggregate(top=Max("pk"))["top"] or 0
        job.counts = {
            **job.counts,
            "source_max_pk": frozen,
            "total": sum(entry["total"] for entry in by_language.values()),
            "chunks": len(chunks),
            "by_language": by_language,
        }
        job.save(update_fields=["counts", "updated_at"])
        generation_job_transition(job=job, to=RunStatus.RUNNING)
        job_id = job.pk
        for chunk in chunks:
            transaction.on_commit(lambda chunk=chunk: generate_chunk.delay(job_id, chunk))
    return generation_job_counts_refresh(job_id=job_id) or job


def generation_job_cancel(*, job: GenerationJob) -> GenerationJob:
    """Stop a job: running chunks end after their current batch; what is stored stays."""
    with transaction.atomic():
        job = GenerationJob.objects.select_for_update().get(pk=job.pk)
        return generation_job_transition(job=job, to=RunStatus.CANCELLED)


def generation_job_resume(*, job: GenerationJob) -> GenerationJob:
    """Start a cancelled or failed job again; finished calls are not repeated."""
    with transaction.atomic():
        job = GenerationJob.objects.select_for_update().get(pk=job.pk)
        generation_job_transition(job=job, to=RunStatus.PENDING, error="")
        job.error = ""
        job.save(update_fields=["error"])
        return generation_job_start(job=job)


def generation_job_fail(*, job_id: int, error: str) -> GenerationJob | None:
    """Mark a running job failed (a chunk gave up); a no-op for a job that already ended."""
    with transaction.atomic():
        job = GenerationJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status != RunStatus.RUNNING:
            return job
        return generation_job_transition(
            job=job, to=RunStatus.FAILED, error=error[:MAX_ERROR_CHARS]
        )


def generation_job_counts_refresh(*, job_id: int) -> GenerationJob | None:
    """Recount samples and failed calls per language; complete the job once all are in."""
    with transaction.atomic():
        job = GenerationJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None:
            return None
        by_language = {
            language: {**entry, "samples": 0, "failed": 0}
            for language, entry in job.counts.get("by_language", {}).items()
        }
        samples = Sample.objects.filter(job_id=job_id).values("language").annotate(n=Count("pk"))
        failed = (
            GenerationCall.objects.filter(job_id=job_id)
            .exclude(error="")
            .values("language")
            .annotate(n=Count("pk"))
        )
        for rows, name in ((samples, "samples"), (failed, "failed")):
            for row in rows.order_by():
                entry = by_language.setdefault(
                    row["language"], {"total": 0, "samples": 0, "failed": 0}
                )
                entry[name] = row["n"]
        job.counts = {
            **job.counts,
            "by_language": by_language,
            "samples": sum(entry["samples"] for entry in by_language.values()),
            "failed": sum(entry["failed"] for entry in by_language.values()),
        }
        job.save(update_fields=["counts", "updated_at"])
        finished = job.counts["samples"] + job.counts["failed"] >= job.counts.get("total", 0)
        if job.status == RunStatus.RUNNING and finished:
            generation_job_transition(job=job, to=RunStatus.COMPLETED)
            _queue_near_duplicate_pass(languages=list(job.languages))
    return job


def _queue_near_duplicate_pass(*, languages: list[str]) -> None:
    # Queued after the job's per-sample filter tasks, on the same cpu queue.
    from ..tasks import filter_near_duplicates

    def queue() -> None:
        for language in languages:
            filter_near_duplicates.delay(language)

    transaction.on_commit(queue)


# --- one chunk ---------------------------------------------------------------------------------


@dataclass
class _Unit:
    """One sample to be: a source, the sample's language and the variant number."""

    source: Source
    language: str
    variant: int
    variables: dict = field(default_factory=dict)
    calls: dict = field(default_factory=dict)

    def key(self, job: GenerationJob, phase: str) -> tuple:
        return gen.unit_key(
            job_id=job.pk,
            source_id=self.source.pk,
            task_type=job.task_type,
            language=self.language,
            phase=phase,
            variant=self.variant,
        )


def _call_hash(key: tuple) -> str:
    return content_hash("call", key)


def _sample_hash(key: tuple) -> str:
    # The digest sample_create(key=...) stores: lets a chunk see which samples exist.
    return content_hash("sample", key)


def generation_chunk_process(*, job_id: int, source_ids: list[int]) -> int:
    """Generate every sample of the job's chunk that is not stored yet; return how many.

    Idempotent: keys already holding a sample or a failed call are skipped, and a stored
    intermediate phase is reused instead of asked again. Stops between batches when the job
    is no longer running (cancelled). Raises BackendUnavailable after storing what succeeded
    when some calls failed transiently, so that the task retries only those.
    """
    job = GenerationJob.objects.select_related("endpoint").filter(pk=job_id).first()
    if job is None or job.status != RunStatus.RUNNING:
        return 0
    template = gen.load_template(job.task_type, job.template_version)
    params = gen.effective_params(template, job.params)
    variants = int(params["samples_per_source"])
    units = [
        _Unit(source=source, language=language, variant=variant)
        for source in Source.objects.filter(pk__in=source_ids).order_by("pk")
        for language in gen.unit_languages(job.task_type, job.languages, source.language)
        for variant in range(variants)
    ]
    final = template.final_phase
    stored_samples = set(
        Sample.objects.filter(
            content_hash__in=[_sample_hash(unit.key(job, final)) for unit in units]
        ).values_list("content_hash", flat=True)
    )
    call_hashes = [_call_hash(unit.key(job, p.name)) for unit in units for p in template.phases]
    calls = {call.key: call for call in GenerationCall.objects.filter(key__in=call_hashes)}
    failed = {digest for digest, call in calls.items() if call.error}
    pending = [
        unit
        for unit in units
        if _sample_hash(unit.key(job, final)) not in stored_samples
        and not any(_call_hash(unit.key(job, p.name)) in failed for p in template.phases)
    ]
    backend = backend_for(job.endpoint)
    batch_size = max(1, int(params.get("batch_size") or max(job.endpoint.max_concurrency, 8)))
    created = 0
    transient: list[str] = []
    for start in range(0, len(pending), batch_size):
        status = GenerationJob.objects.filter(pk=job_id).values_list("status", flat=True).first()
        if status != RunStatus.RUNNING:
            break
        batch = pending[start : start + batch_size]
        created += _process_batch(job, template, params, backend, batch, calls, transient)
    generation_job_counts_refresh(job_id=job_id)
    if transient:
        raise BackendUnavailable(
            f"{len(transient)} call(s) failed transiently; first: {transient[0][:500]}"
        )
    return created


def _process_batch(job, template, params, backend, batch, calls, transient) -> int:
    for unit in batch:
        unit.variables = gen.source_variables(source=unit.source, language=unit.language)
    alive = list(batch)
    finished: list[tuple[_Unit, list[dict]]] = []
    failures: list[GenerationCall] = []
    for phase in template.phases:
        is_final = phase.name == template.final_phase
        asking: list[tuple[_Unit, ChatRequest]] = []
        for unit in alive:
            stored = calls.get(_call_hash(unit.key(job, phase.name)))
            if stored is not None and not stored.error:
                unit.variables.update(gen.phase_outputs(phase, stored.output, unit.variables))
                unit.calls[phase.name] = _call_summary(stored)
                continue
            key = unit.key(job, phase.name)
            request = ChatRequest(
                messages=gen.phase_messages(phase, unit.variables),
                temperature=float(params["temperature"]),
                top_p=float(params["top_p"]),
                max_tokens=int(params["max_tokens"]),
                seed=gen.unit_seed(key),
            )
            asking.append((unit, request))
        results = backend.chat([request for _, request in asking]) if asking else []
        survivors = {id(unit) for unit in alive}
        outputs: list[GenerationCall] = []
        for (unit, _), result in zip(asking, results, strict=True):
            key = unit.key(job, phase.name)
            row = GenerationCall(
                job=job,
                source=unit.source,
                key=_call_hash(key),
                language=unit.language,
                phase=phase.name,
                variant=unit.variant,
                output=result.text,
                prompt_tokens=result.prompt_tokens,
                completion_tokens=result.completion_tokens,
                finish_reason=result.finish_reason[:20],
                latency_ms=result.latency_ms,
            )
            if not result.ok:
                survivors.discard(id(unit))
                if result.transient:
                    transient.append(result.error)
                else:
                    row.error = result.error[:MAX_ERROR_CHARS]
                    failures.append(row)
                continue
            try:
                unit.variables.update(gen.phase_outputs(phase, result.text, unit.variables))
            except gen.OutputError as error:
                survivors.discard(id(unit))
                row.error = str(error)[:MAX_ERROR_CHARS]
                failures.append(row)
                continue
            unit.calls[phase.name] = _call_summary(row)
            if not is_final:
                outputs.append(row)
        # Stored before the next phase asks anything: a kill now loses no finished call.
        GenerationCall.objects.bulk_create(outputs, ignore_conflicts=True)
        alive = [unit for unit in alive if id(unit) in survivors]
    for unit in alive:
        try:
            finished.append((unit, gen.sample_messages(template, unit.variables)))
        except gen.OutputError as error:
            failures.append(
                GenerationCall(
                    job=job,
                    source=unit.source,
                    key=_call_hash(unit.key(job, template.final_phase)),
                    language=unit.language,
                    phase=template.final_phase,
                    variant=unit.variant,
                    output=unit.variables.get(template.phases[-1].output, ""),
                    error=str(error),
                )
            )
    try:
        with transaction.atomic():
            GenerationCall.objects.bulk_create(failures, ignore_conflicts=True)
            built = [_build_sample(job, template, params, u, m) for u, m in finished]
            return len(samples_create_bulk(samples=built))
    except IntegrityError:
        # Another worker stored some of these keys meanwhile (a redelivery while the first
        # delivery still ran): store one by one, where sample_create finds the existing rows.
        GenerationCall.objects.bulk_create(failures, ignore_conflicts=True)
        created = 0
        for unit, messages in finished:
            try:
                with transaction.atomic():
                    created += _store_sample(job, template, params, unit, messages)
            except IntegrityError:
                continue
        return created


def _call_summary(call: GenerationCall) -> dict:
    return {
        "prompt_tokens": call.prompt_tokens,
        "completion_tokens": call.completion_tokens,
        "finish_reason": call.finish_reason,
        "latency_ms": call.latency_ms,
    }


def _sample_fields(job, template, params, unit: _Unit, messages: list[dict]) -> dict:
    key = unit.key(job, template.final_phase)
    return {
        "language": unit.language,
        "task_type": job.task_type,
        "messages": messages,
        "generator": job.endpoint.model,
        "source": unit.source,
        "job": job,
        "template_version": template.version,
        "params": {
            "temperature": float(params["temperature"]),
            "top_p": float(params["top_p"]),
            "max_tokens": int(params["max_tokens"]),
            "seed": gen.unit_seed(key),
            "variant": unit.variant,
            "endpoint": job.endpoint.name,
            "calls": unit.calls,
        },
        "key": key,
    }


def _build_sample(job, template, params, unit: _Unit, messages: list[dict]):
    return sample_build(**_sample_fields(job, template, params, unit, messages))


def _store_sample(job, template, params, unit: _Unit, messages: list[dict]) -> int:
    sample, created = sample_create(**_sample_fields(job, template, params, unit, messages))
    if created:
        sample_queue_filter(sample=sample)
    return int(created)
