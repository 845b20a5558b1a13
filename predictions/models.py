"""A prediction is one row per job: the pages, the API and the admin read its status from here."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse

from core.models import JobRow, JobStatus

# The user's answer "none of our genres" (issue 12): not a slug of any genre.
USER_GENRE_NONE = "none"
# The tempos a user may set: anything a song is played at, with room for a double-time reading.
MIN_USER_TEMPO, MAX_USER_TEMPO = 30.0, 300.0


class Prediction(JobRow):
    """A song's analysis: one row per job."""

    class Source(models.TextChoices):
        DEEZER = "deezer", "Deezer"
        SPOTIFY = "spotify", "Spotify"
        UPLOAD = "upload", "Upload"

    Status = JobStatus

    class Stage(models.TextChoices):
        NONE = "", "Waiting"
        DOWNLOADING = "downloading", "Fetching the audio"
        ANALYSING = "analysing", "Analysing the audio"

    idle_fields = {"stage": Stage.NONE}  # whenever the job stops running

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="predictions")

    # Where the song comes from. Preview URLs expire, so only ids are stored and the worker
    # resolves a fresh URL when it runs.
    source = models.CharField(max_length=16, choices=Source.choices)
    source_track_id = models.CharField(max_length=64, blank=True)
    isrc = models.CharField("ISRC", max_length=16, blank=True)
    title = models.CharField(max_length=300, blank=True)
    artist = models.CharField(max_length=300, blank=True)
    album = models.CharField(max_length=300, blank=True)
    artwork_url = models.URLField(max_length=500, blank=True)
    duration_s = models.PositiveIntegerField(null=True, blank=True)
    upload = models.FileField(upload_to="uploads/%Y/%m/", blank=True)

    # The job (core.models.JobRow): its stage, and whether the song itself made it fail.
    stage = models.CharField(max_length=16, choices=Stage.choices, default=Stage.NONE, blank=True)
    input_error = models.BooleanField(
        default=False,
        help_text="The job failed because of the song itself (too short, not audio, no preview): "
        "running it again cannot help.",
    )
    rerun_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reruns"
    )

    # The result.
    genre_scores = models.JSONField(default=dict, blank=True)
    top_genre = models.CharField(max_length=32, blank=True)
    confidence = models.FloatField(null=True, blank=True)
    tags = models.JSONField(default=list, blank=True)
    outside_taxonomy = models.CharField(max_length=64, blank=True)
    tempo_bpm = models.FloatField(null=True, blank=True)
    tempo_confidence = models.FloatField(null=True, blank=True)
    key = models.CharField(max_length=16, blank=True)
    key_confidence = models.FloatField(null=True, blank=True)
    # What the estimator also said, when it said it (older predictions have none of these).
    tempo_alternative_bpm = models.FloatField(
        null=True, blank=True, help_text="The estimator's second tempo (usually an octave away)."
    )
    tempo_metric_alternative_bpm = models.FloatField(
        null=True,
        blank=True,
        help_text="The estimator's ×3/2 or ×2/3 reading of the tempo, when it found it plausible (issue 24).",
    )
    beat_times = models.JSONField(default=list, blank=True, help_text="Seconds from the excerpt's start.")
    # The bar (issue 24): empty / null when the analysis did not find it (older rows, or unsure).
    downbeat_times = models.JSONField(
        default=list,
        blank=True,
        help_text="Seconds from the excerpt's start of each bar's first beat (the “1”); each is also a beat.",
    )
    beats_per_bar = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="How many beats a bar holds, when the analysis found the bar."
    )
    key_alternatives = models.JSONField(
        default=list, blank=True, help_text='Other likely keys, most likely first, e.g. ["C major"].'
    )

    # worker.musicness: does the excerpt sound like music? Empty for predictions made before it asked.
    class SoundsLike(models.TextChoices):
        MUSIC = "music", "music"
        NOISE = "noise", "noise"
        SPEECH = "speech", "speech"
        NEAR_SILENCE = "near_silence", "near-silence"

    sounds_like = models.CharField(
        max_length=16,
        choices=SoundsLike.choices,
        blank=True,
        help_text="What the excerpt sounds like (worker.musicness); anything but music gets no genre, "
        "no confident tempo and no samples.",
    )
    spectrogram = models.FileField(upload_to="spectrograms/%Y/%m/", blank=True)
    # The ML job saves the mel the model saw (worker.audio.spectrogram.save_mel); an I/O worker draws the
    # PNG from it (jobs.prediction_spectrogram_render) and then deletes it.
    spectrogram_mel = models.FileField(upload_to="spectrograms/mel/%Y/%m/", blank=True)
    spectrogram_failed = models.BooleanField(
        default=False, help_text="The spectrogram could not be drawn (the analysis is unaffected)."
    )
    excerpt_s = models.FloatField(
        null=True, blank=True, help_text="Seconds of audio the model heard (and the spectrogram shows)."
    )
    model_name = models.CharField(max_length=64, blank=True)
    model_version = models.CharField(max_length=32, blank=True)
    timings = models.JSONField(default=dict, blank=True)
    # The backbone's clip output (tag probabilities, embedding; worker.heads.fewshot.backbone_to_dict): the
    # few-shot head learns from it and versions are evaluated on it without the audio.
    backbone_output = models.JSONField(default=dict, blank=True)
    patches_read = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="3 s patches of the excerpt the model read: half of them when the first half already "
        "decided the top genre, else all (worker.sequential). The backbone output is their mean.",
    )

    # Admin review: reviewed rows become training data.
    reviewed_genre = models.CharField(max_length=32, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)

    # The user's own corrections: kept apart from the estimate (which stays as the model said it)
    # and from the admin's review. Empty or null means "not corrected".
    user_tempo_bpm = models.FloatField("tempo set by the user", null=True, blank=True)
    user_key = models.CharField("key set by the user", max_length=16, blank=True)
    user_genre = models.CharField(
        "genre set by the user",
        max_length=32,
        blank=True,
        help_text=f"A genre slug, or “{USER_GENRE_NONE}” for “none of our genres”.",
    )
    corrected_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="prediction_history"),
            models.Index(fields=["owner", "top_genre"], name="prediction_owner_genre"),
            models.Index(fields=["status", "created_at"], name="prediction_status"),
            models.Index(fields=["reviewed_at"], name="prediction_reviewed"),
            models.Index(fields=["corrected_at"], name="prediction_corrected"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.display_title}"

    def get_absolute_url(self) -> str:
        return reverse("predictions:detail", args=[self.pk])

    @property
    def display_title(self) -> str:
        if self.title:
            return f"{self.artist} – {self.title}" if self.artist else self.title
        if self.upload:
            return self.upload.name.rsplit("/", 1)[-1]
        return "Untitled"

    @property
    def not_music(self) -> bool:
        """The excerpt was judged noise, speech or near-silence (not: not judged, or music)."""
        return bool(self.sounds_like) and self.sounds_like != self.SoundsLike.MUSIC

    @property
    def samples_offered(self) -> bool:
        """Samples are found for music, and for audio judged not music once the user has named
        its genre (they know better than the detector)."""
        return not self.not_music or (bool(self.user_genre) and self.user_genre != USER_GENRE_NONE)

    # The values the rest of the site works with: the user's where they set one, else the estimate.

    @property
    def song_tempo_bpm(self) -> float | None:
        return self.user_tempo_bpm if self.user_tempo_bpm is not None else self.tempo_bpm

    @property
    def song_key(self) -> str:
        return self.user_key or self.key

    @property
    def song_genre(self) -> str:
        """The genre samples are found for: the user's pick, else the model's top genre ("none of
        our genres" keeps the model's guess, which is the closest we have)."""
        if self.user_genre and self.user_genre != USER_GENRE_NONE:
            return self.user_genre
        return self.top_genre


