from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from synth.importers import (
    DEFAULT_PASSAGE_CHARS,
    ImportSummary,
    SourceFileError,
    detect_format,
)
from synth.importers.mediawiki import read_mediawiki
from synth.importers.tabular import read_jsonl, read_parquet
from synth.languages import LANGUAGES, get_language
from synth.services import sources_import


class Command(BaseCommand):
    help = (
        "Import grounding sources: MediaWiki XML dumps (.xml, .xml.bz2) and Parquet/JSONL in "
        "the wikimedia/wikipedia shape (id, url, title, text), or English reasoning sets in "
        "chat format (messages). Each file is one transaction; importing twice adds nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", type=Path)
        parser.add_argument("--kind", choices=["wikipedia", "reasoning"], default="wikipedia")
        parser.add_argument(
            "--language",
            help="Language code of the pages (hi, ta, …); reasoning sets default to en.",
        )
        parser.add_argument("--subset", default="", help="Reasoning set subset name.")
        parser.add_argument("--license", default="", help="License of the records.")
        parser.add_argument("--passage-chars", type=int, default=DEFAULT_PASSAGE_CHARS)
        parser.add_argument(
            "--skip-invalid",
            action="store_true",
            help="Import the valid records and report every skipped one instead of stopping.",
        )

    def handle(
        self, *args, files, kind, language, subset, license, passage_chars, skip_invalid, **options
    ) -> None:
        language = language or ("en" if kind == "reasoning" else None)
        if language is None:
            raise CommandError("--language is required for Wikipedia sources (e.g. --language hi).")
        try:
            get_language(language)
        except KeyError as error:
            raise CommandError(f"--language {language!r}: {error.args[0]}") from error
        if passage_chars < 100:
            raise CommandError("--passage-chars must be at least 100.")

        total = ImportSummary()
        for path in files:
            if not path.is_file():
                raise CommandError(f"{path}: no such file")
            summary = self._import_file(
                path,
                kind=kind,
                language=language,
                subset=subset,
                license=license,
                passage_chars=passage_chars,
                skip_invalid=skip_invalid,
            )
            for code, counts in summary.per_language.items():
                total.count(code).added += counts.added
                total.count(code).existing += counts.existing
            total.skipped.extend(summary.skipped)
        self._report(total)

    def _import_file(
        self, path: Path, *, kind, language, subset, license, passage_chars, skip_invalid
    ) -> ImportSummary:
        try:
            file_format = detect_format(path)
            if file_format == "mediawiki":
                if kind != "wikipedia":
                    raise SourceFileError(str(path), "a MediaWiki dump holds Wikipedia pages")
                records = read_mediawiki(path, language=language, max_chars=passage_chars)
            else:
                reader = read_jsonl if file_format == "jsonl" else read_parquet
                records = reader(
                    path,
                    kind=kind,
                    language=language,
                    subset=subset,
                    license=license,
                    max_chars=passage_chars,
                )
            with tqdm(desc=path.name, unit=" records", disable=None, file=self.stderr) as bar:
                return sources_import(
                    records=records, skip_invalid=skip_invalid, on_record=bar.update
                )
        except SourceFileError as error:
            raise CommandError(f"{error}. Nothing from {path.name} was imported.") from error

    def _report(self, summary: ImportSummary) -> None:
        self.stdout.write(f"{'language':<12}{'added':>10}{'already there':>16}")
        for code, counts in sorted(summary.per_language.items()):
            name = LANGUAGES[code].name if code in LANGUAGES else code
            self.stdout.write(f"{name:<12}{counts.added:>10}{counts.existing:>16}")
        self.stdout.write(
            self.style.SUCCESS(
                f"{summary.added} sources added, {summary.existing} already there, "
                f"{len(summary.skipped)} records skipped."
            )
        )
        for skipped in summary.skipped:
            self.stdout.write(self.style.WARNING(f"  skipped {skipped.location}: {skipped.reason}"))
