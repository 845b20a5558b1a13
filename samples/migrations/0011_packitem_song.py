"""PackItem.song: the song (prediction) a sound was saved from, which its conformed WAV follows in a
pack ZIP by default. Existing items keep null: their song is unknown."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("predictions", "0009_patches_read"),
        ("samples", "0010_job_rows"),
    ]

    operations = [
        migrations.AddField(
            model_name="packitem",
            name="song",
            field=models.ForeignKey(
                blank=True,
                help_text="The song (prediction) the sound was saved from; empty when unknown.",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="pack_items",
                to="predictions.prediction",
            ),
        ),
    ]
