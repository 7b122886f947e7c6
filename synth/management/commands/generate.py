import json
import time

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from parakh.transitions import FINISHED, DomainError
from synth.generation import TemplateError
from synth.models import GenerationJob, ModelEndpoint
from synth.services.generation import (
    generation_job_cancel,
    generation_job_create,
    generation_job_resume,
    generation_job_start,
)
from synth.task_types import TaskType


def _param(text: str) -> tuple[str, object]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise CommandError(f"--param {text!r}: expected NAME=VALUE (e.g. temperature=0.7).")
    try:
        return name, json.loads(value)
    except json.JSONDecodeError:
        return name, value  # a bare string such as subset=orca_math


class Command(BaseCommand):
    help = (
        "Start a generation job (task type × languages on a model endpoint), or cancel or "
        "resume one. Sampling defaults are the paper's (temperature 1.0, top_p 0.95); "
        "--param overrides any of them for this job."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--task-type", choices=TaskType.values)
        parser.add_argument("--languages", help="Comma-separated codes, e.g. hi,ta,ur.")
        parser.add_argument("--endpoint", help="Name of a ModelEndpoint (see the admin).")
        parser.add_argument("--template-version", default="", help="Default: the newest.")
        parser.add_argument(
            "--param",
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help="temperature, top_p, max_tokens, samples_per_source, source_limit, subset, "
            "chunk_size, batch_size; repeatable.",
        )
        parser.add_argument("--cancel", type=int, metavar="JOB_ID")
        parser.add_argument("--resume", type=int, metavar="JOB_ID")
        parser.add_argument(
            "--wait", action="store_true", help="Print progress until the job ends."
        )

    def handle(self, *args, **options) -> None:
        try:
            job = self._job(options)
        except (DomainError, TemplateError) as error:
            raise CommandError(str(error)) from error
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from error
        self._report(job)
        while options["wait"] and job.status not in FINISHED:
            time.sleep(2)
            job.refresh_from_db()
            self._report(job)
        if job.status == GenerationJob.Status.FAILED:
            raise CommandError(f"Job {job.pk} failed: {job.error}")

    def _job(self, options) -> GenerationJob:
        actions = (("cancel", generation_job_cancel), ("resume", generation_job_resume))
        for action, service in actions:
            if options[action] is not None:
                job = GenerationJob.objects.filter(pk=options[action]).first()
                if job is None:
                    raise CommandError(f"No generation job {options[action]}.")
                service(job=job)
                job.refresh_from_db()
                return job
        missing = [name for name in ("task_type", "languages", "endpoint") if not options[name]]
        if missing:
            raise CommandError(
                "Give " + ", ".join(f"--{name.replace('_', '-')}" for name in missing) + "."
            )
        endpoint = ModelEndpoint.objects.filter(name=options["endpoint"]).first()
        if endpoint is None:
            names = ", ".join(ModelEndpoint.objects.values_list("name", flat=True)) or "none"
            raise CommandError(f"No endpoint {options['endpoint']!r} (there are: {names}).")
        job = generation_job_create(
            task_type=options["task_type"],
            languages=[code.strip() for code in options["languages"].split(",") if code.strip()],
            endpoint=endpoint,
            template_version=options["template_version"],
            params=dict(_param(text) for text in options["param"]),
        )
        generation_job_start(job=job)
        job.refresh_from_db()
        return job

    def _report(self, job: GenerationJob) -> None:
        counts = job.counts
        per_language = ", ".join(
            f"{code} {entry['samples']}/{entry['total']}"
            + (f" ({entry['failed']} failed)" if entry["failed"] else "")
            for code, entry in sorted(counts.get("by_language", {}).items())
        )
        self.stdout.write(
            f"Job {job.pk} {job.task_type} [{job.template_version}] {job.status}: "
            f"{counts.get('samples', 0)} samples, {counts.get('failed', 0)} failed "
            f"of {counts.get('total', 0)}" + (f" — {per_language}" if per_language else "")
        )
