"""Samples in the song's tempo and key: the song's grid (the user's corrected tempo and key when
there are some), the plan for one sample, and the cached Rubber Band renders (one row and one WAV
per sound, tempo, semitones and source), rendered by a task on the I/O queue. A user with a
Freesound account connected gets renders of the original file; everyone else of the preview."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from celery import signature as signature_of
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from core.jobs import job_claim, job_fail, job_finish
from predictions.models import Prediction
from worker.music.conform import ConformPlan, conform_plan

from ..downloads import PreviewError, PreviewMissing, preview_fetch
from ..freesound import FreesoundError
from ..freesound_oauth import account_connected
from ..models import ConformedRender, Sound
from ..originals import original_get
from ..zips import ConformedFile, daw_filename
from .rendering import Rendered, RenderError, render, rubberband_available

log = logging.getLogger(__name__)

RENDER_TASK = "samples.render_conformed"
NO_RUBBERBAND = "Conforming is off: this server lacks Rubber Band (the rubberband-cli package)."


# --- The song -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SongGrid:
    """The song's tempo, key and beats as the rest of the site should use them."""

    tempo_bpm: float | None
    key: str
    beat_times: list[float] = field(default_factory=list)
    beats_measured: bool = False  # False: the grid is laid from the tempo alone
    tempo_by_user: bool = False
    key_by_user: bool = False


def song_grid(prediction: Prediction) -> SongGrid:
    """The song's tempo and key as the site uses them (the user's correction, else the estimate).
    The beat times are the analysis' when they agree with that tempo; otherwise (none stored, or the
    user set another tempo) the grid is laid from the tempo, from the first measured beat."""
    tempo = prediction.song_tempo_bpm
    measured = [float(t) for t in prediction.beat_times or [] if _is_number(t)]
    beats, from_analysis = measured, len(measured) >= 4
    if from_analysis and tempo:
        median_gap = sorted(b - a for a, b in zip(measured, measured[1:], strict=False))[
            len(measured) // 2 - 1
        ]
        from_analysis = median_gap > 0 and abs(60.0 / median_gap / tempo - 1) < 0.04
    if not from_analysis:
        beats = tempo_grid(tempo, start=measured[0] if measured else 0.0) if tempo else []
    return SongGrid(
        tempo_bpm=float(tempo) if tempo else None,
        key=prediction.song_key or "",
        beat_times=[round(b, 4) for b in beats],
        beats_measured=from_analysis,
        tempo_by_user=prediction.user_tempo_bpm is not None,
        key_by_user=bool(prediction.user_key),
    )


def tempo_grid(tempo_bpm: float, *, start: float = 0.0, length_s: float | None = None) -> list[float]:
    """Evenly spaced beats over the excerpt (30 s unless told)."""
    length = length_s if length_s is not None else settings.CONFORM_SONG_EXCERPT_S
    step = 60.0 / tempo_bpm
    count = int((length - start) / step) + 1
    return [start + i * step for i in range(max(count, 0))]


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and value >= 0


# --- The plan for one sample -----------------------------------------------------------------------------


def plan_for(*, sound: Sound, grid: SongGrid) -> ConformPlan:
    return conform_plan(
        sample_bpm=float(sound.bpm) if sound.bpm else None,
        sample_key=sound.key,
        duration_s=sound.duration,
        song_bpm=grid.tempo_bpm,
        song_key=grid.key,
    )


def conforming_disabled_reason() -> str:
    """ "" when renders can be made; else why not, for the page."""
    return "" if rubberband_available() else NO_RUBBERBAND


# --- File names producers can sort by -----------------------------------------------------------------


def original_filename(sound: Sound) -> str:
    return daw_filename(name=sound.name, bpm=sound.bpm, key=sound.key, suffix="mp3")


def conformed_filename(sound: Sound, plan: ConformPlan) -> str:
    key = plan.target_key.name if plan.target_key else sound.key
    return daw_filename(name=sound.name, bpm=plan.bpm_label, key=key, suffix="wav", conformed=True)


# --- Renders ----------------------------------------------------------------------------------------------


