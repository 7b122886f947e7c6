from django.db import migrations

ANNOTATORS_GROUP = "annotators"


def create_group(apps, schema_editor) -> None:
    Group = apps.get_model("auth", "Group")
    Group.objects.get_or_create(name=ANNOTATORS_GROUP)


def delete_group(apps, schema_editor) -> None:
    Group = apps.get_model("auth", "Group")
    Group.objects.filter(name=ANNOTATORS_GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [("annotate", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]

    operations = [migrations.RunPython(create_group, delete_group)]
