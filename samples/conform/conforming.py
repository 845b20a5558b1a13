"""Samples in the song's tempo and key: the song's grid (the user's corrected tempo and key when
there are some), the plan for one sample, and the cached Rubber Band renders (one row and one WAV
per sound, its tempo, target tempo, semitones and source), rendered by a task on the `renders`
queue, or in a pack ZIP's build. A user with a Freesound account connected gets renders of the
original file; everyone else of the preview. Every path checks the same limits (output_refusal) and
counts the bytes it writes against the asking user's quota (samples.quota)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from celery import signature as signature_of
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from core.jobs import job_claim, job_fail, job_finish
from predictions.models import Prediction, stored_seconds
from worker.music.conform import ConformPlan, conform_plan

from ..downloads import PreviewError, PreviewMissing, preview_fetch
from ..freesound import FreesoundError
from ..freesound_oauth import account_connected
from ..models import ConformedRender, Sound
from ..originals import original_get
from ..quota import QUOTA_USED_UP, quota_charge, quota_left
from ..zips import ConformedFile, daw_filename
from .rendering import (
    SAMPLE_RATE,
    Rendered,
    RenderError,
    fitted_ratio,
    render,
    rubberband_available,
    wav_repeated,
)

log = logging.getLogger(__name__)

RENDER_TASK = "samples.render_conformed"
NO_RUBBERBAND = "Conforming is off: this server lacks Rubber Band (the rubberband-cli package)."


# --- The song -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SongGrid:
    """The song's tempo, key, beats and bar as the rest of the site should use them."""

    tempo_bpm: float | None
    key: str
    beat_times: list[float] = field(default_factory=list)
    beats_measured: bool = False  # False: the grid is laid from the tempo alone
    tempo_by_user: bool = False
    key_by_user: bool = False
    # The bar (issue 24): each bar's "1" on this grid, and its beats; empty / None when unknown, and
    # then loops start on the grid's first beat.
    downbeat_times: list[float] = field(default_factory=list)
    beats_per_bar: int | None = None

    @property
    def first_downbeat(self) -> float | None:
        return self.downbeat_times[0] if self.downbeat_times else None

    def as_json(self) -> dict[str, object]:
        """What the sample browser reads (data-song-grid)."""
        return {
            "tempo": self.tempo_bpm,
            "key": self.key,
            "beats": self.beat_times,
            "measured": self.beats_measured,
            "downbeats": self.downbeat_times,
            "beats_per_bar": self.beats_per_bar,
        }


def song_grid(prediction: Prediction) -> SongGrid:
    """The song's tempo and key as the site uses them (the user's correction, else the estimate).
    The beat times and downbeats are the analysis' when its beats agree with that tempo; otherwise
    (none stored, or the user set another tempo) the grid is laid from the tempo, from the first
    measured downbeat (else the first measured beat), and keeps the analysis' beats per bar."""
    tempo = prediction.song_tempo_bpm
    measured = stored_seconds(prediction.beat_times)
    downbeats = stored_seconds(prediction.downbeat_times)
    per_bar = prediction.beats_per_bar or None
    beats, from_analysis = measured, len(measured) >= 4
    if from_analysis and tempo:
        median_gap = sorted(b - a for a, b in zip(measured, measured[1:], strict=False))[
            len(measured) // 2 - 1
        ]
        from_analysis = median_gap > 0 and abs(60.0 / median_gap / tempo - 1) < 0.04
    if not from_analysis:
        start = downbeats[0] if downbeats else measured[0] if measured else 0.0
        beats = tempo_grid(tempo, start=start) if tempo else []
        downbeats = _laid_downbeats(beats, per_bar) if downbeats else []
    return SongGrid(
        tempo_bpm=float(tempo) if tempo else None,
        key=prediction.song_key or "",
        beat_times=[round(b, 4) for b in beats],
        beats_measured=from_analysis,
        tempo_by_user=prediction.user_tempo_bpm is not None,
        key_by_user=bool(prediction.user_key),
        downbeat_times=[round(d, 4) for d in downbeats],
        beats_per_bar=per_bar,
    )