def _render_key(plan: ConformPlan) -> tuple[Decimal, int]:
    tempo = Decimal(str(plan.target_bpm)).quantize(Decimal("0.01")) if plan.target_bpm else Decimal("0.00")
    return tempo, plan.semitones


def render_source(user: User | None) -> str:
    """What a user's renders are made from: the original with a Freesound account, else the preview."""
    if user is not None and account_connected(user=user):
        return ConformedRender.Source.ORIGINAL
    return ConformedRender.Source.PREVIEW


def render_find(*, sound: Sound, plan: ConformPlan, user: User | None = None) -> ConformedRender | None:
    tempo, semitones = _render_key(plan)
    return ConformedRender.objects.filter(
        sound=sound, target_bpm=tempo, semitones=semitones, source=render_source(user)
    ).first()


def render_request(*, sound: Sound, plan: ConformPlan, user: User | None = None) -> ConformedRender:
    """The render for this plan: the cached one when it is ready (or on its way), else a new job.
    A failed one is tried again; one whose message was lost, or whose worker died, is sent again.
    Made from the original when `user` has a Freesound account connected (their token fetches it)."""
    tempo, semitones = _render_key(plan)
    key = {"sound": sound, "target_bpm": tempo, "semitones": semitones, "source": render_source(user)}
    try:
        render_row, created = ConformedRender.objects.get_or_create(
            **key, defaults={"source_bpm": plan.source_bpm if plan.target_bpm else None}
        )
    except IntegrityError:  # two requests raced to create it: the other one won
        render_row, created = ConformedRender.objects.get(**key), False
    if created or _needs_sending(render_row):
        _send(render_row, user_id=user.pk if user is not None else None)
    return render_row


def _needs_sending(row: ConformedRender) -> bool:
    now = timezone.now()
    if row.status == ConformedRender.Status.FAILED:
        return True
    if row.status == ConformedRender.Status.DONE:
        return not (row.file and row.file.storage.exists(row.file.name))
    if row.status == ConformedRender.Status.PENDING:
        return row.queued_at is None or row.queued_at < now - timedelta(seconds=settings.CONFORM_RESEND_AFTER)
    stale = timedelta(seconds=settings.CONFORM_TIME_LIMIT + 60)
    return row.started_at is None or row.started_at < now - stale


def _send(row: ConformedRender, *, user_id: int | None = None) -> None:
    ConformedRender.objects.filter(pk=row.pk).update(
        status=ConformedRender.Status.PENDING, error="", queued_at=timezone.now(), started_at=None
    )
    row.refresh_from_db()
    # A render of the original needs the asking user's Freesound account (unless it is cached).
    kwargs = {"user_id": user_id} if row.source == ConformedRender.Source.ORIGINAL and user_id else {}
    transaction.on_commit(signature_of(RENDER_TASK, args=[row.pk], kwargs=kwargs).apply_async, robust=True)


def render_run(*, render_id: int, job_id: str = "", user_id: int | None = None) -> None:
    """The worker's job: claim the row (a redelivered message finds it taken), fetch the preview
    (or the original, with user `user_id`'s Freesound account), render, keep the WAV (only while
    this job still holds the row)."""
    job_id = job_id or f"local-{render_id}"
    rows = ConformedRender.objects.filter(pk=render_id)
    if not job_claim(rows, job_id=job_id):
        return
    row = ConformedRender.objects.select_related("sound").get(pk=render_id)
    try:
        rendered = _render_row(row, user_id=user_id)
    except RenderError as exc:
        job_fail(rows, job_id=job_id, message=str(exc))
        return
    row.file.save(
        f"{row.sound.freesound_id}-{row.target_bpm}-{row.semitones:+d}.wav",
        ContentFile(rendered.wav),
        save=False,
    )
    done = job_finish(
        rows,
        job_id=job_id,
        file=row.file.name,
        duration_s=rendered.duration_s,
        time_ratio=rendered.time_ratio,
        render_seconds=rendered.seconds,
    )
    if not done:
        row.file.storage.delete(row.file.name)  # sent again meanwhile: the new job renders it


