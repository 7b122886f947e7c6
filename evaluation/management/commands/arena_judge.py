"""`manage.py arena_judge --judge NAME [--language hi]`: an LLM judge's preferences on arena
comparisons, each asked in both orders; comparisons it already judged are skipped."""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from evaluation.models import Comparison, Judge
from evaluation.services.arena import arena_judge_comparisons
from synth.backends import BackendUnavailable


class Command(BaseCommand):
    help = "Let an LLM judge compare arena responses (see docs/arena.md)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--judge", required=True, help="The judge's name.")
        parser.add_argument("--language", action="append", default=[])
        parser.add_argument("--limit", type=int, default=None)

    def handle(self, *args, judge, language, limit, **options) -> None:
        try:
            judge_row = Judge.objects.select_related("endpoint").get(name=judge)
        except Judge.DoesNotExist:
            raise CommandError(f"No judge named {judge!r}.") from None
        comparisons = Comparison.objects.order_by("pk")
        if language:
            comparisons = comparisons.filter(prompt__language__in=language)
        if limit:
            comparisons = comparisons[:limit]
        try:
            result = arena_judge_comparisons(judge=judge_row, comparisons=comparisons)
        except BackendUnavailable as error:
            raise CommandError(f"The judge's endpoint failed: {error}") from error
        self.stdout.write(
            f"{result['written']} comparisons judged, {result['skipped']} judged before."
        )
