"""The audio index: every Sound's preview described by the backbone (embedding and tags), kept in
the database, and the nearest neighbours of a sound ("More like this sample").

The job (`samples.audio_index`, queue `ml-background`, which ML workers take only when `ml` has no
song waiting) works through the sounds whose `audio_status` is pending, AUDIO_INDEX_BATCH at a
time, one batch per message, each message sending the next: download the previews through the
guarded downloader, decode them, run the backbone once per batch, store each sound's vectors or a
status that says what was wrong with its preview (broken, silent, missing, unreachable). Results are
committed per batch, so a run that dies loses at most one batch and the next run carries on.

Freesound: previews are files on its CDN, not API requests; they are fetched one at a time at most
every AUDIO_INDEX_PREVIEW_INTERVAL seconds. The only API request the job may make is re-reading a
sound whose preview answers 404 (its URL may have changed), and only while more than
FREESOUND_LIVE_RESERVE of today's requests would be left for live searches; below that the sound is
marked missing without asking.
"""

from __future__ import annotations

import logging
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.jobs import heartbeat_stopped, task_send
from predictions.models import Prediction
from worker.backbone.embed import EMBEDDING_DIM

from . import freesound
from .audio_index import VectorIndex, vector_from_bytes, vector_to_bytes
from .budget import FreesoundBudget, default_budget
from .downloads import PreviewError, PreviewMissing, preview_fetch
from .freesound import FreesoundError, NotFound
from .models import AudioIndexRun, Sound
from .similarity import SoundVectors

log = logging.getLogger(__name__)

AUDIO_INDEX_TASK = "samples.audio_index"
MAX_ATTEMPTS = 3  # an unreachable preview is tried in this many runs before it is given up
Status = Sound.AudioStatus

# (clips) -> [(embedding, tags)]: worker.backbone.embed.embed_clips with the process's backbone.
Embedder = Callable[[Sequence[np.ndarray]], list[tuple[np.ndarray, np.ndarray]]]


