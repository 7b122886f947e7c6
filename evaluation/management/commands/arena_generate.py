"""`manage.py arena_generate --endpoint NAME --model-name NAME [--language hi]`: a model's
responses to the arena prompts it has not answered yet, then comparisons for the new pairs."""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from evaluation.models import ArenaPrompt
from evaluation.services.arena import arena_generate, comparisons_create
from synth.backends import BackendUnavailable
from synth.models import ModelEndpoint


class Command(BaseCommand):
    help = "Generate arena responses through a model endpoint (see docs/arena.md)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--endpoint", required=True, help="A ModelEndpoint's name.")
        parser.add_argument("--model-name", required=True, help="The name ranked on the board.")
        parser.add_argument("--language", action="append", default=[])
        parser.add_argument("--max-tokens", type=int, default=1024)
        parser.add_argument("--seed", type=int, default=None, help="Seed for the positions.")

    def handle(self, *args, endpoint, model_name, language, max_tokens, seed, **options) -> None:
        try:
            endpoint_row = ModelEndpoint.objects.get(name=endpoint)
        except ModelEndpoint.DoesNotExist:
            raise CommandError(f"No model endpoint named {endpoint!r}.") from None
        prompts = ArenaPrompt.objects.all()
        if language:
            prompts = prompts.filter(language__in=language)
        try:
            result = arena_generate(
                endpoint=endpoint_row, model_name=model_name, prompts=prompts, max_tokens=max_tokens
            )
        except BackendUnavailable as error:
            raise CommandError(f"The endpoint failed: {error}") from error
        made = comparisons_create(prompts=prompts, seed=seed)
        self.stdout.write(
            f"{result['written']} responses written, {result['failed']} failed; "
            f"{made} comparisons made."
        )