def _laid_downbeats(beats: list[float], per_bar: int | None) -> list[float]:
    """A laid grid's downbeats: its first beat (laid from the measured "1"), then every bar's first
    beat when the bar's length is known."""
    if not beats:
        return []
    return beats[::per_bar] if per_bar else beats[:1]


def tempo_grid(tempo_bpm: float, *, start: float = 0.0, length_s: float | None = None) -> list[float]:
    """Evenly spaced beats over the excerpt (30 s unless told)."""
    length = length_s if length_s is not None else settings.CONFORM_SONG_EXCERPT_S
    step = 60.0 / tempo_bpm
    count = int((length - start) / step) + 1
    return [start + i * step for i in range(max(count, 0))]


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


# --- What may be rendered ----------------------------------------------------------------------------

# A 16-bit WAV's bytes per second of audio, at most (two channels): what a render's size is bounded by.
WAV_BYTES_PER_SECOND = SAMPLE_RATE * 2 * 2


def output_refusal(*, length_s: float, time_ratio: float) -> str:
    """Why a render of a `length_s` seconds sample stretched by `time_ratio` (new length / old
    length) is not made, or "" when it may be: the one rule for every path (the page, the render
    task after decoding, a pack ZIP)."""
    if length_s > settings.CONFORM_MAX_SECONDS:
        return (
            f"The sample is {length_s:.0f} s long; only samples up to "
            f"{settings.CONFORM_MAX_SECONDS:.0f} s are conformed."
        )
    if not settings.CONFORM_MIN_RATIO <= time_ratio <= settings.CONFORM_MAX_RATIO:
        return (
            f"Fitting this sample to the song would stretch it {time_ratio:.2f}×; only stretches between "
            f"{settings.CONFORM_MIN_RATIO:g}× and {settings.CONFORM_MAX_RATIO:g}× are made."
        )
    output_s = length_s * time_ratio
    if _output_too_long(output_s):
        return (
            f"The render would last {output_s:.0f} s; renders are made up to "
            f"{settings.CONFORM_MAX_OUTPUT_SECONDS:.0f} s "
            f"({settings.CONFORM_MAX_OUTPUT_BYTES / 1_000_000:.0f} MB)."
        )
    return ""


def _output_too_long(output_s: float) -> bool:
    return (
        output_s > settings.CONFORM_MAX_OUTPUT_SECONDS
        or output_s * WAV_BYTES_PER_SECOND > settings.CONFORM_MAX_OUTPUT_BYTES
    )


def render_refusal(*, sound: Sound, plan: ConformPlan) -> str:
    """Why this plan is not rendered, or "": output_refusal on the sound's listed length."""
    return output_refusal(length_s=sound.duration, time_ratio=plan.time_ratio(sound.duration))


# --- Whole bars -------------------------------------------------------------------------------------------

# A conformed download is played end to end at most this many times to last a whole number of bars.
MAX_BAR_REPEATS = 8


@dataclass(frozen=True)
class BarFill:
    """How a conformed loop is downloaded so that, dropped at bar 1 of a DAW and looped there, it
    starts on a "1" every time round: played `repeats` times end to end, it lasts `bars` bars of
    `beats_per_bar` of the song's beats. One play (repeats 1, bars None) when the bar is unknown,
    for a one-shot, or when the whole bars would pass the render limits."""

    repeats: int = 1
    bars: int | None = None
    beats_per_bar: int | None = None

    @property
    def words(self) -> str:
        """ "played 2× to last 3 bars of 4 beats", "2 bars of 4 beats", or "" when unknown."""
        if self.bars is None:
            return ""
        bars = f"{self.bars} bar{'s' if self.bars != 1 else ''} of {self.beats_per_bar} beats"
        return f"played {self.repeats}× to last {bars}" if self.repeats > 1 else bars


def song_beats_per_loop_beat(*, song_bpm: float, target_bpm: float) -> Fraction:
    """A loop stretched to the song's tempo, or to its half or double (conform_plan), lasts ½, 1 or
    2 song beats per beat of its own."""
    ratio = song_bpm / target_bpm
    return min((Fraction(1, 2), Fraction(1), Fraction(2)), key=lambda r: abs(float(r) / ratio - 1))