class ReferenceTrack(models.Model):
    """A song the admin keeps as an example of a genre for the few-shot head. The song is a finished
    prediction (uploaded or picked from the catalog like any other), so its backbone output is stored."""

    prediction = models.OneToOneField(Prediction, on_delete=models.CASCADE, related_name="reference")
    genre = models.CharField(max_length=32)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["genre", "-created_at"]

    def __str__(self) -> str:
        return f"{self.genre}: {self.prediction}"


class GenreModelVersion(models.Model):
    """A genre artifact the site knows: shipped, or built from reviews, corrections and references.
    It can serve only once evaluated on held-back reviewed predictions; the admin promotes one."""

    name = models.CharField(max_length=64)
    version = models.CharField(max_length=32)
    kind = models.CharField(max_length=32)
    artifact_dir = models.CharField(max_length=500)
    based_on = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    examples = models.JSONField(default=dict, blank=True, help_text="Training examples per genre.")
    created_at = models.DateTimeField(auto_now_add=True)
    evaluation = models.JSONField(default=dict, blank=True)
    heldout_files = models.PositiveIntegerField(null=True, blank=True)
    top1 = models.FloatField("held-back top-1", null=True, blank=True)
    evaluated_at = models.DateTimeField(null=True, blank=True)
    confusion_png = models.FileField(upload_to="model-versions/", blank=True)
    is_served = models.BooleanField(default=False)
    promoted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        # Serving a version changes every user's results: its own permissions, which only the
        # "Model maintainers" group (and superusers) hold; docs/security.md.
        permissions = [
            ("promote_genremodelversion", "Can promote a genre model version to serve"),
            ("stop_serving_genremodelversion", "Can stop serving a genre model version"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["name", "version"], name="model_version_unique"),
            models.UniqueConstraint(
                fields=["is_served"], condition=models.Q(is_served=True), name="one_served_model"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.version}"


def stored_seconds(values: object) -> list[float]:
    """The times in a stored list of seconds (`beat_times`, `downbeat_times`), in order: a hand-edited
    row may hold anything, and what is not a number of seconds is left out."""
    if not isinstance(values, list):
        return []
    return sorted(
        float(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool) and v >= 0
    )