def _render_row(row: ConformedRender, *, user_id: int | None = None) -> Rendered:
    if not rubberband_available() and (row.semitones or row.target_bpm):
        raise RenderError(NO_RUBBERBAND)
    if row.sound.duration > settings.CONFORM_MAX_SECONDS:
        raise RenderError(
            f"The sample is {row.sound.duration:.0f} s long; only samples up to "
            f"{settings.CONFORM_MAX_SECONDS:.0f} s are conformed."
        )
    if row.source == ConformedRender.Source.ORIGINAL:
        data = _original_bytes(row.sound, user_id=user_id)
    else:
        data = _preview_bytes(row.sound)
    return render(
        data,
        source_bpm=row.source_bpm,
        target_bpm=float(row.target_bpm) or None,
        semitones=row.semitones,
        max_source_s=settings.CONFORM_MAX_SECONDS,
    )


def _original_bytes(sound: Sound, *, user_id: int | None) -> bytes:
    user = User.objects.filter(pk=user_id).first() if user_id else None
    if user is None:
        raise RenderError("The original needs a Freesound account; ask for the render again.")
    try:
        original = original_get(sound=sound, user=user)
    except FreesoundError as exc:
        raise RenderError(f"The original could not be had from Freesound: {exc}") from exc
    with original.file.open("rb") as handle:
        return handle.read()


def _preview_bytes(sound: Sound) -> bytes:
    try:
        return preview_fetch(url=sound.preview_url)
    except PreviewMissing as exc:
        raise RenderError("Freesound no longer has this sound's preview.") from exc
    except PreviewError as exc:
        raise RenderError("Freesound's preview could not be downloaded; try again in a minute.") from exc


def render_fail(*, render_id: int, message: str) -> None:
    job_fail(ConformedRender.objects.filter(pk=render_id), message=message)


def render_state(row: ConformedRender | None) -> dict[str, object]:
    """What the page's player needs to know about a render, as JSON-ready values."""
    if row is None:
        return {"status": "none"}
    state: dict[str, object] = {"status": row.status, "label": row.get_status_display(), "error": row.error}
    if row.status == ConformedRender.Status.DONE and row.file:
        state["duration"] = row.duration_s
        if row.target_bpm and row.duration_s:
            state["loop_beats"] = max(1, round(row.duration_s * float(row.target_bpm) / 60.0))
    return state


def render_now(*, sound: Sound, plan: ConformPlan, user: User | None = None) -> ConformedRender:
    """The render for this plan, made here and now when it is not ready (for callers already on
    an I/O worker, such as the pack ZIP build): the cached one is reused. From the original when
    `user` has a Freesound account connected."""
    tempo, semitones = _render_key(plan)
    row, _ = ConformedRender.objects.get_or_create(
        sound=sound,
        target_bpm=tempo,
        semitones=semitones,
        source=render_source(user),
        defaults={"source_bpm": plan.source_bpm if plan.target_bpm else None},
    )
    if row.status == ConformedRender.Status.DONE and row.file and row.file.storage.exists(row.file.name):
        return row
    ConformedRender.objects.filter(pk=row.pk).update(status=ConformedRender.Status.PENDING, error="")
    render_run(render_id=row.pk, user_id=user.pk if user is not None else None)
    row.refresh_from_db()
    return row


def conformed_file(*, sound: Sound, grid: SongGrid, user: User | None = None) -> ConformedFile:
    """One sound of a pack ZIP, conformed to the song: its WAV, or why there is none (rendered
    from the original when `user`, the pack's owner, has a Freesound account connected)."""
    plan = plan_for(sound=sound, grid=grid)
    row = render_now(sound=sound, plan=plan, user=user)
    filename = conformed_filename(sound, plan)
    target_key = plan.target_key.name if plan.target_key else sound.key
    if row.status != ConformedRender.Status.DONE:
        return ConformedFile(filename, None, plan.describe(), error=row.error or "the render failed")
    with row.file.open("rb") as handle:
        data = handle.read()
    return ConformedFile(filename, data, plan.describe(), plan.bpm_label, target_key, plan.semitones)
