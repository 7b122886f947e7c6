"""Who may work on a batch; existing batches get the people they already assigned."""

from django.conf import settings
from django.db import migrations, models


def fill_annotators(apps, schema_editor) -> None:
    Batch = apps.get_model("annotate", "Batch")
    for batch in Batch.objects.all():
        batch.annotators.set(batch.assignments.values_list("annotator_id", flat=True).distinct())


class Migration(migrations.Migration):
    dependencies = [
        ("annotate", "0003_assignment_slot"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="batch",
            name="annotators",
            field=models.ManyToManyField(
                blank=True, related_name="annotation_batches", to=settings.AUTH_USER_MODEL
            ),
        ),
        migrations.RunPython(fill_annotators, migrations.RunPython.noop),
    ]
