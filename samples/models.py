"""Freesound sounds (a local index per genre), the recommendations made for a prediction, and
users' sample packs with their ZIP exports."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse

from core.models import JobRow

from .licences import Licence, licence_badge, licence_from_url


class GenreSearch(models.Model):
    """How to search Freesound for one of the model's genres; editable in the admin."""

    class Kind(models.TextChoices):
        LOOP = "loop", "Loops"
        ONE_SHOT = "one-shot", "One-shots"
        ANY = "any", "Loops and one-shots"

    slug = models.SlugField(max_length=32, unique=True, help_text="The genre model's label, e.g. dance.")
    name = models.CharField(max_length=64)
    queries = models.TextField(help_text="Freesound search phrases, one per line, e.g. “house loop”.")
    licences = models.JSONField(
        default=Licence.default_codes,
        help_text="Licences offered to everyone. Non-commercial ones are added only for users who opt in.",
    )
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.LOOP)
    min_duration = models.FloatField(default=1.0, help_text="Seconds.")
    max_duration = models.FloatField(default=30.0, help_text="Seconds.")
    bpm_tolerance = models.PositiveSmallIntegerField(
        default=6,
        help_text="A loop fits when its BPM is within this many BPM of the song's (or double/half).",
    )
    enabled = models.BooleanField(default=True)
    order = models.PositiveSmallIntegerField(default=0)
    indexed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the local index was last refreshed."
    )

    class Meta:
        ordering = ["order", "slug"]
        verbose_name = "genre search"
        verbose_name_plural = "genre searches"

    def __str__(self) -> str:
        return self.name

    @property
    def query_list(self) -> list[str]:
        return [line.strip() for line in self.queries.splitlines() if line.strip()]


class Sound(models.Model):
    """A Freesound sound as we last saw it. Shared by all users; filled by searches and the index."""

    freesound_id = models.PositiveIntegerField(unique=True)
    name = models.CharField(max_length=300)
    author = models.CharField(max_length=150)
    licence_url = models.URLField(max_length=200)
    licence = models.CharField(max_length=16, choices=Licence.choices)
    duration = models.FloatField(default=0.0)
    tags = models.JSONField(default=list, blank=True)
    bpm = models.PositiveSmallIntegerField(null=True, blank=True)
    key = models.CharField(max_length=16, blank=True, help_text="Freesound's tonality, e.g. “A minor”.")
    pack_uri = models.CharField(max_length=200, blank=True)
    page_url = models.URLField(max_length=300)
    preview_url = models.URLField(max_length=300, help_text="The HQ MP3 preview.")
    image_url = models.URLField(max_length=300, blank=True, help_text="Waveform (or spectrogram) thumbnail.")
    genres = models.ManyToManyField(GenreSearch, blank=True, related_name="sounds")
    seen_at = models.DateTimeField(auto_now=True)
    removed = models.BooleanField(default=False, help_text="Freesound answered 404 for it.")

    # The audio index (samples.audio_index): what the preview sounds like to the backbone.
    class AudioStatus(models.TextChoices):
        PENDING = "pending", "Not analysed yet"
        OK = "ok", "Analysed"
        BROKEN = "broken", "Preview could not be decoded"
        SILENT = "silent", "Preview is silent"
        MISSING = "missing", "Preview not found (404)"
        UNREACHABLE = "unreachable", "Preview could not be fetched"

    audio_status = models.CharField(
        max_length=16, choices=AudioStatus.choices, default=AudioStatus.PENDING, db_index=True
    )
    audio_error = models.CharField(max_length=200, blank=True)
    audio_attempts = models.PositiveSmallIntegerField(default=0)
    audio_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # Little-endian float32 bytes on every database (see samples/audio_index.py for why).
    embedding = models.BinaryField(null=True, blank=True, editable=False)
    tag_vector = models.BinaryField(null=True, blank=True, editable=False)

    class Meta:
        # The library's filters (samples.library); on PostgreSQL migration 0013 adds GIN indexes
        # on the tags and on the full-text vector, which have no portable spelling.
        indexes = [
            models.Index(fields=["removed", "bpm"], name="sound_bpm"),
            models.Index(fields=["removed", "key"], name="sound_key"),
            models.Index(fields=["removed", "duration"], name="sound_duration"),
            # The library's facet cache is keyed by the latest change (samples.library_facets.index_version).
            models.Index(fields=["seen_at"], name="sound_seen"),
        ]

    def __str__(self) -> str:
        return f"{self.name} by {self.author}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # The code is derived from the deed URL, so the two can never disagree.
        self.licence = licence_from_url(self.licence_url)
        super().save(*args, **kwargs)

    @property
    def licence_info(self) -> Licence:
        return Licence(self.licence)

    @property
    def badge(self) -> str:
        return licence_badge(self.licence_url)

    @property
    def attribution(self) -> str:
        """The credit line CC BY asks for: title, author, source, licence."""
        return f"“{self.name}” by {self.author} ({self.page_url}), {self.badge}"


