"""Slots: each live assignment holds one of its item's k places, so the database refuses a
(k+1)-th annotator. Existing rows get their places in creation order."""

from django.conf import settings
from django.db import migrations, models


def fill_slots(apps, schema_editor) -> None:
    Assignment = apps.get_model("annotate", "Assignment")
    Assignment.objects.filter(status="revoked").update(slot=None)
    taken: dict[tuple[int, int], int] = {}
    live = Assignment.objects.exclude(status="revoked").select_related("batch").order_by("pk")
    for assignment in live:
        key = (assignment.batch_id, assignment.sample_id)
        assignment.slot = taken.get(key, 0)
        taken[key] = assignment.slot + 1
        assignment.overlap = max(assignment.batch.overlap, assignment.slot + 1)
        assignment.save(update_fields=["slot", "overlap"])


class Migration(migrations.Migration):
    dependencies = [
        ("annotate", "0002_annotators_group"),
        ("synth", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="assignment",
            name="overlap",
            field=models.PositiveSmallIntegerField(default=1),
        ),
        migrations.AddField(
            model_name="assignment",
            name="slot",
            field=models.PositiveSmallIntegerField(blank=True, default=0, null=True),
        ),
        migrations.RunPython(fill_slots, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="assignment",
            constraint=models.UniqueConstraint(
                fields=("batch", "sample", "slot"), name="annotate_assignment_unique_slot"
            ),
        ),
        migrations.AddConstraint(
            model_name="assignment",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("slot__isnull", True), ("slot__lt", models.F("overlap")), _connector="OR"
                ),
                name="annotate_assignment_slot_below_overlap",
            ),
        ),
        migrations.AddConstraint(
            model_name="assignment",
            constraint=models.CheckConstraint(
                condition=models.Q(("status", "revoked"), ("slot__isnull", False), _connector="OR"),
                name="annotate_assignment_live_holds_slot",
            ),
        ),
    ]
