"""The model that learns (issue 12 point 4): labelled examples, few-shot versions, held-back
evaluation, promotion, and the version a worker serves.

Labelled examples are finished predictions with a stored backbone output, labelled by an admin
reference track's genre, else by predictions.labels (the user's correction, or the admin's review
when it was made after the user's label or there is none). Predictions whose
id is a multiple of HOLDBACK_EVERY are held back: they never train a version and every version is
evaluated on them, so the figures compare versions on the same songs. Reference tracks always train.
A version can serve only once it has been evaluated on at least one held-back prediction, and only
if it predicts the site's genres (GENRE_MODEL_DIR's, else the shipped default's: predictions.taxonomy);
the admin promotes it, and each ML job reads the served version's folder (one query) and loads an
artifact once per worker process (worker.predictor.get_predictor caches per folder), so promotion
needs no restart; un-promoting it hands serving back to GENRE_MODEL_DIR, else the shipped default.
Everything here works from stored outputs: no audio, no TensorFlow.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.utils import timezone

from predictions import labels
from predictions.models import USER_GENRE_NONE, GenreModelVersion, Prediction, ReferenceTrack
from worker.heads import fewshot
from worker.heads.genre_head import (
    DEFAULT_ARTIFACT_DIR,
    LOGODDS_ARTIFACT_DIR,
    ZEROSHOT_ARTIFACT_DIR,
    Artifact,
    ArtifactError,
    head_outside,
    load_artifact,
    load_head,
    prototype_base,
)
from worker.learning import evaluation

HOLDBACK_EVERY = 5
_SOURCES = {labels.USER: "correction", labels.REVIEW: "review"}


class PromotionRefused(Exception):
    pass


@dataclass(frozen=True)
class LabelledPrediction:
    prediction_id: int
    label: str  # a genre slug, or evaluation.OUTSIDE
    source: str  # "reference", "review" or "correction"
    backbone: dict[str, list[float]]

    @property
    def held_back(self) -> bool:
        return self.source != "reference" and self.prediction_id % HOLDBACK_EVERY == 0


def labelled_predictions() -> list[LabelledPrediction]:
    references = dict(ReferenceTrack.objects.values_list("prediction_id", "genre"))
    rows = Prediction.objects.filter(status=Prediction.Status.DONE).exclude(backbone_output={}).order_by("pk")
    out = []
    for p in rows.iterator():
        if p.pk in references:
            label, source = references[p.pk], "reference"
        else:
            genre = labels.prediction_labels(p)
            if not genre.genre:
                continue
            label, source = genre.genre, _SOURCES[genre.genre_source]
        # "none of our genres" is an example of an outside song, for the flag rate.
        outside = label == USER_GENRE_NONE
        out.append(
            LabelledPrediction(p.pk, evaluation.OUTSIDE if outside else label, source, p.backbone_output)
        )
    return out


# --- versions ------------------------------------------------------------------------------


def model_version_register(
    artifact: Artifact, *, based_on: GenreModelVersion | None = None
) -> GenreModelVersion:
    version, _ = GenreModelVersion.objects.get_or_create(
        name=artifact.name,
        version=artifact.version,
        defaults={"kind": artifact.kind, "artifact_dir": str(artifact.path), "based_on": based_on},
    )
    return version


def model_versions_register_shipped() -> list[GenreModelVersion]:
    """Rows for the shipped artifacts (the default first), so they are evaluated and compared like the
    rest and an admin can serve the earlier default again."""
    paths = dict.fromkeys(
        p.resolve() for p in (DEFAULT_ARTIFACT_DIR, LOGODDS_ARTIFACT_DIR, ZEROSHOT_ARTIFACT_DIR)
    )
    return [model_version_register(load_artifact(path)) for path in paths]


def model_version_build(*, base: GenreModelVersion | None = None) -> GenreModelVersion:
    """A new few-shot version from every labelled, not held-back prediction and every reference,
    evaluated at once. The base defaults to the shipped default (a few-shot base's own base is used)."""
    base = base or model_versions_register_shipped()[0]
    base_artifact = load_artifact(base.artifact_dir)
    if base_artifact.kind == "prototype":
        base_artifact = prototype_base(base_artifact)
    train = [e for e in labelled_predictions() if not e.held_back and e.label != evaluation.OUTSIDE]
    name = "musicnn-fewshot-7"
    count = GenreModelVersion.objects.filter(name=name).count() + 1  # the shipped prototypes are not counted
    number = f"{base_artifact.version}+fs{count}"
    out = Path(settings.VAR_DIR) / "models" / f"{name}-{number}"
    examples = [fewshot.Example(e.label, e.backbone) for e in train]
    artifact = fewshot.build_prototype_artifact(out, base_artifact, examples, name=name, version=number)
    version = model_version_register(artifact, based_on=model_version_register(base_artifact))
    version.examples = dict(Counter(e.label for e in train if e.label in artifact.labels))
    version.save(update_fields=["examples"])
    return model_version_evaluate(version)


def model_version_evaluate(version: GenreModelVersion) -> GenreModelVersion:
    """Score the held-back predictions from their stored outputs; store the figures and the picture."""
    artifact = load_artifact(version.artifact_dir)
    head = load_head(artifact)
    verdicts = []
    for example in (e for e in labelled_predictions() if e.held_back):
        output = fewshot.backbone_from_dict(example.backbone)
        probs = head.predict(output, output.patch_embeddings[:0])
        item = evaluation.Item(Path(f"prediction-{example.prediction_id}"), example.label)
        verdicts.append(evaluation.make_verdict(item, artifact, probs, head_outside(head, output, probs)))
    result = evaluation.metrics(verdicts, artifact.labels)
    version.evaluation = result
    version.heldout_files = len(verdicts)
    version.top1 = result["top1"]
    version.evaluated_at = timezone.now()
    with tempfile.TemporaryDirectory() as tmp:
        from worker.learning.training import render_confusion_matrix

        png = Path(tmp) / "confusion.png"
        title = f"{version}: {result['in_genre_files']} held-back reviewed predictions"
        render_confusion_matrix(result["confusion_matrix"], list(artifact.display_names), png, title=title)
        with png.open("rb") as fh:
            version.confusion_png.save(f"{artifact.name}-{artifact.version}.png", File(fh), save=False)
    version.save()
    return version


def model_version_promote(version: GenreModelVersion) -> GenreModelVersion:
    if version.evaluated_at is None or not version.heldout_files:
        raise PromotionRefused(
            f"{version} has not been evaluated on held-back reviewed predictions; evaluate it first "
            f"(reviewed or corrected predictions whose id is a multiple of {HOLDBACK_EVERY} are held back)."
        )
    configured = configured_folder()
    try:
        artifact, site = load_artifact(version.artifact_dir), load_artifact(configured.path)
    except ArtifactError as exc:
        raise PromotionRefused(str(exc)) from exc
    # The site's genres (forms, filters, the API's list: predictions.taxonomy) are GENRE_MODEL_DIR's,
    # a deployment setting read once per process; a version only changes the model behind them.
    if artifact.labels != site.labels:
        raise PromotionRefused(
            f"{version} predicts {', '.join(artifact.labels)}, but the site's genres are those of "
            f"{configured.source} ({site.name} {site.version}): {', '.join(site.labels)}. "
            "Other genres are another GENRE_MODEL_DIR and a restart."
        )
    with transaction.atomic():
        GenreModelVersion.objects.filter(is_served=True).exclude(pk=version.pk).update(is_served=False)
        version.is_served, version.promoted_at = True, timezone.now()
        version.save(update_fields=["is_served", "promoted_at"])
    return version


def model_version_unpromote(version: GenreModelVersion) -> GenreModelVersion:
    """Stop serving a promoted version: from their next job, workers serve configured_folder()
    (GENRE_MODEL_DIR, else the shipped default), the only way back to GENRE_MODEL_DIR."""
    GenreModelVersion.objects.filter(pk=version.pk).update(is_served=False)
    version.is_served = False
    return version


PROMOTED, CONFIGURED, SHIPPED = "the promoted version", "GENRE_MODEL_DIR", "the shipped default"


@dataclass(frozen=True)
class ServedFolder:
    path: str | None  # an artifact folder; None: the shipped default (worker.heads.genre_head)
    source: str  # PROMOTED, CONFIGURED or SHIPPED: why this folder serves


def configured_folder() -> ServedFolder:
    """What serves while no version is promoted: GENRE_MODEL_DIR, else the shipped default. No query."""
    if settings.GENRE_MODEL_DIR:
        return ServedFolder(str(settings.GENRE_MODEL_DIR), CONFIGURED)
    return ServedFolder(None, SHIPPED)


def served_folder() -> ServedFolder:
    """The folder an ML job serves and why: the promoted version, else configured_folder()."""
    promoted = GenreModelVersion.objects.filter(is_served=True).values_list("artifact_dir", flat=True).first()
    return ServedFolder(promoted, PROMOTED) if promoted else configured_folder()


def served_model_dir() -> str | None:
    """The folder an ML job serves: the promoted version, else GENRE_MODEL_DIR, else the default."""
    return served_folder().path


def reference_track_add(
    *, prediction: Prediction, genre: str, added_by: object | None = None
) -> ReferenceTrack:
    if prediction.status != Prediction.Status.DONE or not prediction.backbone_output:
        raise ValueError(f"{prediction} has no stored analysis to learn from; run it again first.")
    reference, _ = ReferenceTrack.objects.update_or_create(
        prediction=prediction, defaults={"genre": genre, "added_by": added_by}
    )
    return reference
