"""The model that learns: labelled predictions, few-shot versions, held-back evaluation, promotion,
and the admin's view of them. Backbone outputs are made by hand: every tag at its prior (so the
zero-shot default is uniform and its top-1 is the first label, classical) and embeddings clustered
per genre (so the few-shot head separates them); the expected figures follow by hand."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from django.urls import reverse
from django.utils import timezone

from predictions import learning, presenters, taxonomy
from predictions.models import GenreModelVersion, Prediction
from tests.accounts.factories import UserFactory
from tests.predictions.factories import DonePredictionFactory
from worker.backbone.musicnn import MSD_TAGS, MTT_TAGS, BackboneOutput
from worker.heads import fewshot
from worker.heads.genre_head import (
    DEFAULT_ARTIFACT_DIR,
    LOGODDS_ARTIFACT_DIR,
    ZEROSHOT_ARTIFACT_DIR,
    LogOddsHead,
    load_artifact,
    write_artifact,
)
from worker.learning import evaluation

pytestmark = pytest.mark.django_db
DIRECTIONS = {g: np.random.default_rng(i).standard_normal(400) for i, g in enumerate(["rock", "dance"])}


@pytest.fixture(autouse=True)
def _var_dir(settings, tmp_path: Path) -> None:
    settings.VAR_DIR = tmp_path / "var"
    settings.GENRE_MODEL_DIR = ""


def backbone(genre: str, seed: int) -> dict[str, list[float]]:
    head = LogOddsHead(load_artifact(LOGODDS_ARTIFACT_DIR))
    embedding = DIRECTIONS[genre] + 0.3 * np.random.default_rng(seed).standard_normal(400)
    msd = np.array([head.priors[("msd", t)] for t in MSD_TAGS])
    mtt = np.array([head.priors[("mtt", t)] for t in MTT_TAGS])
    return fewshot.backbone_to_dict(BackboneOutput(msd, mtt, embedding, embedding[None, :]))


def reviewed(pk: int, genre: str, **extra: object) -> Prediction:
    return DonePredictionFactory(id=pk, reviewed_genre=genre, backbone_output=backbone(genre, pk), **extra)


@pytest.fixture
def labelled() -> None:
    for pk in (1, 2, 3, 4):
        reviewed(pk, "rock")
    for pk in (6, 7, 8, 9):
        reviewed(pk, "dance")
    reviewed(10, "rock")  # held back (multiples of 5)
    reviewed(15, "dance")  # held back
    reference = DonePredictionFactory(id=25, backbone_output=backbone("rock", 25))  # references always train
    learning.reference_track_add(prediction=reference, genre="rock")
    DonePredictionFactory(id=11, reviewed_genre="rock")  # reviewed before outputs were stored: unusable
    DonePredictionFactory(id=12, backbone_output=backbone("dance", 12))  # not labelled


def test_labelled_predictions_take_references_and_reviews_and_hold_back_every_fifth(labelled: None) -> None:
    found = {e.prediction_id: (e.label, e.source, e.held_back) for e in learning.labelled_predictions()}

    assert found[25] == ("rock", "reference", False)
    assert found[10] == ("rock", "review", True)
    assert found[1] == ("rock", "review", False)
    assert 11 not in found
    assert 12 not in found


def test_user_corrections_label_predictions_as_predictions_labels_decides() -> None:
    before, after = timezone.now() - timedelta(hours=1), timezone.now()
    DonePredictionFactory(
        id=31, user_genre="dance", corrected_at=before, backbone_output=backbone("dance", 31)
    )
    DonePredictionFactory(id=32, user_genre="none", corrected_at=before, backbone_output=backbone("rock", 32))
    # The admin reviewed after the user's label: the review wins; before it: the user's label wins.
    reviewed(33, "rock", user_genre="dance", corrected_at=before, reviewed_at=after)
    reviewed(34, "rock", user_genre="dance", corrected_at=after, reviewed_at=before)

    found = {e.prediction_id: (e.label, e.source) for e in learning.labelled_predictions()}

    assert found == {
        31: ("dance", "correction"),
        32: (evaluation.OUTSIDE, "correction"),
        33: ("rock", "review"),
        34: ("dance", "correction"),
    }


def test_a_few_shot_version_is_built_from_the_training_part_and_evaluated_on_the_held_back(
    labelled: None,
) -> None:
    version = learning.model_version_build()

    assert version.kind == "prototype"
    assert version.version == "2.0.0+fs1"
    assert version.examples == {"rock": 5, "dance": 4}
    assert version.heldout_files == 2
    assert version.top1 == 1.0
    assert version.evaluation["confusion_matrix"][5][5] == 1  # rock row, rock column
    assert version.confusion_png.read()[:8] == b"\x89PNG\r\n\x1a\n"
    assert Path(version.artifact_dir, "artifact.json").exists()
    # The shipped log-odds head (the default's base), uniform on these outputs, says "classical" to
    # both: 0 of 2.
    log_odds = GenreModelVersion.objects.get(name="musicnn-logodds-7", version="2.0.0")
    assert learning.model_version_evaluate(log_odds).top1 == 0.0


def test_only_an_evaluated_version_can_serve_and_one_serves_at_a_time(labelled: None) -> None:
    shipped, _, zeroshot = learning.model_versions_register_shipped()
    with pytest.raises(learning.PromotionRefused, match="held-back"):
        learning.model_version_promote(shipped)
    assert learning.served_model_dir() is None  # nothing promoted: the default

    first = learning.model_version_build()
    learning.model_version_promote(first)
    assert learning.served_model_dir() == first.artifact_dir
    learning.model_version_promote(learning.model_version_evaluate(zeroshot))

    assert learning.served_model_dir() == zeroshot.artifact_dir
    assert list(GenreModelVersion.objects.filter(is_served=True)) == [zeroshot]


def test_no_held_back_prediction_means_no_promotion() -> None:
    for pk in (1, 2, 3):
        reviewed(pk, "rock")
    version = learning.model_version_build()

    assert version.heldout_files == 0
    with pytest.raises(learning.PromotionRefused):
        learning.model_version_promote(version)


def test_the_served_folder_says_why_it_serves(labelled: None, settings) -> None:
    assert learning.served_folder() == learning.ServedFolder(None, learning.SHIPPED)
    settings.GENRE_MODEL_DIR = str(ZEROSHOT_ARTIFACT_DIR)  # the same genres as the versions
    configured = learning.ServedFolder(str(ZEROSHOT_ARTIFACT_DIR), learning.CONFIGURED)
    assert learning.served_folder() == configured

    version = learning.model_version_promote(learning.model_version_build())
    assert learning.served_folder() == learning.ServedFolder(version.artifact_dir, learning.PROMOTED)

    learning.model_version_unpromote(version)  # the way back to GENRE_MODEL_DIR
    assert learning.served_folder() == configured
    assert not GenreModelVersion.objects.filter(is_served=True).exists()


def test_a_version_with_other_genres_than_the_sites_is_not_promoted(
    labelled: None, settings, tmp_path: Path
) -> None:
    two_genres = {
        "format": 1, "name": "two-genres", "version": "1", "kind": "tag-mapping",
        "labels": ["rock", "dance"], "display_names": ["Rock", "Dance"], "normalisation": {"method": "sum"},
        "tag_mapping": {"rock": {"msd": ["rock"], "mtt": []}, "dance": {"msd": ["dance"], "mtt": []}},
    }  # fmt: skip
    settings.GENRE_MODEL_DIR = str(write_artifact(tmp_path / "two-genres", two_genres).path)
    version = learning.model_version_build()  # over the shipped default: seven genres

    with pytest.raises(learning.PromotionRefused, match="site's genres are those of GENRE_MODEL_DIR"):
        learning.model_version_promote(version)
    assert learning.served_folder().source == learning.CONFIGURED


def test_the_site_names_the_promoted_version_as_the_served_model(labelled: None) -> None:
    assert taxonomy.served_model() == ("musicnn-prototypes-7", "1.0.0")
    genres = taxonomy.genre_choices()

    version = learning.model_version_promote(learning.model_version_build())

    assert taxonomy.served_model() == ("musicnn-fewshot-7", version.version)
    assert taxonomy.genre_choices() == genres  # the same genres, the promoted model behind them
    made_by_it = DonePredictionFactory(id=41, model_name="musicnn-fewshot-7", model_version=version.version)
    made_before = DonePredictionFactory(id=42, model_name="musicnn-logodds-7", model_version="2.0.0")
    assert not presenters.rerun_offered(made_by_it)
    assert presenters.rerun_offered(made_before)


def test_a_reference_needs_a_finished_analysis() -> None:
    with pytest.raises(ValueError, match="no stored analysis"):
        learning.reference_track_add(prediction=DonePredictionFactory(), genre="rock")


@pytest.fixture
def admin_client_(client):
    client.force_login(UserFactory(username="admin", is_staff=True, is_superuser=True))
    return client


def test_admin_sees_accuracy_per_version_with_its_confusion_matrix_promotes_and_unpromotes(
    admin_client_, labelled
) -> None:
    version = learning.model_version_build()

    listing = admin_client_.get(reverse("admin:predictions_genremodelversion_changelist")).content.decode()
    assert "musicnn-logodds-7 2.0.0" in listing  # the shipped versions are listed too
    assert "100%" in listing
    assert "not evaluated" in listing
    page = admin_client_.get(
        reverse("admin:predictions_genremodelversion_change", args=[version.pk])
    ).content.decode()
    assert "Confusion matrix of musicnn-fewshot-7 2.0.0+fs1" in page
    assert version.confusion_png.url in page

    response = admin_client_.post(
        reverse("admin:predictions_genremodelversion_changelist"),
        {"action": "promote", "_selected_action": [version.pk]},
        follow=True,
    )

    assert "now serves" in response.content.decode()
    assert learning.served_model_dir() == version.artifact_dir

    response = admin_client_.post(
        reverse("admin:predictions_genremodelversion_changelist"),
        {"action": "unpromote", "_selected_action": [version.pk]},
        follow=True,
    )

    assert "no longer serves; workers serve the shipped default" in response.content.decode()
    assert learning.served_folder() == learning.ServedFolder(None, learning.SHIPPED)


def test_admin_keeps_a_prediction_as_a_reference_track(admin_client_) -> None:
    prediction = DonePredictionFactory(backbone_output=backbone("dance", 3))

    admin_client_.post(
        reverse("admin:predictions_prediction_changelist"),
        {"action": "keep_as_reference_dance", "_selected_action": [prediction.pk]},
    )

    assert prediction.reference.genre == "dance"


def test_the_default_artifact_dir_is_the_shipped_one() -> None:
    assert Path(learning.model_versions_register_shipped()[0].artifact_dir) == DEFAULT_ARTIFACT_DIR.resolve()


def test_the_earlier_default_stays_registered_so_an_admin_can_serve_it_again() -> None:
    shipped = learning.model_versions_register_shipped()

    assert [(v.name, v.version, v.kind) for v in shipped] == [
        ("musicnn-prototypes-7", "1.0.0", "prototype"),
        ("musicnn-logodds-7", "2.0.0", "tag-logodds"),
        ("musicnn-zeroshot-7", "1.0.0", "tag-mapping"),
    ]
