"""The audio index job against the fake Freesound on a real socket: previews that are broken,
silent or missing get a clear status on that sound only; the job never spends the requests kept for
live searches; a run that dies is carried on; "More like this sample" finds neighbours and widens
with Freesound's `similar_to` where the index is thin."""

from __future__ import annotations

import base64
import io
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from django.core.cache import cache
from django.utils import timezone

from samples import freesound, indexing
from samples.audio_index import vector_from_bytes, vector_to_bytes
from samples.budget import FreesoundBudget
from samples.freesound_index import sound_similar
from samples.models import AudioIndexRun, Sound
from samples.sounds import sound_upsert_many

pytestmark = pytest.mark.django_db
Status = Sound.AudioStatus
LICENCES = ["cc0", "by"]


@pytest.fixture(autouse=True)
def _index_on(settings) -> None:
    settings.AUDIO_INDEX_ENABLED = True
    settings.AUDIO_INDEX_PREVIEW_INTERVAL = 0.0
    settings.AUDIO_INDEX_BATCH = 4
    indexing.process_index_reset()


def silent_wav(seconds: float = 3.0) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, np.zeros(int(seconds * 22050), np.float32), 22050, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def index_sounds(fs: Any, names: list[str], **kwargs) -> dict[str, Sound]:
    for name in names:
        fs.add_sound(name, tags=("idx", "loop", *kwargs.pop("tags", ())), **kwargs)
    stored = sound_upsert_many(results=freesound.search(query="idx", page_size=150).results)
    return {s.name: s for s in stored}


def vector_embedder(clips):
    """Stands in for the backbone where a test is about the job's bookkeeping, not the model (the
    real backbone's path is tests/samples/test_similarity_model.py): each clip's loudness profile."""
    out = []
    for clip in clips:
        chunks = np.array_split(np.abs(clip), 400)
        emb = np.array([c.mean() for c in chunks], np.float32)
        out.append((emb, np.full(100, float(np.abs(clip).mean()), np.float32)))
    return out


def budget_with(settings, clock) -> FreesoundBudget:
    return FreesoundBudget(
        per_minute=settings.FREESOUND_RATE_PER_MINUTE, per_day=settings.FREESOUND_RATE_PER_DAY, clock=clock
    )


