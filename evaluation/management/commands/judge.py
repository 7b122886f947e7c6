"""`manage.py judge`: create judges, start and watch judge runs, list judges.

    manage.py judge create --name gpt-like --endpoint local-vllm --prompt-version v1
    manage.py judge run --judge gpt-like --dimension fluency --dimension toxicity \
        --language hi --status passed [--mode all] [--wait]
    manage.py judge cancel RUN_ID · manage.py judge resume RUN_ID · manage.py judge list
"""

import json
import time

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from evaluation import services
from evaluation.models import Dimension, Judge, JudgeRun
from parakh.transitions import FINISHED, DomainError
from synth.models import ModelEndpoint


class Command(BaseCommand):
    help = "Create LLM judges and run them over samples (see docs/judges.md)."

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="action", required=True)

        create = commands.add_parser("create", help="Create a judge.")
        create.add_argument("--name", required=True)
        create.add_argument("--endpoint", required=True, help="A ModelEndpoint's name.")
        create.add_argument("--prompt-version", required=True)
        create.add_argument(
            "--params", default="{}", help='Sampling parameters as JSON, e.g. {"max_tokens": 256}.'
        )

        run = commands.add_parser("run", help="Start a judge run.")
        run.add_argument("--judge", required=True, help="The judge's name.")
        run.add_argument("--dimension", action="append", required=True, help="Repeatable slug.")
        run.add_argument("--mode", choices=JudgeRun.Mode.values, default=JudgeRun.Mode.SINGLE)
        run.add_argument("--language", action="append", default=[])
        run.add_argument("--task-type", action="append", default=[])
        run.add_argument("--status", action="append", default=[])
        run.add_argument("--batch", type=int)
        run.add_argument("--wait", action="store_true", help="Wait until the run finishes.")
        run.add_argument("--json", action="store_true", help="Print the run as JSON.")

        for name in ("cancel", "resume"):
            action = commands.add_parser(name, help=f"{name.capitalize()} a judge run.")
            action.add_argument("run_id", type=int)

        commands.add_parser("list", help="List judges and their latest run.")

    def handle(self, *args, action: str, **options) -> None:
        try:
            getattr(self, f"_{action}")(**options)
        except (ValidationError, DomainError) as error:
            raise CommandError(str(error)) from error

    def _create(self, *, name, endpoint, prompt_version, params, **_) -> None:
        try:
            endpoint_row = ModelEndpoint.objects.get(name=endpoint)
        except ModelEndpoint.DoesNotExist:
            raise CommandError(f"No model endpoint named {endpoint!r}.") from None
        try:
            sampling = json.loads(params)
        except json.JSONDecodeError as error:
            raise CommandError(f"--params is not JSON: {error}") from error
        judge = services.judge_create(
            name=name, endpoint=endpoint_row, prompt_version=prompt_version, params=sampling
        )
        self.stdout.write(f"Created judge {judge.name} (id {judge.pk}).")

    def _run(self, *, judge, dimension, mode, language, task_type, status, batch, wait, **options):
        try:
            judge_row = Judge.objects.get(name=judge)
        except Judge.DoesNotExist:
            raise CommandError(f"No judge named {judge!r}.") from None
        dimensions = list(Dimension.objects.filter(slug__in=dimension))
        missing = set(dimension) - {d.slug for d in dimensions}
        if missing:
            raise CommandError(f"Unknown dimensions: {', '.join(sorted(missing))}.")
        selection = {"languages": language, "task_types": task_type, "status": status}
        if batch:
            selection["batch"] = batch
        run = services.judge_run_create(
            judge=judge_row, dimensions=dimensions, selection=selection, mode=mode
        )
        run = services.judge_run_start(run=run)
        while wait and run.status not in FINISHED:
            time.sleep(2)
            run.refresh_from_db()
            self.stderr.write(f"run {run.pk}: {run.counts.get('done', 0)}/{run.counts['expected']}")
        run.refresh_from_db()
        self._report(run, as_json=options["json"])

    def _report(self, run: JudgeRun, *, as_json: bool) -> None:
        if as_json:
            payload = {"id": run.pk, "status": run.status, "counts": run.counts, "error": run.error}
            self.stdout.write(json.dumps(payload))
            return
        counts = run.counts
        self.stdout.write(
            f"Run {run.pk} of {run.judge.name}: {run.status}, {counts.get('done', 0)}/"
            f"{counts.get('expected', 0)} judged, {counts.get('failed', 0)} parse failures."
        )

    def _cancel(self, *, run_id, **_) -> None:
        self._report(services.judge_run_cancel(run=self._get_run(run_id)), as_json=False)

    def _resume(self, *, run_id, **_) -> None:
        self._report(services.judge_run_resume(run=self._get_run(run_id)), as_json=False)

    def _get_run(self, run_id: int) -> JudgeRun:
        try:
            return JudgeRun.objects.select_related("judge").get(pk=run_id)
        except JudgeRun.DoesNotExist:
            raise CommandError(f"No judge run {run_id}.") from None

    def _list(self, **_) -> None:
        for judge in Judge.objects.select_related("endpoint"):
            latest = judge.runs.first()
            state = f"latest run {latest.pk}: {latest.status}" if latest else "no runs"
            self.stdout.write(
                f"{judge.name}\t{judge.endpoint.name}\t{judge.prompt_version}\t{state}"
            )
