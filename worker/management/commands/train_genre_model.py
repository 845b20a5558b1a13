"""python manage.py train_genre_model --data DIR [--arch head|conv1d] [--out DIR] [--name N] [--model-version V]"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Train a genre model on a folder with one sub-folder of audio files per genre."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--data", type=Path, required=True, help="folder with one sub-folder per genre")
        parser.add_argument("--arch", choices=["head", "conv1d"], default="head")
        parser.add_argument(
            "--out", type=Path, default=None, help="artifact folder (default: var/models/NAME-VERSION)"
        )
        parser.add_argument("--name", default=None)
        parser.add_argument("--model-version", dest="model_version", default=None)
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--min-files", type=int, default=None, help="minimum files per genre (default 5)")

    def handle(self, *args: Any, **options: Any) -> None:
        from worker import training

        name = options["name"] or f"musicnn-{options['arch']}"
        out = (
            options["out"]
            or Path(settings.VAR_DIR) / "models" / f"{name}-{options['model_version'] or 'latest'}"
        )
        config = training.TrainingConfig(
            output_dir=out,
            data_dir=options["data"],
            arch=options["arch"],
            name=options["name"],
            version=options["model_version"],
            seed=options["seed"],
            min_files_per_genre=options["min_files"] or training.MIN_FILES_PER_GENRE,
        )
        try:
            result = training.train(config)
        except training.TrainingDataError as exc:
            raise CommandError(str(exc)) from exc
        report = result.report
        self.stdout.write(
            f"Wrote {result.artifact.name} {result.artifact.version} to {result.artifact.path}\n"
            f"Validation accuracy {report['accuracy']:.3f} (chance {report['chance']:.3f}), "
            f"macro F1 {report['macro_f1']:.3f} on {report['validation_files']} files; "
            "report.json and confusion_matrix.png are in the artifact folder."
        )
