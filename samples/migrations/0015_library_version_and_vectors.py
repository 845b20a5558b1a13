"""The library's index version and narrower rows (samples.library): an index on `seen_at`, so the
latest change to any sound is one index lookup; and on PostgreSQL the two vectors stored
uncompressed out of line (STORAGE EXTERNAL), so a row the toaster moves out of the table is not
first tried with a compression that float32 noise never passes. Only rows written after it are
affected; existing rows keep their layout until they are rewritten."""

from __future__ import annotations

from django.db import migrations, models

VECTORS = ("embedding", "tag_vector")


def store_vectors_external(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in VECTORS:
        schema_editor.execute(f'ALTER TABLE "samples_sound" ALTER COLUMN "{column}" SET STORAGE EXTERNAL')


def store_vectors_extended(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in VECTORS:
        schema_editor.execute(f'ALTER TABLE "samples_sound" ALTER COLUMN "{column}" SET STORAGE EXTENDED')


class Migration(migrations.Migration):
    dependencies = [("samples", "0014_library_indexes")]

    operations = [
        migrations.AddIndex(model_name="sound", index=models.Index(fields=["seen_at"], name="sound_seen")),
        migrations.RunPython(store_vectors_external, store_vectors_extended, elidable=False),
    ]