def bar_fill(*, plan: ConformPlan, grid: SongGrid, loop_s: float | None = None) -> BarFill:
    """How many times the loop is played end to end to last a whole number of the song's bars (the
    fewest), and how many bars that is. `loop_s`, the render's length, bounds it by the render
    limits (CONFORM_MAX_OUTPUT_SECONDS and _BYTES)."""
    per_bar = grid.beats_per_bar
    if not per_bar or not grid.tempo_bpm or plan.target_bpm is None or plan.beats is None:
        return BarFill()
    song_beats = plan.beats * song_beats_per_loop_beat(song_bpm=grid.tempo_bpm, target_bpm=plan.target_bpm)
    repeats = (song_beats / per_bar).denominator
    output_s = (loop_s or 0.0) * repeats
    if repeats > MAX_BAR_REPEATS or _output_too_long(output_s):
        return BarFill()
    return BarFill(repeats, int(song_beats * repeats / per_bar), per_bar)


# --- Renders ----------------------------------------------------------------------------------------------

# A render last used longer ago than this is touched again when used (fewer writes for the expiry's clock).
TOUCH_EVERY = timedelta(hours=1)


def _decimal(bpm: float | None) -> Decimal:
    return Decimal(str(bpm)).quantize(Decimal("0.01")) if bpm else Decimal("0.00")


def _render_key(plan: ConformPlan) -> dict[str, Any]:
    """The cache key: the sound's tempo is in it (a tempo Freesound corrects needs a new render),
    and is 0 when the timing is kept."""
    return {
        "source_bpm": _decimal(plan.source_bpm if plan.target_bpm else None),
        "target_bpm": _decimal(plan.target_bpm),
        "semitones": plan.semitones,
    }


def render_source(user: User | None) -> str:
    """What a user's renders are made from: the original with a Freesound account, else the preview."""
    if user is not None and account_connected(user=user):
        return ConformedRender.Source.ORIGINAL
    return ConformedRender.Source.PREVIEW


def _user_id(user: User | None) -> int | None:
    return user.pk if user is not None else None


def render_find(*, sound: Sound, plan: ConformPlan, user: User | None = None) -> ConformedRender | None:
    return ConformedRender.objects.filter(
        sound=sound, source=render_source(user), **_render_key(plan)
    ).first()


def render_touch(row: ConformedRender) -> None:
    """Note that the render was used (played, downloaded, reused), for the expiry's LRU order."""
    now = timezone.now()
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - TOUCH_EVERY)
    ConformedRender.objects.filter(stale, pk=row.pk).update(last_used_at=now)


def render_is_ready(row: ConformedRender | None) -> bool:
    return (
        row is not None
        and row.status == ConformedRender.Status.DONE
        and bool(row.file)
        and row.file.storage.exists(row.file.name)
    )


def render_needs_work(row: ConformedRender | None) -> bool:
    """Whether asking for this render would send a job (what the throttle and the quota count)."""
    return row is None or _needs_sending(row)


def _get_or_create(*, sound: Sound, plan: ConformPlan, source: str) -> tuple[ConformedRender, bool]:
    key = {"sound": sound, "source": source, **_render_key(plan)}
    try:
        return ConformedRender.objects.get_or_create(**key)
    except IntegrityError:  # two requests raced to create it: the other one won
        return ConformedRender.objects.get(**key), False


def render_request(*, sound: Sound, plan: ConformPlan, user: User | None = None) -> ConformedRender:
    """The render for this plan: the cached one when it is ready (or on its way), else a new job,
    whose bytes count against `user`'s quota. A failed one is tried again; one whose message was
    lost, or whose worker died, is sent again. Made from the original when `user` has a Freesound
    account connected (their token fetches it). The caller checks render_refusal first."""
    render_row, created = _get_or_create(sound=sound, plan=plan, source=render_source(user))
    if created or _needs_sending(render_row):
        _send(render_row, user_id=_user_id(user))
    elif render_row.status == ConformedRender.Status.DONE:
        render_touch(render_row)
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


