"""`manage.py import_arena FILE…`: arena prompts and model responses from JSONL or Parquet.

    manage.py import_arena responses.jsonl [more.parquet] [--no-comparisons] [--seed 1]

Rows: prompt_id, language, domain, prompt, model, response. Each file is all or nothing;
importing it again adds nothing. Afterwards every new pair of responses to the same prompt
gets a comparison with random positions (see docs/arena.md).
"""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from evaluation.services.arena import ArenaImportError, arena_import, comparisons_create


class Command(BaseCommand):
    help = "Import arena prompts and model responses (JSONL/Parquet) and make comparisons."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", type=Path)
        parser.add_argument("--no-comparisons", action="store_true")
        parser.add_argument("--seed", type=int, default=None, help="Seed for the positions.")

    def handle(self, *args, files, no_comparisons, seed, **options) -> None:
        for path in files:
            if not path.is_file():
                raise CommandError(f"{path}: no such file")
            try:
                summary = arena_import(path=path)
            except (ArenaImportError, ValidationError) as error:
                raise CommandError(f"{path}: {error}") from error
            self.stdout.write(
                f"{path.name}: {summary.prompts_created} prompts and "
                f"{summary.responses_created} responses added, "
                f"{summary.responses_unchanged} already there."
            )
        if not no_comparisons:
            self.stdout.write(f"{comparisons_create(seed=seed)} comparisons made.")
