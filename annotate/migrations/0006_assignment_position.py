"""Assignments carry their item's position, so that an annotator's next item is one index
scan (batch, annotator, status, position, id). Existing rows copy it from their BatchItem."""

from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def copy_positions(apps, schema_editor) -> None:
    Assignment = apps.get_model("annotate", "Assignment")
    BatchItem = apps.get_model("annotate", "BatchItem")
    for unit in ("sample", "comparison"):
        position = BatchItem.objects.filter(
            batch=OuterRef("batch"), **{unit: OuterRef(unit)}
        ).values("position")[:1]
        Assignment.objects.filter(**{f"{unit}__isnull": False}).update(position=Subquery(position))


class Migration(migrations.Migration):
    dependencies = [("annotate", "0005_pairwise")]

    operations = [
        migrations.AddField(
            model_name="assignment",
            name="position",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.RunPython(copy_positions, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="assignment",
            index=models.Index(
                fields=["batch", "annotator", "status", "position", "id"],
                name="annotate_assignment_next",
            ),
        ),
    ]
