from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from annotate.demo import ADMIN, ANNOTATORS, DemoDataError, demo_load


class Command(BaseCommand):
    help = (
        "Migrate, load the bundled demo data (all 14 languages), create an admin, three "
        "annotators and an overlap-2 batch, then serve on http://127.0.0.1:8000. "
        "Safe to run again: nothing is created twice."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--no-serve", action="store_true", help="Load the demo and exit without serving."
        )
        parser.add_argument("--addrport", default="127.0.0.1:8000", help="Where to serve.")

    def handle(self, *args, no_serve: bool, addrport: str, **options) -> None:
        database = settings.DATABASES["default"]
        self.stdout.write(f"Database: {database['ENGINE'].rsplit('.', 1)[-1]} {database['NAME']}")
        call_command("migrate", interactive=False, verbosity=0)
        try:
            summary = demo_load()
        except DemoDataError as error:
            self.stderr.write(self.style.ERROR(f"Demo data is broken: {error}"))
            raise SystemExit(1) from error

        languages = ", ".join(f"{code} {n}" for code, n in sorted(summary.per_language.items()))
        self.stdout.write(
            f"Demo samples: {summary.samples_total} in {len(summary.per_language)} languages "
            f"({summary.samples_created} new) — {languages}"
        )
        batch = summary.batch
        self.stdout.write(
            f"Batch: {batch.name!r} ({batch.items.count()} items, overlap {batch.overlap}, "
            f"{'created' if summary.batch_created else 'already there'})"
        )
        self.stdout.write(self.style.SUCCESS("Logins (demo only — change them anywhere real):"))
        self.stdout.write(f"  {ADMIN.username:<8} {ADMIN.password:<14} staff: /admin/, /api/docs/")
        for account in ANNOTATORS:
            languages = ", ".join(account.languages)
            self.stdout.write(
                f"  {account.username:<8} {account.password:<14} annotator ({languages})"
            )

        if no_serve:
            return
        if not settings.DEBUG:
            self.stderr.write(
                self.style.WARNING("DEBUG is off: runserver will not serve static files.")
            )
        self.stdout.write(self.style.SUCCESS(f"Serving on http://{addrport}/ (Ctrl-C to stop)"))
        call_command("runserver", addrport, use_reloader=False)
