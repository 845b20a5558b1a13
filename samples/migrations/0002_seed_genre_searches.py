"""Seed the search settings of the seven genres from the original project's map."""

from django.db import migrations

GENRES = [
    ("classical", "Classical", ["violin", "piano", "orchestra", "concert band", "woodwinds", "strings"], "any"),
    ("dance", "Dance", ["trance loop", "house loop", "techno loop", "tech house loop", "dance loop", "dubstep loop"], "loop"),
    ("electronica", "Electronica", ["lofi", "chillhop", "synthwave", "electronic"], "loop"),
    ("pop", "Pop", ["pop loop", "pop vocals"], "loop"),
    ("rnb", "R&B", ["hip-hop loop", "r&b loop"], "loop"),
    ("rock", "Rock", ["rock loop", "drum loop"], "loop"),
    ("shoegaze", "Shoegaze & dream pop", ["guitar loop", "drone loop", "ambience loop"], "loop"),
]


def seed(apps, schema_editor):
    GenreSearch = apps.get_model("samples", "GenreSearch")
    for order, (slug, name, queries, kind) in enumerate(GENRES):
        GenreSearch.objects.update_or_create(
            slug=slug,
            defaults={
                "name": name,
                "queries": "\n".join(queries),
                "kind": kind,
                "order": order,
                "licences": ["cc0", "by"],
                "min_duration": 1.0,
                "max_duration": 30.0,
                "bpm_tolerance": 6,
            },
        )


def unseed(apps, schema_editor):
    apps.get_model("samples", "GenreSearch").objects.filter(slug__in=[g[0] for g in GENRES]).delete()


class Migration(migrations.Migration):
    dependencies = [("samples", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
