"""Indexes for the sample library's filters (samples.library): key and duration everywhere, and on
PostgreSQL two GIN indexes, the tags (jsonb containment, `@>`) and the full-text vector of the name
and tags (the expression samples.library.SEARCH_VECTOR_SQL spells the same way)."""

from __future__ import annotations

from django.db import migrations, models

POSTGRES_INDEXES = {
    "sound_tags_gin": 'USING gin ("tags" jsonb_path_ops)',
    "sound_search_gin": "USING gin (to_tsvector('simple', \"name\" || ' ' || \"tags\"::text))",
}


def create_postgres_indexes(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, how in POSTGRES_INDEXES.items():
        schema_editor.execute(f'CREATE INDEX IF NOT EXISTS "{name}" ON "samples_sound" {how}')


def drop_postgres_indexes(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in POSTGRES_INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [("samples", "0013_render_limits_and_expiry")]

    operations = [
        migrations.AddIndex(
            model_name="sound", index=models.Index(fields=["removed", "key"], name="sound_key")
        ),
        migrations.AddIndex(
            model_name="sound", index=models.Index(fields=["removed", "duration"], name="sound_duration")
        ),
        migrations.RunPython(create_postgres_indexes, drop_postgres_indexes, elidable=False),
    ]