def _send(row: ConformedRender, *, user_id: int | None) -> None:
    ConformedRender.objects.filter(pk=row.pk).update(
        status=ConformedRender.Status.PENDING, error="", queued_at=timezone.now(), started_at=None
    )
    row.refresh_from_db()
    # The asking user: whose quota the bytes count against, and whose Freesound account fetches
    # the original for a render of one.
    transaction.on_commit(signature_of(RENDER_TASK, args=[row.pk, user_id]).apply_async, robust=True)


def render_run(*, render_id: int, job_id: str = "", user_id: int | None = None) -> None:
    """The worker's job: claim the row (a redelivered message finds it taken), fetch the preview
    (or the original, with user `user_id`'s Freesound account), render, keep the WAV (only while
    this job still holds the row), and count its bytes against the quota of the user who asked."""
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
        size_bytes=len(rendered.wav),
        last_used_at=timezone.now(),
    )
    quota_charge(user_id=user_id, size=len(rendered.wav))
    if not done:
        row.file.storage.delete(row.file.name)  # sent again meanwhile: the new job renders it


def _render_row(row: ConformedRender, *, user_id: int | None = None) -> Rendered:
    if not rubberband_available() and (row.semitones or row.target_bpm):
        raise RenderError(NO_RUBBERBAND)
    source_bpm, target_bpm = float(row.source_bpm) or None, float(row.target_bpm) or None
    # The plan's check on the listed length first, so a refused render fetches nothing.
    listed_ratio = fitted_ratio(row.sound.duration, source_bpm=source_bpm, target_bpm=target_bpm)
    if refusal := output_refusal(length_s=row.sound.duration, time_ratio=listed_ratio):
        raise RenderError(refusal)
    if row.source == ConformedRender.Source.ORIGINAL:
        data = _original_bytes(row.sound, user_id=user_id)
    else:
        data = _preview_bytes(row.sound)
    # Then on the decoded audio's own length, which Freesound's field may not match.
    return render(
        data,
        source_bpm=source_bpm,
        target_bpm=target_bpm,
        semitones=row.semitones,
        max_source_s=settings.CONFORM_MAX_SECONDS,
        refuse=lambda length_s, time_ratio: output_refusal(length_s=length_s, time_ratio=time_ratio),
        time_limit=settings.CONFORM_TIME_LIMIT,
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
    a render worker, such as the pack ZIP build): the cached one is reused. From the original when
    `user` has a Freesound account connected. The same limits as the render task hold (render_run):
    the caps on the output, Rubber Band's time limit, the quota."""
    row, _ = _get_or_create(sound=sound, plan=plan, source=render_source(user))
    if render_is_ready(row):
        render_touch(row)
        return row
    ConformedRender.objects.filter(pk=row.pk).update(status=ConformedRender.Status.PENDING, error="")
    render_run(render_id=row.pk, user_id=_user_id(user))
    row.refresh_from_db()
    return row


def conformed_file(*, sound: Sound, grid: SongGrid, user: User | None = None) -> ConformedFile:
    """One sound of a pack ZIP, conformed to the song: its WAV, or why there is none (refused by
    the limits every render path shares, or the user's quota used up). Rendered from the original
    when `user`, the pack's owner, has a Freesound account connected. A loop lasts a whole number of
    the song's bars when the bar is known (bar_fill)."""
    plan = plan_for(sound=sound, grid=grid)
    filename = conformed_filename(sound, plan)
    if refusal := render_refusal(sound=sound, plan=plan):
        return ConformedFile(filename, None, plan.describe(), error=refusal)
    if not render_is_ready(render_find(sound=sound, plan=plan, user=user)) and not quota_left(
        user_id=_user_id(user)
    ):
        return ConformedFile(filename, None, plan.describe(), error=QUOTA_USED_UP)
    row = render_now(sound=sound, plan=plan, user=user)
    target_key = plan.target_key.name if plan.target_key else sound.key
    if row.status != ConformedRender.Status.DONE:
        return ConformedFile(filename, None, plan.describe(), error=row.error or "the render failed")
    fill = bar_fill(plan=plan, grid=grid, loop_s=row.duration_s)
    with wav_repeated(row.file.open("rb"), fill.repeats) as handle:
        data = handle.read()
    done = ", ".join(part for part in (plan.describe(), fill.words) if part)
    return ConformedFile(filename, data, done, plan.bpm_label, target_key, plan.semitones)
