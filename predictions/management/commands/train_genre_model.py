"""python manage.py train_genre_model [--data DIR] [--from-reviews] [--arch head|conv1d] [--out DIR] ..."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import Error as DatabaseError

from predictions import learning
from predictions.training_data import reviewed_examples_fetch
from worker.learning import training


class Command(BaseCommand):
    help = (
        "Train a genre model on a folder with one sub-folder of audio files per genre, "
        "and/or on the predictions admins have reviewed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--data", type=Path, default=None, help="folder with one sub-folder per genre")
        parser.add_argument(
            "--from-reviews",
            action="store_true",
            help="add admin-reviewed predictions (uploads are kept; catalog previews are fetched again)",
        )
        parser.add_argument("--arch", choices=["head", "conv1d"], default="head")
        parser.add_argument(
            "--out", type=Path, default=None, help="artifact folder (default: var/models/NAME-VERSION)"
        )
        parser.add_argument("--name", default=None)
        parser.add_argument("--model-version", dest="model_version", default=None)
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--min-files", type=int, default=None, help="minimum files per genre (default 5)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["data"] is None and not options["from_reviews"]:
            raise CommandError("Give --data DIR, --from-reviews, or both.")
        with tempfile.TemporaryDirectory(prefix="sevenfour-reviews-") as scratch:
            extra = self._reviewed_examples(Path(scratch)) if options["from_reviews"] else []
            self._train(options, extra)

    def _reviewed_examples(self, scratch: Path) -> list[tuple[Path, str]]:
        found = reviewed_examples_fetch(scratch=scratch)
        self.stdout.write(
            f"Reviewed predictions: {len(found.examples)} usable, {len(found.skipped)} skipped."
        )
        for pk, reason in found.skipped:
            self.stdout.write(f"  skipped prediction {pk}: {reason}")
        return found.examples

    def _train(self, options: dict[str, Any], extra: list[tuple[Path, str]]) -> None:
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
            result = training.train(config, extra_examples=extra)
        except training.TrainingDataError as exc:
            raise CommandError(str(exc)) from exc
        report = result.report
        self.stdout.write(
            f"Wrote {result.artifact.name} {result.artifact.version} to {result.artifact.path}\n"
            f"Validation accuracy {report['accuracy']:.3f} (chance {report['chance']:.3f}), "
            f"macro F1 {report['macro_f1']:.3f} on {report['validation_files']} files; "
            "report.json and confusion_matrix.png are in the artifact folder.\n"
            f"Serve it by setting GENRE_MODEL_DIR={result.artifact.path} and restarting the site and the "
            "workers (the site reads its genres from it at start)."
        )
        self.stdout.write(self._promoted_note())

    def _promoted_note(self) -> str:
        """GENRE_MODEL_DIR serves only while no version is promoted (predictions.learning)."""
        try:
            served = learning.served_folder()
        except DatabaseError:  # a --data run needs no database: say the rule, not the state
            return "GENRE_MODEL_DIR serves while no model version is promoted in the admin."
        if served.source != learning.PROMOTED:
            return "No model version is promoted, so GENRE_MODEL_DIR serves."
        return (
            f'But a promoted model version ({served.path}) serves instead: choose "Stop serving" on it in '
            "the admin's Genre model versions for GENRE_MODEL_DIR to serve."
        )
