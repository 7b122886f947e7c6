from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotate.models import Batch, Proficiency
from annotate.services import batch_build, batch_build_pairwise
from evaluation.models import Dimension
from parakh.transitions import DomainError


class Command(BaseCommand):
    help = (
        "Build an annotation batch from a sample filter, e.g. "
        "create_batch --name 'Hindi 1' --language hi --size 20 --overlap 2 "
        "--annotators asha,zoya --open; --kind pairwise takes the language's arena "
        "comparisons instead of samples."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True)
        parser.add_argument("--kind", choices=Batch.Kind.values, default=Batch.Kind.RATINGS)
        parser.add_argument("--language", required=True)
        parser.add_argument("--annotators", required=True, help="Comma-separated usernames.")
        parser.add_argument("--size", type=int, default=20)
        parser.add_argument("--overlap", type=int, default=2)
        parser.add_argument(
            "--distribution", choices=Batch.Distribution.values, default=Batch.Distribution.PUSH
        )
        parser.add_argument(
            "--dimensions",
            default="",
            help="Comma-separated slugs; default: every active dimension for all task types.",
        )
        parser.add_argument("--task-types", default="", help="Comma-separated task types.")
        parser.add_argument("--status", default="passed", help="Comma-separated sample statuses.")
        parser.add_argument("--judge-min", type=float, default=None)
        parser.add_argument("--judge-max", type=float, default=None)
        parser.add_argument("--source-kind", default="", help="wikipedia, reasoning or none.")
        parser.add_argument("--gold-share", type=float, default=0.0)
        parser.add_argument(
            "--min-proficiency", type=int, choices=Proficiency.values, default=Proficiency.FLUENT
        )
        parser.add_argument("--instructions", default="")
        parser.add_argument("--open", action="store_true", help="Open the batch at once.")

    def handle(self, *args, **options) -> None:
        def split(value: str) -> list[str]:
            return [part.strip() for part in value.split(",") if part.strip()]

        usernames = split(options["annotators"])
        users = list(get_user_model().objects.filter(username__in=usernames))
        missing = sorted(set(usernames) - {user.username for user in users})
        if missing:
            raise CommandError(f"Unknown users: {', '.join(missing)}")
        slugs = split(options["dimensions"])
        dimensions = Dimension.objects.filter(is_active=True)
        dimensions = (
            list(dimensions.filter(slug__in=slugs))
            if slugs
            else list(dimensions.filter(task_types=["*"]))
        )
        try:
            if options["kind"] == Batch.Kind.PAIRWISE:
                batch = batch_build_pairwise(
                    name=options["name"],
                    language=options["language"],
                    annotators=users,
                    size=options["size"],
                    overlap=options["overlap"],
                    distribution=options["distribution"],
                    gold_share=options["gold_share"],
                    min_proficiency=options["min_proficiency"],
                    instructions=options["instructions"],
                    open_now=options["open"],
                )
            else:
                batch = batch_build(
                    name=options["name"],
                    language=options["language"],
                    dimensions=dimensions,
                    annotators=users,
                    size=options["size"],
                    overlap=options["overlap"],
                    distribution=options["distribution"],
                    task_types=split(options["task_types"]),
                    statuses=split(options["status"]),
                    judge_min=options["judge_min"],
                    judge_max=options["judge_max"],
                    source_kind=options["source_kind"],
                    gold_share=options["gold_share"],
                    min_proficiency=options["min_proficiency"],
                    instructions=options["instructions"],
                    open_now=options["open"],
                )
        except DomainError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"Batch {batch.pk} “{batch.name}”: {batch.items.count()} items, "
            f"{batch.assignments.count()} assignments, {batch.get_status_display().lower()}."
        )