class Recommendation(models.Model):
    """One of the samples shown for a prediction. Batch 0 is the first five; "More like these" adds 1, 2…"""

    prediction = models.ForeignKey(
        "predictions.Prediction", on_delete=models.CASCADE, related_name="recommendations"
    )
    sound = models.ForeignKey(Sound, on_delete=models.CASCADE, related_name="recommendations")
    rank = models.PositiveSmallIntegerField()
    batch = models.PositiveSmallIntegerField(default=0)
    genre = models.CharField(max_length=32, help_text="The genre this sound was chosen for.")
    matched_tempo = models.BooleanField(default=False)
    matched_key = models.BooleanField(default=False)
    why = models.CharField(max_length=120, blank=True, help_text="e.g. “sounds close: synth, beat”.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["prediction", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["prediction", "rank"], name="recommendation_rank_unique"),
            models.UniqueConstraint(fields=["prediction", "sound"], name="recommendation_sound_unique"),
        ]

    def __str__(self) -> str:
        return f"#{self.rank} {self.sound} for prediction {self.prediction_id}"


class RecommendationRun(JobRow):
    """The samples stage of one prediction: a job row of its own, started once the prediction is
    done. A slow or failing Freesound shows here and never touches the prediction's status."""

    class Status(models.TextChoices):
        PENDING = "pending", "Queued"
        RUNNING = "running", "Finding samples"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    class Reason(models.TextChoices):
        """Why the stage shows fewer than five samples, for the code (the retry) to read; the
        message says it to the user."""

        NONE = "", "None"
        FEW = "few", "Freesound has no more fitting sounds"
        NONE_FIT = "none_fit", "No sound fits the genre's search"
        THROTTLED = "throttled", "Freesound's rate limit is reached"
        UNAVAILABLE = "unavailable", "Freesound is not answering"
        MISSING_KEY = "missing_key", "No Freesound API key"
        BAD_KEY = "bad_key", "Freesound rejected the API key"
        ERROR = "error", "The stage failed"

    beats = False  # a stage is short; the sweep fails one stuck past every time limit
    error_field = "message"
    failed_fields = {"reason": Reason.ERROR}

    prediction = models.OneToOneField(
        "predictions.Prediction", on_delete=models.CASCADE, related_name="recommendation_run"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    error = None  # type: ignore[assignment]  # the message says why the stage failed
    message = models.CharField(
        max_length=300, blank=True, help_text="Why there are no samples, when there are none."
    )
    reason = models.CharField(max_length=16, choices=Reason.choices, blank=True, default=Reason.NONE)

    class Meta:
        indexes = [models.Index(fields=["status", "queued_at"], name="recommendation_run_status")]

    def __str__(self) -> str:
        return f"Samples for prediction {self.prediction_id} ({self.status})"


class AudioIndexRun(JobRow):
    """One pass of the audio index job (queue `ml`): its progress, shown in the admin.

    The work itself is the sounds whose audio_status is pending; each batch's results are committed
    with the sounds, so a run that dies loses at most one batch, and the next run carries on. A run
    is created running by the job that makes it (samples.indexing.audio_index_claim): it is never
    pending, and its message says why it stopped or failed."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        STOPPED = "stopped", "Stopped early"
        FAILED = "failed", "Failed"

    error_field = "message"

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    error = None  # type: ignore[assignment]  # the message says why a run failed, or stopped early
    total = models.PositiveIntegerField(default=0, help_text="Sounds waiting when the run started.")
    analysed = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0, help_text="Broken, silent or missing previews.")
    message = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"Audio index run {self.pk} ({self.status})"

    @property
    def progress(self) -> int:
        return int(100 * (self.analysed + self.failed) / self.total) if self.total else 100


class SamplePreference(models.Model):
    """Per-user choices for recommendations."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sample_preference"
    )
    allow_noncommercial = models.BooleanField(
        default=False, help_text="Also recommend CC BY-NC sounds (non-commercial use only)."
    )

    def __str__(self) -> str:
        return f"Sample preferences of {self.user}"


