"""python manage.py export: write the agreed subset to a folder, synchronously."""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from evaluation.export import EXPORT_FORMATS, MANIFEST_NAME, ExportCriteria, export_write


def _list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def _min_scores(values: list[str]) -> dict[str, int]:
    scores: dict[str, int] = {}
    bad = []
    for item in (item for value in values for item in _list(value)):
        slug, equals, number = item.partition("=")
        try:
            if not equals or not slug.strip():
                raise ValueError
            scores[slug.strip()] = int(number)
        except ValueError:
            bad.append(item)
    if bad:
        raise CommandError(
            f"--min-score takes DIMENSION=INTEGER (e.g. fluency=2); got {', '.join(bad)}."
        )
    return scores


class Command(BaseCommand):
    help = (
        "Export the agreed subset (JSONL, Parquet and/or the Updesh_beta layout, with "
        "manifest.json) into --out. Runs here and now, not on a worker. See docs/export.md."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dimensions", required=True, help="fluency,cultural_fidelity")
        parser.add_argument("--languages", default="", help="hi,ta (default: all)")
        parser.add_argument("--task-types", default="", help="creative_writing,… (default: all)")
        parser.add_argument(
            "--min-score",
            action="append",
            default=[],
            help="DIMENSION=VALUE, the lowest consensus kept; repeat or separate by commas.",
        )
        parser.add_argument("--min-ratings", type=int, default=2, help="Human ratings per item.")
        parser.add_argument("--max-spread", type=int, default=1, help="max − min of humans.")
        parser.add_argument("--judge", default="", help="Also require this judge to agree.")
        parser.add_argument("--judge-tolerance", type=int, default=1)
        parser.add_argument("--include-flagged", action="store_true")
        parser.add_argument("--include-rejected", action="store_true")
        parser.add_argument(
            "--format", default="jsonl", help=f"Some of {','.join(EXPORT_FORMATS)}."
        )
        parser.add_argument("--out", required=True, type=Path, help="Folder to write into.")

    def handle(self, *args, **options) -> None:
        formats = _list(options["format"])
        unknown = [name for name in formats if name not in EXPORT_FORMATS]
        if unknown or not formats:
            raise CommandError(
                f"--format: unknown {', '.join(unknown) or '(none given)'}; "
                f"choose from {', '.join(EXPORT_FORMATS)}."
            )
        criteria = ExportCriteria(
            dimensions=tuple(_list(options["dimensions"])),
            languages=tuple(_list(options["languages"])),
            task_types=tuple(_list(options["task_types"])),
            min_human_ratings=options["min_ratings"],
            max_spread=options["max_spread"],
            min_scores=_min_scores(options["min_score"]),
            judge=options["judge"],
            judge_tolerance=options["judge_tolerance"],
            exclude_flagged=not options["include_flagged"],
            include_rejected=options["include_rejected"],
        )
        out: Path = options["out"]
        if out.exists() and not out.is_dir():
            raise CommandError(f"--out {out} exists and is not a folder.")
        try:
            manifest = export_write(criteria=criteria, formats=formats, directory=out)
        except ValidationError as error:
            problems = "; ".join(
                f"{name}: {' '.join(messages)}" for name, messages in error.message_dict.items()
            )
            raise CommandError(problems) from error
        self._summary(manifest, out)

    def _summary(self, manifest: dict, out: Path) -> None:
        counts = manifest["counts"]
        self.stdout.write(
            f"Exported {counts['samples']} of {counts['scanned']} candidate samples "
            f"(parakh {manifest['app_version']})."
        )
        for label, key in (("Languages", "languages"), ("Task types", "task_types")):
            parts = ", ".join(f"{name} {n}" for name, n in counts[key].items()) or "none"
            self.stdout.write(f"{label}: {parts}")
        for slug, result in manifest["alpha"].items():
            if result["value"] is None:
                figure = f"not computable ({result['reason']})"
            else:
                figure = f"{result['value']:.3f}"
            self.stdout.write(
                f"Alpha {slug} ({result['level']}): {figure} over {result['units']} items"
            )
        for entry in manifest["files"]:
            size, digest = entry["bytes"], entry["sha256"]
            self.stdout.write(f"  {entry['name']}  {size} bytes  sha256 {digest}")
        self.stdout.write(self.style.SUCCESS(f"Manifest: {out / MANIFEST_NAME}"))
