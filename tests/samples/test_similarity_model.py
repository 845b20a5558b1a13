"""The ranking mechanism with the real backbone on generated audio: a clear case ranks first, and
the audio index job stores real vectors for a real preview."""

from __future__ import annotations

import numpy as np
import pytest

from samples import freesound, indexing
from samples.audio_index import vector_from_bytes
from samples.models import GenreSearch, Recommendation, Sound
from samples.recommend import Candidate
from samples.services import recommendations_create_for_prediction
from samples.similarity import SongVectors, SoundVectors, rank_by_sound
from samples.sounds import sound_upsert_many
from tests.samples.conftest import add_loops
from worker.audio import synth
from worker.audio.decode import _resample
from worker.backbone.embed import embed_clips

pytestmark = pytest.mark.model


def at_16k(samples: np.ndarray) -> np.ndarray:
    return _resample(samples, synth.SR, 16_000)


def loop(fid: int) -> Candidate:
    return Candidate(fid, f"author{fid}", f"pack{fid}", "cc0", 8.0, ("loop",), 120, "")


def test_a_piano_song_ranks_the_piano_loop_first_among_drums_and_clicks():
    song, piano, drums, clicks = embed_clips(
        [
            at_16k(synth.piano_piece(20.0, seed=1)),
            at_16k(synth.piano_piece(8.0, seed=7)),  # other notes: the same instrument, not the same audio
            at_16k(synth.drums_and_bass(8.0, bpm=120.0, seed=2)),
            at_16k(synth.click_track(120.0, 8.0)),
        ]
    )
    vectors = {1: SoundVectors(drums.embedding, drums.tags), 2: SoundVectors(clicks.embedding, clicks.tags)}
    vectors[3] = SoundVectors(piano.embedding, piano.tags)

    ranked = rank_by_sound(
        [loop(1), loop(2), loop(3)],
        song=SongVectors(song.embedding, song.tags),
        vectors=vectors,
        tempo=120.0,
        key="",
        tolerance=6,
        seed="piano",
    )

    assert [s.candidate.freesound_id for s in ranked][0] == 3
    assert ranked[0].why.startswith("sounds close:")


@pytest.mark.django_db
def test_the_index_job_stores_real_vectors_and_the_cards_get_a_why_line(fs, settings, prediction):
    # Which of a genre's phrases is searched turns with the prediction's id (which depends on the
    # tests run before on PostgreSQL): pin the one the fake catalogue answers.
    GenreSearch.objects.filter(slug="dance").update(queries="house loop")
    settings.AUDIO_INDEX_ENABLED = True
    settings.AUDIO_INDEX_PREVIEW_INTERVAL = 0.0
    add_loops(fs, "house", n=6, bpm=124)
    sound_upsert_many(results=freesound.search(query="house loop", page_size=150).results)

    run = indexing.audio_index_run()

    assert run is not None
    assert run.analysed == 6
    for sound in Sound.objects.all():
        assert sound.audio_status == Sound.AudioStatus.OK
        assert vector_from_bytes(sound.embedding).shape == (400,)
        assert vector_from_bytes(sound.tag_vector).shape == (100,)
    # The song: the same fake preview's sound, as the predictor would describe it.
    any_sound = Sound.objects.first()
    embedding, tags = vector_from_bytes(any_sound.embedding), vector_from_bytes(any_sound.tag_vector)
    assert embedding is not None
    assert tags is not None
    prediction.backbone_output = {
        "msd": tags[:50].tolist(),
        "mtt": tags[50:].tolist(),
        "embedding": embedding.tolist(),
    }
    prediction.tags = [["electronic", 0.6], ["beat", 0.4]]
    prediction.save()

    recommendations_create_for_prediction(prediction=prediction)

    whys = list(Recommendation.objects.filter(prediction=prediction).values_list("why", flat=True))
    assert len(whys) == 5
    assert all(w.startswith("sounds close:") or w == "" for w in whys)