def test_broken_silent_and_missing_previews_each_get_their_own_status(fs, settings, clock):
    sounds = index_sounds(fs, ["good", "broken", "silent", "missing"])
    fs.set_preview(sounds["broken"].freesound_id, b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\x13\x37" * 4000)
    fs.set_preview(sounds["silent"].freesound_id, silent_wav())
    fs.set_preview(sounds["missing"].freesound_id, None)

    run = indexing.audio_index_run(budget=budget_with(settings, clock), embed=vector_embedder)

    assert run is not None
    assert run.status == AudioIndexRun.Status.DONE
    assert (run.total, run.analysed, run.failed) == (4, 1, 3)
    got = {s.name: s for s in Sound.objects.all()}
    assert got["good"].audio_status == Status.OK
    assert vector_from_bytes(got["good"].embedding).shape == (400,)
    assert got["broken"].audio_status == Status.BROKEN
    assert got["broken"].audio_error
    assert got["silent"].audio_status == Status.SILENT
    assert "silent" in got["silent"].audio_error
    assert got["missing"].audio_status == Status.MISSING
    assert "404" in got["missing"].audio_error
    assert all(got[n].embedding is None for n in ("broken", "silent", "missing"))
    assert not any(s.removed for s in got.values())  # the sound exists: only its preview is gone


def test_a_missing_preview_is_not_rechecked_when_only_the_live_reserve_is_left(fs, settings, clock):
    settings.FREESOUND_RATE_PER_DAY = 20
    settings.FREESOUND_LIVE_RESERVE = 20
    sounds = index_sounds(fs, ["gone preview"])
    fs.set_preview(sounds["gone preview"].freesound_id, None)
    budget = budget_with(settings, clock)
    calls_before, used_before = len(fs.api_calls()), budget.used_today()

    indexing.audio_index_run(budget=budget, embed=vector_embedder)

    assert len(fs.api_calls()) == calls_before  # no request was made
    assert budget.used_today() == used_before
    sound = Sound.objects.get()
    assert sound.audio_status == Status.MISSING
    assert "kept for live searches" in sound.audio_error


def test_above_the_reserve_a_missing_preview_costs_one_request_and_finds_a_removed_sound(fs, settings, clock):
    settings.FREESOUND_LIVE_RESERVE = 10
    sounds = index_sounds(fs, ["deleted"])
    fs.remove_sound(sounds["deleted"].freesound_id)  # preview and API both answer 404 now
    calls_before = len(fs.api_calls())

    indexing.audio_index_run(budget=budget_with(settings, clock), embed=vector_embedder)

    assert len(fs.api_calls()) == calls_before + 1
    sound = Sound.objects.get()
    assert sound.removed
    assert sound.audio_status == Status.MISSING
    assert "no longer" in sound.audio_error


def test_a_run_that_dies_keeps_its_finished_batches_and_the_next_run_carries_on(fs, settings, clock):
    settings.AUDIO_INDEX_BATCH = 2
    index_sounds(fs, [f"loop {i}" for i in range(5)])
    calls = {"n": 0}

    def dies_on_second_batch(clips):
        calls["n"] += 1
        if calls["n"] == 2:
            raise MemoryError("worker killed")
        return vector_embedder(clips)

    with pytest.raises(MemoryError):
        indexing.audio_index_run(
            job_id="first", budget=budget_with(settings, clock), embed=dies_on_second_batch
        )
    assert Sound.objects.filter(audio_status=Status.OK).count() == 2
    assert AudioIndexRun.objects.get(job_id="first").status == AudioIndexRun.Status.FAILED

    run = indexing.audio_index_run(
        job_id="second", budget=budget_with(settings, clock), embed=vector_embedder
    )

    assert run is not None
    assert (run.total, run.analysed) == (3, 3)
    assert Sound.objects.filter(audio_status=Status.OK).count() == 5


def test_a_second_run_does_nothing_while_one_is_alive(fs, settings, clock):
    index_sounds(fs, ["a"])
    AudioIndexRun.objects.create(job_id="alive", heartbeat_at=timezone.now())

    assert indexing.audio_index_run(job_id="other", embed=vector_embedder) is None
    assert Sound.objects.get().audio_status == Status.PENDING


def test_new_sounds_from_a_live_search_send_the_index_job(fs, settings, django_capture_on_commit_callbacks):
    fs.add_sound("fresh loop", tags=("fresh", "loop"))
    with django_capture_on_commit_callbacks() as callbacks:
        sound_upsert_many(results=freesound.search(query="fresh", page_size=150).results)
    assert [getattr(c, "__name__", "") for c in callbacks] == ["audio_index_enqueue"]
    with django_capture_on_commit_callbacks() as again:  # nothing new: no job
        sound_upsert_many(results=freesound.search(query="fresh", page_size=150).results)
    assert again == []


def _embed_directly(sound: Sound, vector: np.ndarray) -> None:
    Sound.objects.filter(pk=sound.pk).update(
        audio_status=Status.OK,
        embedding=vector_to_bytes(vector),
        tag_vector=vector_to_bytes(np.zeros(100)),
        audio_at=timezone.now(),
    )


def test_more_like_this_sample_ranks_the_index_by_cosine(fs, settings):
    names = [f"s{i}" for i in range(14)]
    sounds = index_sounds(fs, names)
    rng = np.random.default_rng(3)
    base = rng.standard_normal(400)
    for i, name in enumerate(names):  # s1 is nearest to s0, then s2, ...
        _embed_directly(sounds[name], base + 0.15 * i * rng.standard_normal(400))
    calls_before = len(fs.api_calls())

    result = sound_similar(sound=sounds["s0"], licences=LICENCES, count=5)

    assert [s.name for s in result.sounds] == ["s1", "s2", "s3", "s4", "s5"]
    assert len(fs.api_calls()) == calls_before  # the index had enough: no request


def test_more_like_this_sample_widens_with_similar_to_where_the_index_is_thin(fs, settings):
    sounds = index_sounds(fs, ["kick one", "kick two"], tags=("kick",))
    fs.add_sound("kick three", tags=("kick", "idx-other"))
    fs.add_sound("violin", tags=("violin",))

    result = sound_similar(sound=sounds["kick one"], licences=LICENCES, count=3)

    asked = [c for c in fs.api_calls() if c.arg("similar_to")]
    assert [c.arg("similar_to") for c in asked] == [str(sounds["kick one"].freesound_id)]
    names = [s.name for s in result.sounds]
    assert names[:2] == ["kick two", "kick three"]  # most shared tags first, the sound itself left out
    assert "kick one" not in names
    assert Sound.objects.filter(name="kick three").exists()  # widened results join the index


def test_the_index_job_is_sent_to_the_background_queue(filesystem_broker):
    import json

    assert indexing.audio_index_enqueue()

    messages = [json.loads(p.read_text()) for p in sorted((filesystem_broker / "queue").iterdir())]
    assert [(m["headers"]["task"], m["properties"]["delivery_info"]["routing_key"]) for m in messages] == [
        ("samples.audio_index", "ml-background")
    ]


def queued_messages(broker: Any) -> list[tuple[str, list]]:
    import json

    messages = [json.loads(p.read_text()) for p in sorted((broker / "queue").iterdir())]
    return [(m["headers"]["task"], json.loads(base64.b64decode(m["body"]))[0]) for m in messages]


def test_the_task_does_one_batch_then_sends_the_next_for_the_same_run(
    fs, settings, clock, filesystem_broker, monkeypatch
):
    from samples.tasks import audio_index_task

    index_sounds(fs, ["one", "two", "three"])
    settings.AUDIO_INDEX_BATCH = 1
    settings.AUDIO_INDEX_TIME_LIMIT = 600.0  # the task does one batch whatever the in-process limit
    monkeypatch.setattr(indexing, "_default_embedder", vector_embedder)

    audio_index_task.apply()

    run = AudioIndexRun.objects.get()
    assert (run.status, run.analysed, run.finished_at) == (AudioIndexRun.Status.RUNNING, 1, None)
    assert Sound.objects.filter(audio_status=Status.PENDING).count() == 2
    assert queued_messages(filesystem_broker) == [("samples.audio_index", [run.pk])]


def test_the_continuations_finish_the_run_and_messages_sent_meanwhile_do_nothing(
    fs, settings, clock, filesystem_broker, monkeypatch
):
    from samples.tasks import audio_index_task

    index_sounds(fs, ["one", "two"])
    settings.AUDIO_INDEX_BATCH = 1
    monkeypatch.setattr(indexing, "_default_embedder", vector_embedder)
    audio_index_task.apply()
    run = AudioIndexRun.objects.get()

    audio_index_task.apply()  # beat's message, or a live search's, while the run is between batches
    assert AudioIndexRun.objects.count() == 1  # no second chain
    audio_index_task.apply(args=(run.pk,))  # the continuation: the last batch

    run.refresh_from_db()
    assert (run.status, run.analysed) == (AudioIndexRun.Status.DONE, 2)
    assert run.finished_at is not None
    assert queued_messages(filesystem_broker) == [("samples.audio_index", [run.pk])]  # the first one's only


def test_a_continuation_of_a_run_taken_over_ends_its_chain(fs, settings, clock):
    index_sounds(fs, ["one"])
    closed = AudioIndexRun.objects.create(job_id="old", status=AudioIndexRun.Status.STOPPED)

    assert indexing.audio_index_run(job_id="late", run_id=closed.pk, embed=vector_embedder) is None
    assert Sound.objects.get().audio_status == Status.PENDING


def test_a_run_stops_after_its_batch_when_a_song_is_waiting(fs, settings, clock, user):
    from tests.predictions.factories import PredictionFactory

    settings.AUDIO_INDEX_BATCH = 2
    index_sounds(fs, [f"loop {i}" for i in range(5)])
    PredictionFactory(owner=user, status="pending")

    run = indexing.audio_index_run(budget=budget_with(settings, clock), embed=vector_embedder)

    assert run is not None
    assert run.status == AudioIndexRun.Status.STOPPED
    assert run.analysed == 2
    assert "song" in run.message


def test_a_sound_whose_preview_changed_is_analysed_again(fs, settings, clock):
    sounds = index_sounds(fs, ["moved"])
    indexing.audio_index_run(budget=budget_with(settings, clock), embed=vector_embedder)
    assert Sound.objects.get().audio_status == Status.OK
    fs.sounds[sounds["moved"].freesound_id].user_id = 777  # Freesound's preview URL changes with it
    cache.clear()  # a fresh search, not the cached one

    sound_upsert_many(results=freesound.search(query="idx", page_size=150).results)

    assert Sound.objects.get().audio_status == Status.PENDING
