"""A rating's value lies within its dimension's scale, held by the database.

A CHECK constraint cannot look at another table, so a trigger does it: on PostgreSQL it
raises check_violation (Django's IntegrityError), on SQLite RAISE(ABORT) does the same. A
second trigger refuses to narrow a dimension's scale below ratings it already has.
SQLite rebuilds a table on most ALTERs and drops its triggers: a later migration that alters
evaluation_rating or evaluation_dimension must recreate them (call install_triggers again).
"""

from django.db import migrations

POSTGRES_INSTALL = """
CREATE OR REPLACE FUNCTION evaluation_rating_value_in_scale() RETURNS trigger AS $$
DECLARE
    low smallint;
    high smallint;
BEGIN
    SELECT scale_min, scale_max INTO low, high
      FROM evaluation_dimension WHERE id = NEW.dimension_id;
    IF NEW.value < low OR NEW.value > high THEN
        RAISE EXCEPTION 'rating value % is outside the scale %..% of dimension %',
            NEW.value, low, high, NEW.dimension_id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER evaluation_rating_value_in_scale
    BEFORE INSERT OR UPDATE OF value, dimension_id ON evaluation_rating
    FOR EACH ROW EXECUTE FUNCTION evaluation_rating_value_in_scale();

CREATE OR REPLACE FUNCTION evaluation_dimension_scale_covers_ratings() RETURNS trigger AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM evaluation_rating
         WHERE dimension_id = NEW.id AND (value < NEW.scale_min OR value > NEW.scale_max)
    ) THEN
        RAISE EXCEPTION 'dimension % has ratings outside the new scale %..%',
            NEW.id, NEW.scale_min, NEW.scale_max
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER evaluation_dimension_scale_covers_ratings
    BEFORE UPDATE OF scale_min, scale_max ON evaluation_dimension
    FOR EACH ROW EXECUTE FUNCTION evaluation_dimension_scale_covers_ratings();
"""

POSTGRES_UNINSTALL = """
DROP TRIGGER IF EXISTS evaluation_rating_value_in_scale ON evaluation_rating;
DROP FUNCTION IF EXISTS evaluation_rating_value_in_scale();
DROP TRIGGER IF EXISTS evaluation_dimension_scale_covers_ratings ON evaluation_dimension;
DROP FUNCTION IF EXISTS evaluation_dimension_scale_covers_ratings();
"""

_SQLITE_RATING_OUTSIDE = """
    WHEN NEW.value < (SELECT scale_min FROM evaluation_dimension WHERE id = NEW.dimension_id)
      OR NEW.value > (SELECT scale_max FROM evaluation_dimension WHERE id = NEW.dimension_id)
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: rating value outside the dimension scale');
END
"""

SQLITE_INSTALL = [
    "CREATE TRIGGER evaluation_rating_value_in_scale_insert BEFORE INSERT ON evaluation_rating"
    + _SQLITE_RATING_OUTSIDE,
    "CREATE TRIGGER evaluation_rating_value_in_scale_update"
    " BEFORE UPDATE OF value, dimension_id ON evaluation_rating" + _SQLITE_RATING_OUTSIDE,
    """
CREATE TRIGGER evaluation_dimension_scale_covers_ratings
    BEFORE UPDATE OF scale_min, scale_max ON evaluation_dimension
    WHEN EXISTS (
        SELECT 1 FROM evaluation_rating
         WHERE dimension_id = NEW.id AND (value < NEW.scale_min OR value > NEW.scale_max)
    )
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: ratings outside the new dimension scale');
END
""",
]

SQLITE_UNINSTALL = [
    "DROP TRIGGER IF EXISTS evaluation_rating_value_in_scale_insert",
    "DROP TRIGGER IF EXISTS evaluation_rating_value_in_scale_update",
    "DROP TRIGGER IF EXISTS evaluation_dimension_scale_covers_ratings",
]


def _run(schema_editor, postgres: str, sqlite: list[str]) -> None:
    vendor = schema_editor.connection.vendor
    statements = {"postgresql": [postgres], "sqlite": sqlite}.get(vendor)
    if statements is None:
        raise NotImplementedError(f"No rating scale trigger for database vendor {vendor!r}.")
    # A plain cursor without parameters: plpgsql's RAISE uses % as its own placeholder.
    with schema_editor.connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def install_triggers(apps, schema_editor) -> None:
    _run(schema_editor, POSTGRES_INSTALL, SQLITE_INSTALL)


def uninstall_triggers(apps, schema_editor) -> None:
    _run(schema_editor, POSTGRES_UNINSTALL, SQLITE_UNINSTALL)


class Migration(migrations.Migration):
    dependencies = [("evaluation", "0001_initial")]

    operations = [migrations.RunPython(install_triggers, uninstall_triggers)]
