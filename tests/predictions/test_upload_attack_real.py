"""Issue 18, point 1, through the real stack: a real Celery worker on Redis, real ffmpeg.

User A stores an "mp3" that is an ID3 header followed by an HLS playlist (or a DASH manifest)
naming user B's upload by its absolute path. Before the fix ffmpeg probed the content, skipped
the tag, opened B's file, and A got B's genre, tempo, key and spectrogram; a missing path gave
another error, so the attack also told which files exist. The upload form refuses such a file
now, so the job is created through the service, as if it had got past the form.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog.types import TrackIdentity
from fakeapis.hostile import ATTACKS
from predictions import services
from predictions.models import Prediction
from tests.conftest import broker_configured, running_worker, wait_until
from worker.audio.decode import NOT_AUDIO

pytestmark = [pytest.mark.model, pytest.mark.django_db(transaction=True)]


def _victim_file(fmt: str, tmp_path: Path) -> Path:
    """B's song, stored in MEDIA_ROOT the way uploads are."""
    source = tmp_path / f"song.{fmt}"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "sine=f=220:d=40", str(source)],
        check=True,
        timeout=60,
    )
    name = default_storage.save(f"uploads/victim/song.{fmt}", ContentFile(source.read_bytes()))
    return Path(default_storage.path(name))


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_a_disguised_playlist_reads_nothing_and_says_the_same_for_a_missing_path(
    user, other_user, redis_url, tmp_path, attack
):
    build, victim_format = ATTACKS[attack]
    victim = _victim_file(victim_format, tmp_path)
    Prediction.objects.create(owner=other_user, source="upload", upload=str(victim.relative_to(
        Path(default_storage.path("")))), status=Prediction.Status.DONE)  # fmt: skip
    targets = {"existing": victim, "missing": victim.with_name(f"nothing-here.{victim_format}")}

    with broker_configured(redis_url), running_worker():
        created = {
            label: services.prediction_create(
                user=user,
                track=TrackIdentity(source="upload", title="x"),
                upload=SimpleUploadedFile("x.mp3", build(target)),
            )
            for label, target in targets.items()
        }
        finished = wait_until(
            lambda: all(Prediction.objects.get(pk=p.pk).is_finished for p in created.values()), timeout=180
        )

    assert finished
    results = {label: Prediction.objects.get(pk=p.pk) for label, p in created.items()}
    for prediction in results.values():
        assert prediction.status == Prediction.Status.FAILED
        assert prediction.error == NOT_AUDIO
        assert not prediction.genre_scores
        assert not prediction.spectrogram
