"""Exports of the agreed subset: create the row, queue it, run it once."""

import logging
import shutil
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from parakh.transitions import RunStatus, run_transition

from ..export import EXPORT_FORMATS, MANIFEST_NAME, ExportCriteria, criteria_resolve, export_write
from ..export import candidate_queryset as export_candidates
from ..models import Export

logger = logging.getLogger(__name__)


def export_directory(*, export: Export) -> Path:
    """Where an export's files live on disk (MEDIA_ROOT/exports/<id>/)."""
    return Path(settings.MEDIA_ROOT) / export.directory


def export_create(*, criteria: ExportCriteria, formats: list[str], created_by=None) -> Export:
    """Check the criteria, store the export and queue it on the cpu queue once committed.

    ValidationError names the bad criteria or formats.
    """
    criteria_resolve(criteria)
    export = Export(
        criteria=criteria.to_dict(),
        # Canonical order, duplicates dropped: ["parquet", "jsonl", "jsonl"] is one export.
        formats=[name for name in EXPORT_FORMATS if name in formats]
        + [name for name in dict.fromkeys(formats) if name not in EXPORT_FORMATS],
        created_by=created_by,
    )
    export.full_clean()
    export.save()
    export_queue(export=export)
    return export


def export_queue(*, export: Export) -> None:
    from ..tasks.exports import run_export

    export_id = export.pk
    transaction.on_commit(lambda: run_export.delay(export_id))


def export_transition(*, export: Export, to: str, error: str = "") -> Export:
    """Guarded status change; illegal moves raise parakh.transitions.InvalidTransition."""
    return run_transition(export, to=to, error=error)


def export_run(*, export_id: int) -> Export | None:
    """Write a pending export's files and manifest, recording progress and the outcome.

    Idempotent: a missing row, or one that is not pending (running elsewhere, completed,
    failed, cancelled), is returned untouched, so a redelivered task writes nothing. Files
    are written under exports/<id>.partial/ and renamed into place when whole. A failure
    is recorded on the row (status failed, error) rather than raised.
    """
    with transaction.atomic():
        export = Export.objects.select_for_update().filter(pk=export_id).first()
        if export is None or export.status != RunStatus.PENDING:
            return export
        export_transition(export=export, to=RunStatus.RUNNING)
        export.directory = f"exports/{export.pk}"
        criteria = ExportCriteria.from_dict(export.criteria)
        export.progress = {
            "scanned": 0,
            "total": export_candidates(criteria).count(),
            "exported": 0,
        }
        export.save(update_fields=["directory", "progress", "updated_at"])

    final = export_directory(export=export)
    partial = final.with_name(f"{final.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    total = export.progress["total"]

    def on_progress(scanned: int, exported: int) -> None:
        # A plain UPDATE, not save(): the row's other fields stay as the last writer left them.
        Export.objects.filter(pk=export_id).update(
            progress={"scanned": scanned, "total": total, "exported": exported},
            updated_at=timezone.now(),
        )

    try:
        manifest = export_write(
            criteria=criteria, formats=export.formats, directory=partial, on_progress=on_progress
        )
        shutil.rmtree(final, ignore_errors=True)
        partial.rename(final)
    except Exception as error:
        # Anything at all (a full disk, a bad row): the row must say so, not stay "running".
        logger.exception("Export %s failed", export_id)
        shutil.rmtree(partial, ignore_errors=True)
        export.refresh_from_db()
        return export_transition(
            export=export, to=RunStatus.FAILED, error=f"{type(error).__name__}: {error}"
        )
    export.refresh_from_db()
    export.counts = manifest["counts"]
    export.files = manifest["files"]
    export.manifest_path = f"{export.directory}/{MANIFEST_NAME}"
    export.progress = {
        "scanned": manifest["counts"]["scanned"],
        "total": total,
        "exported": manifest["counts"]["samples"],
    }
    export.save(update_fields=["counts", "files", "manifest_path", "progress", "updated_at"])
    return export_transition(export=export, to=RunStatus.COMPLETED)
