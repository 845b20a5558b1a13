"""python manage.py evaluate_genre_model --data DIR [--model A --model B ...] [--out DIR] [--dataset NAME]
[--by-source] [--baseline FILE] [--write-baseline FILE]"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import Error as DatabaseError
from django.utils import timezone

from predictions import learning
from worker.heads.genre_head import Artifact, ArtifactError, load_artifact
from worker.learning import evaluation


class Command(BaseCommand):
    help = (
        "Evaluate one or more genre artifacts side by side on a folder with one sub-folder of audio per "
        "genre plus outside/: top-1, top-2, flag rates, recall per genre, confusion matrices, calibration."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--data", type=Path, required=True, help="one sub-folder per genre, plus outside/"
        )
        parser.add_argument(
            "--model",
            dest="models",
            action="append",
            type=Path,
            default=None,
            help="an artifact folder; repeat to compare (default: the served one: the promoted "
            "version, else GENRE_MODEL_DIR, else the shipped default)",
        )
        parser.add_argument(
            "--every-patch",
            action="store_true",
            help="read every patch of each clip (default: as the site does, half first and the rest "
            "when the top genre or the outside verdict is in doubt; SEVENFOUR_MODEL_EARLY_EXIT=0 also "
            "reads every patch)",
        )
        parser.add_argument(
            "--out", type=Path, default=None, help="report folder (default: var/evaluations/<time>)"
        )
        parser.add_argument(
            "--dataset",
            default=None,
            help="what the audio is, printed on the report (default: the folder name)",
        )
        parser.add_argument(
            "--by-source",
            action="store_true",
            help="--data holds one folder per source, each with one sub-folder per genre (e.g. "
            "var/realset/genre-by-source): figures over all files and per source",
        )
        parser.add_argument(
            "--baseline",
            type=Path,
            default=None,
            help="a baseline JSON (e.g. bench/realset/genre_baseline.json): fail when a model's top-1, "
            "top-2 or outside flagged falls, or its in-genre flagged or ECE rises, by more than the "
            "baseline's tolerance, over all files or in a source",
        )
        parser.add_argument(
            "--write-baseline",
            type=Path,
            default=None,
            help="write the (first) model's figures as a baseline JSON here",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["models"]:
            artifacts, why = self._artifacts(options["models"]), ""
        else:
            served = self._served()
            artifacts, why = self._artifacts([served.path]), f"; the served model: {served.source}"
        for artifact in artifacts:
            self.stdout.write(f"Evaluating {artifact.name} {artifact.version} ({artifact.path}{why})")
        data: Path = options["data"]
        out = options["out"] or Path(settings.VAR_DIR) / "evaluations" / timezone.now().strftime(
            "%Y%m%d-%H%M%S"
        )
        dataset = options["dataset"] or data.name
        from worker.backbone import sequential
        from worker.backbone.serving import get_backbone

        try:
            results, verdicts, skipped = evaluation.evaluate(
                data,
                artifacts,
                get_backbone(),
                progress=lambda line: self.stderr.write(f"  {line}"),
                early_exit=sequential.enabled() and not options["every_patch"],
                by_source=options["by_source"],
            )
        except evaluation.EvaluationDataError as exc:
            raise CommandError(str(exc)) from exc
        for path, reason in skipped:
            self.stdout.write(f"skipped {path}: {reason}")
        labels_of = {evaluation.artifact_key(a): list(a.labels) for a in artifacts}
        self.stdout.write(f"Dataset: {dataset}\n")
        self.stdout.write(evaluation.format_table(results, labels_of))
        files = evaluation.write_report(out, results, verdicts, artifacts, skipped, dataset)
        self.stdout.write(f"\nReport: {files['text'].parent}")
        if options["write_baseline"]:
            key = next(iter(results))
            baseline = evaluation.baseline_figures(results[key], key, dataset)
            options["write_baseline"].write_text(json.dumps(baseline, indent=2) + "\n", encoding="utf-8")
            self.stdout.write(f"Baseline of {key} written to {options['write_baseline']}")
        if options["baseline"]:
            self._compare(results, options["baseline"])

    def _compare(self, results: dict[str, dict[str, Any]], path: Path) -> None:
        try:
            baseline = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CommandError(f"Cannot read the baseline {path}: {exc}") from exc
        regressions = [
            r
            for key, figures in results.items()
            for r in evaluation.compare_to_baseline(figures, key, baseline)
        ]
        against = f"the baseline of {baseline.get('model')} on {baseline.get('dataset')} ({path})"
        if regressions:
            lines = [r.describe() for r in regressions]
            raise CommandError(f"Worse than {against}:\n  " + "\n  ".join(lines))
        self.stdout.write(f"No figure worse than {against}.")

    def _served(self) -> learning.ServedFolder:
        try:
            return learning.served_folder()
        except DatabaseError as exc:
            raise CommandError(
                f"Cannot read which model version is promoted ({exc}); migrate the database, or name "
                "the artifact with --model."
            ) from exc

    def _artifacts(self, paths: Sequence[Path | str | None]) -> list[Artifact]:
        try:
            artifacts = [load_artifact(p) for p in paths]
        except ArtifactError as exc:
            raise CommandError(str(exc)) from exc
        keys = [evaluation.artifact_key(a) for a in artifacts]
        if len(set(keys)) != len(keys):
            raise CommandError(f"Two artifacts share a name and version: {keys}")
        return artifacts