class Pack(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="packs")
    name = models.CharField(max_length=100)
    notes = models.TextField(blank=True, max_length=2000)
    sounds: models.ManyToManyField[Sound, PackItem] = models.ManyToManyField(
        Sound, through="PackItem", related_name="packs"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["owner", "-updated_at"], name="pack_owner_recent")]
        constraints = [
            # "Save to pack" finds a pack by its name in any case, so two must never share one.
            models.UniqueConstraint(Lower("name"), "owner", name="pack_name_unique_per_owner"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("samples:pack_detail", args=[self.pk])


class PackItem(models.Model):
    """A sound in a pack, with the song it was saved from: the one its conformed WAV follows by
    default. None for items saved before this was recorded, from a page without a song, or whose
    song was deleted."""

    pack = models.ForeignKey(Pack, on_delete=models.CASCADE, related_name="items")
    sound = models.ForeignKey(Sound, on_delete=models.CASCADE, related_name="pack_items")
    song = models.ForeignKey(
        "predictions.Prediction",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="pack_items",
        help_text="The song (prediction) the sound was saved from; empty when unknown.",
    )
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["added_at", "id"]
        constraints = [models.UniqueConstraint(fields=["pack", "sound"], name="pack_item_unique")]

    def __str__(self) -> str:
        return f"{self.sound} in {self.pack}"


class PackExport(JobRow):
    """One ZIP build of a pack: a job row the pack page polls, held by its task like a Prediction."""

    class Status(models.TextChoices):
        PENDING = "pending", "Queued"
        RUNNING = "running", "Building"
        DONE = "done", "Ready"
        FAILED = "failed", "Failed"

    class Contents(models.TextChoices):
        ORIGINALS = "originals", "Originals (Freesound's MP3 previews)"
        CONFORMED = "conformed", "Conformed to a song (WAV)"
        BOTH = "both", "Both"

    idle_fields = {"progress": 0}

    pack = models.ForeignKey(Pack, on_delete=models.CASCADE, related_name="exports")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    contents = models.CharField(max_length=16, choices=Contents.choices, default=Contents.ORIGINALS)
    # The song the WAVs are conformed to (its tempo and key as they were when asked for).
    song = models.ForeignKey(
        "predictions.Prediction", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent.")
    file = models.FileField(upload_to="packs/%Y/%m/", blank=True)
    # The pack's sound ids when the build was asked for: a changed pack needs a new ZIP.
    signature = models.CharField(max_length=64)
    # For the expiry (samples.expiry): the file's size, and when it was last downloaded or asked for.
    size_bytes = models.PositiveBigIntegerField(default=0)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "created_at"], name="packexport_status")]

    def __str__(self) -> str:
        return f"ZIP of {self.pack} ({self.status})"


class ConformedRender(JobRow):
    """A sound time-stretched and pitch-shifted by Rubber Band: one job row and its WAV file, shared
    by every song that asks for the same (sound, its tempo, target tempo, semitones). `target_bpm`
    0 means the sound's timing is kept (a one-shot, or a song without a tempo), and `source_bpm` is
    then 0 too. The sound's tempo is in the key: when Freesound corrects it, the cached render made
    from the old one is not reused."""

    class Status(models.TextChoices):
        PENDING = "pending", "Queued"
        RUNNING = "running", "Rendering"
        DONE = "done", "Ready"
        FAILED = "failed", "Failed"

    beats = False  # a render takes seconds; a stuck one is sent again when asked for (render_request)

    sound = models.ForeignKey(Sound, on_delete=models.CASCADE, related_name="renders")
    target_bpm = models.DecimalField(max_digits=6, decimal_places=2)
    semitones = models.SmallIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    file = models.FileField(upload_to="renders/%Y/%m/", blank=True)
    source_bpm = models.DecimalField(max_digits=6, decimal_places=2, default=Decimal("0.00"))
    time_ratio = models.FloatField(default=1.0, help_text="New length / old length.")
    duration_s = models.FloatField(null=True, blank=True, help_text="Of the rendered file.")
    render_seconds = models.FloatField(null=True, blank=True, help_text="Rubber Band's time, for bench/.")
    # For the expiry (samples.expiry): the WAV's size, and when it was last played, downloaded or asked for.
    size_bytes = models.PositiveBigIntegerField(default=0)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Source(models.TextChoices):
        PREVIEW = "preview", "Freesound's MP3 preview"
        ORIGINAL = "original", "The original upload (with a user's Freesound account)"

    # What the render was made from: a render of the original is only offered to users who may
    # download the original themselves (a connected Freesound account).
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.PREVIEW)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["sound", "source_bpm", "target_bpm", "semitones", "source"],
                name="render_unique_source",
            ),
        ]
        indexes = [models.Index(fields=["status", "queued_at"], name="render_status")]

    def __str__(self) -> str:
        return f"{self.sound} at {self.target_bpm} BPM, {self.semitones:+d} st from the {self.source} ({self.status})"


class FreesoundAccount(models.Model):
    """A user's connection to their own Freesound account (OAuth2), which lets the site download
    originals on their behalf. Both tokens are stored encrypted (samples.freesound_oauth): the
    columns hold Fernet tokens, never the secrets themselves. Disconnecting deletes the row."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="freesound_account"
    )
    access_token_encrypted = models.TextField(editable=False)
    refresh_token_encrypted = models.TextField(editable=False)
    expires_at = models.DateTimeField(help_text="When the access token stops working (24 h after issue).")
    scope = models.CharField(max_length=200, blank=True)
    connected_at = models.DateTimeField(auto_now_add=True)
    refreshed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Freesound connection of {self.user}"


class SoundOriginal(models.Model):
    """A sound's original upload, downloaded once with some user's Freesound account and kept for
    every connected user (originals are only served to users with a connection of their own)."""

    sound = models.OneToOneField(Sound, on_delete=models.CASCADE, related_name="original")
    file = models.FileField(upload_to="originals/%Y/%m/")
    container = models.CharField(max_length=8, help_text="As sniffed from its bytes: wav, aiff, flac…")
    size = models.PositiveBigIntegerField()
    fetched_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Original of {self.sound} ({self.container})"