def _default_embedder(clips: Sequence[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
    from worker.backbone.embed import embed_clips

    return [(v.embedding, v.tags) for v in embed_clips(clips)]


def _decode(data: bytes) -> np.ndarray:
    from worker.backbone.embed import decode_clip

    with tempfile.NamedTemporaryFile(suffix=".preview") as tmp:
        Path(tmp.name).write_bytes(data)
        return decode_clip(tmp.name)


# --- Kicking the job --------------------------------------------------------------------------------


def audio_index_enqueue(run_id: int | None = None) -> bool:
    """Send the job (routed to `ml-background`), or with `run_id` the next batch of that run; a
    broker outage only delays it until beat sends it again."""
    args = () if run_id is None else (run_id,)
    return task_send(AUDIO_INDEX_TASK, *args, waiting="the audio index waits for beat")


def audio_index_kick() -> None:
    """New sounds arrived (a live search): index them soon, once the transaction commits."""
    if settings.AUDIO_INDEX_ENABLED:
        transaction.on_commit(audio_index_enqueue, robust=True)


# --- The job ------------------------------------------------------------------------------------------


@dataclass
class _Outcome:
    status: str
    error: str = ""
    clip: np.ndarray | None = None


def _pending() -> Q:
    return Q(audio_status=Status.PENDING, removed=False)


def audio_index_claim(*, job_id: str, worker: str = "", now: datetime | None = None) -> AudioIndexRun | None:
    """A new run, unless another one is alive (its heartbeat is fresh). A run whose worker died is
    closed as stopped: its finished batches are kept, the rest is still pending."""
    now = now or timezone.now()
    with transaction.atomic():
        running = AudioIndexRun.objects.select_for_update().filter(status=AudioIndexRun.Status.RUNNING)
        if running.exclude(heartbeat_stopped(now)).exclude(job_id=job_id).exists():
            return None
        running.update(
            status=AudioIndexRun.Status.STOPPED, message="Its worker stopped; carried on by a later run.",
            finished_at=now,
        )  # fmt: skip
        return AudioIndexRun.objects.create(
            job_id=job_id,
            worker=worker[:200],
            total=Sound.objects.filter(_pending()).count(),
            attempts=1,
            started_at=now,
            heartbeat_at=now,
        )


def audio_index_resume(*, run_id: int, job_id: str) -> AudioIndexRun | None:
    """The run a continuation carries on, unless a later run has closed it (its heartbeat had
    stopped while the continuation waited): then that run goes on, and this chain ends."""
    now = timezone.now()
    running = AudioIndexRun.objects.filter(pk=run_id, status=AudioIndexRun.Status.RUNNING)
    if not running.update(job_id=job_id, heartbeat_at=now):
        return None
    return AudioIndexRun.objects.get(pk=run_id)


def audio_index_run(
    *,
    job_id: str = "",
    worker: str = "",
    run_id: int | None = None,
    budget: FreesoundBudget | None = None,
    embed: Embedder | None = None,
    time_limit: float | None = None,
    carry_on: bool = False,
) -> AudioIndexRun | None:
    """Index pending sounds until none are left or `time_limit` seconds have passed. None when
    another run is alive or the index is turned off.

    carry_on (the task): a run stopped by its time limit with sounds left stays running, for the
    continuation the task sends (with `run_id`), so beat's or a search's message meanwhile finds
    it alive instead of starting a second chain."""
    if not settings.AUDIO_INDEX_ENABLED:
        return None
    job_id = job_id or f"local-{time.time_ns()}"
    if run_id:
        run = audio_index_resume(run_id=run_id, job_id=job_id)
    else:
        run = audio_index_claim(job_id=job_id, worker=worker)
    if run is None:
        return None
    budget = budget or default_budget()
    embed = embed or _default_embedder
    limit = settings.AUDIO_INDEX_TIME_LIMIT if time_limit is None else time_limit
    started, tried = time.monotonic(), set[int]()
    try:
        while True:  # at least one batch per run, so every run makes progress
            batch = list(
                Sound.objects.filter(_pending())
                .exclude(pk__in=tried)
                .order_by("pk")[: settings.AUDIO_INDEX_BATCH]
            )
            if not batch:
                break
            tried |= {s.pk for s in batch}
            analysed, failed = _index_batch(batch, budget=budget, embed=embed)
            run.analysed += analysed
            run.failed += failed
            run.heartbeat_at = timezone.now()
            run.save(update_fields=["analysed", "failed", "heartbeat_at"])
            if time.monotonic() - started >= limit or _songs_waiting():
                break
        left = Sound.objects.filter(_pending()).exclude(pk__in=tried).exists()
        if left and carry_on:
            run.message = "Between batches: the next one is queued behind any song."
        elif left:
            run.status = AudioIndexRun.Status.STOPPED
            run.message = "Stopped for a song or at its time limit; the next run carries on."
        else:
            run.status, run.message = AudioIndexRun.Status.DONE, ""
    except Exception as exc:
        run.status, run.message = AudioIndexRun.Status.FAILED, f"{type(exc).__name__}: {exc}"[:300]
        raise
    finally:
        run.finished_at = None if run.status == AudioIndexRun.Status.RUNNING else timezone.now()
        run.save(update_fields=["status", "message", "finished_at"])
    return run


def _songs_waiting() -> bool:
    """A user's song is queued: the ML worker is theirs first. The run stops after its batch and
    sends itself again, behind the song's job on the `ml` queue."""
    return Prediction.objects.filter(status=Prediction.Status.PENDING).exists()


def _index_batch(batch: list[Sound], *, budget: FreesoundBudget, embed: Embedder) -> tuple[int, int]:
    outcomes = {sound.pk: _fetch_and_decode(sound, budget=budget) for sound in batch}
    clips = {pk: o.clip for pk, o in outcomes.items() if o.clip is not None}
    vectors = dict(zip(clips, embed(list(clips.values())), strict=True)) if clips else {}
    now = timezone.now()
    analysed = failed = 0
    with transaction.atomic():
        for sound in batch:
            outcome = outcomes[sound.pk]
            fields: dict[str, object] = {"audio_at": now, "audio_error": outcome.error[:200]}
            if sound.pk in vectors:
                embedding, tags = vectors[sound.pk]
                fields |= {
                    "audio_status": Status.OK,
                    "embedding": vector_to_bytes(embedding),
                    "tag_vector": vector_to_bytes(tags),
                }
                analysed += 1
            elif outcome.status == Status.PENDING:  # unreachable this time: try again in a later run
                attempts = sound.audio_attempts + 1
                fields |= {"audio_attempts": attempts}
                if attempts >= MAX_ATTEMPTS:
                    fields |= {"audio_status": Status.UNREACHABLE}
                    failed += 1
            else:
                fields |= {"audio_status": outcome.status, "embedding": None, "tag_vector": None}
                failed += 1
            Sound.objects.filter(pk=sound.pk).update(**fields)
    return analysed, failed


def _fetch_and_decode(sound: Sound, *, budget: FreesoundBudget) -> _Outcome:
    from worker.audio.decode import AudioError, SilentAudioError

    _polite_pause()
    try:
        data = _fetch(sound, budget=budget)
    except PreviewMissing:
        return _Outcome(Status.MISSING, "The preview answered 404.")
    except _Gone:
        return _Outcome(Status.MISSING, "Freesound no longer has this sound.")
    except _NotChecked:
        return _Outcome(
            Status.MISSING, "The preview answered 404; not re-checked (requests are kept for live searches)."
        )
    except (PreviewError, FreesoundError) as exc:
        return _Outcome(Status.PENDING, f"Could not fetch the preview: {exc}")
    try:
        return _Outcome(Status.OK, clip=_decode(data))
    except SilentAudioError as exc:
        return _Outcome(Status.SILENT, str(exc))
    except AudioError as exc:
        return _Outcome(Status.BROKEN, str(exc))


class _Gone(Exception):
    pass


class _NotChecked(Exception):
    pass


def _fetch(sound: Sound, *, budget: FreesoundBudget) -> bytes:
    """The preview's bytes. On 404, re-read the sound (one API request) only above the reserve."""
    try:
        return preview_fetch(url=sound.preview_url)
    except PreviewMissing:
        if budget.remaining_today() - 1 < settings.FREESOUND_LIVE_RESERVE:
            raise _NotChecked from None
        try:
            fresh = freesound.sound_get(sound_id=sound.freesound_id, budget=budget)
        except NotFound:
            # seen_at too (update() skips auto_now): the library's facet cache is keyed by it.
            Sound.objects.filter(pk=sound.pk).update(removed=True, seen_at=timezone.now())
            raise _Gone from None
        if not fresh.preview_hq_mp3 or fresh.preview_hq_mp3 == sound.preview_url:
            raise
        Sound.objects.filter(pk=sound.pk).update(preview_url=fresh.preview_hq_mp3)
        return preview_fetch(url=fresh.preview_hq_mp3)


_last_fetch = 0.0


def _polite_pause() -> None:
    global _last_fetch
    wait = settings.AUDIO_INDEX_PREVIEW_INTERVAL - (time.monotonic() - _last_fetch)
    if wait > 0:
        time.sleep(wait)
    _last_fetch = time.monotonic()


# --- Reading vectors -----------------------------------------------------------------------------------


def sound_vectors(freesound_ids: Sequence[int]) -> dict[int, SoundVectors]:
    """The stored vectors of those sounds that have them (a damaged value counts as none)."""
    rows = Sound.objects.filter(freesound_id__in=freesound_ids, audio_status=Status.OK).values_list(
        "freesound_id", "embedding", "tag_vector"
    )
    out = {}
    for fid, emb, tags in rows:
        embedding, tag_vector = vector_from_bytes(emb), vector_from_bytes(tags)
        if embedding is not None and tag_vector is not None:
            out[fid] = SoundVectors(embedding, tag_vector)
    return out


# --- The in-process nearest-neighbour index ---------------------------------------------------------


class _ProcessIndex:
    """All analysed sounds' embeddings in memory: loaded from the database the first time a process
    needs it (a worker or web process that starts rebuilds it), then caught up incrementally with
    the sounds analysed since (`audio_at` past the last one seen) on every query."""

    def __init__(self) -> None:
        self.index = VectorIndex(EMBEDDING_DIM)
        self.seen_until: datetime | None = None
        self.lock = threading.Lock()

    def refresh(self) -> VectorIndex:
        with self.lock:
            rows = Sound.objects.filter(audio_status=Status.OK, removed=False)
            if self.seen_until is not None:
                rows = rows.filter(audio_at__gte=self.seen_until)
            keys, vectors, latest = [], [], self.seen_until
            for fid, emb, at in rows.values_list("freesound_id", "embedding", "audio_at").iterator(
                chunk_size=2000
            ):
                vector = vector_from_bytes(emb)
                if vector is not None and vector.shape == (EMBEDDING_DIM,):
                    keys.append(fid)
                    vectors.append(vector)
                latest = at if latest is None or (at is not None and at > latest) else latest
            if keys:
                self.index.add_many(keys, np.stack(vectors))
            self.seen_until = latest
            return self.index


_process_index = _ProcessIndex()


def process_index() -> VectorIndex:
    return _process_index.refresh()


def process_index_reset() -> None:
    """Forget the in-memory index (tests; a worker that wants a full rebuild)."""
    global _process_index
    _process_index = _ProcessIndex()
