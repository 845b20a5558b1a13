"""Admin for predictions: filters, search, review actions and a CSV export of reviewed rows."""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from django import forms
from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from accounts.models import User
from core.exports import SafeCsvWriter

from . import services
from .admin_learning import reference_actions
from .labels import prediction_labels
from .models import USER_GENRE_NONE, Prediction
from .presenters import genre_bars
from .taxonomy import genre_choices, genre_name


class ReviewedFilter(admin.SimpleListFilter):
    title = "reviewed"
    parameter_name = "reviewed"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("yes", "Reviewed"), ("no", "Not reviewed")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Prediction]) -> QuerySet[Prediction]:
        if self.value() == "yes":
            return queryset.exclude(reviewed_genre="")
        if self.value() == "no":
            return queryset.filter(reviewed_genre="")
        return queryset


class CorrectedFilter(admin.SimpleListFilter):
    title = "corrected by the user"
    parameter_name = "corrected"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("yes", "Corrected"), ("genre", "Genre named by the user"), ("no", "Not corrected")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Prediction]) -> QuerySet[Prediction]:
        if self.value() == "yes":
            return queryset.filter(corrected_at__isnull=False)
        if self.value() == "genre":
            return queryset.exclude(user_genre="")
        if self.value() == "no":
            return queryset.filter(corrected_at__isnull=True)
        return queryset


class ConfidenceFilter(admin.SimpleListFilter):
    title = "confidence"
    parameter_name = "confidence"
    RANGES = {"low": (0.0, 0.4), "medium": (0.4, 0.7), "high": (0.7, 1.01)}

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("low", "Low (< 40%)"), ("medium", "Medium (40–70%)"), ("high", "High (≥ 70%)")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Prediction]) -> QuerySet[Prediction]:
        if (value := self.value()) in self.RANGES:
            low, high = self.RANGES[value]
            return queryset.filter(confidence__gte=low, confidence__lt=high)
        return queryset


class TopGenreFilter(admin.SimpleListFilter):
    title = "top genre"
    parameter_name = "top_genre"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return genre_choices()

    def queryset(self, request: HttpRequest, queryset: QuerySet[Prediction]) -> QuerySet[Prediction]:
        return queryset.filter(top_genre=self.value()) if self.value() else queryset


def _reviewer(request: HttpRequest) -> User:
    # The admin lets only signed-in staff in, so its requests never carry an anonymous user.
    return cast(User, request.user)


def _genre_text(slug: str) -> str:
    """A stored genre as the admin reads it: its display name ("R&B"), never the slug ("rnb")."""
    if not slug:
        return "—"
    return "none of these" if slug == USER_GENRE_NONE else genre_name(slug)


def _set_genre_action(slug: str, name: str) -> Callable:
    def action(modeladmin: PredictionAdmin, request: HttpRequest, queryset: QuerySet[Prediction]) -> None:
        for prediction in queryset:
            services.prediction_review(prediction=prediction, genre=slug, reviewer=_reviewer(request))
        modeladmin.message_user(request, f"Set the genre of {queryset.count()} prediction(s) to {name}.")

    action.__name__ = f"set_genre_{slug}"
    return admin.action(description=f"Set genre to {name}", permissions=["change"])(action)


@admin.register(Prediction)
class PredictionAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "display_title",
        "owner",
        "status",
        "top_genre_name",
        "confidence_pct",
        "user_label",
        "reviewed_genre_name",
        "created_at",
    ]
    list_filter = [
        "status", TopGenreFilter, ReviewedFilter, CorrectedFilter, ConfidenceFilter, "source", "model_version",
    ]  # fmt: skip
    search_fields = ["title", "artist", "album", "owner__username", "owner__email"]
    list_select_related = ["owner"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "owner", "source", "source_track_id", "isrc", "audio", "status", "stage", "error", "attempts", "job_id",
        "worker", "heartbeat_at", "created_at", "queued_at", "started_at", "finished_at", "rerun_of", "probabilities", "spectrogram_image",
        "top_genre_name", "confidence", "tags", "outside_taxonomy", "tempo_bpm", "tempo_confidence", "key",
        "key_confidence", "model_name", "model_version", "patches_read", "timings", "reviewed_by", "reviewed_at",
        "tempo_alternative_bpm", "key_alternatives", "user_tempo_bpm", "user_key", "user_genre_name", "corrected_at",
        "labels", "beats_per_bar", "downbeat_times", "tempo_metric_alternative_bpm",
    ]  # fmt: skip
    fieldsets = [
        ("Song", {"fields": ["owner", "source", "source_track_id", "isrc", "title", "artist", "album", "audio"]}),
        ("Result", {"fields": ["probabilities", "spectrogram_image", "top_genre_name", "confidence", "outside_taxonomy",
                               "tags", "tempo_bpm", "tempo_confidence", "tempo_alternative_bpm",
                               "tempo_metric_alternative_bpm", "beats_per_bar", "downbeat_times", "key",
                               "key_confidence", "key_alternatives", "model_name", "model_version",
                               "patches_read"]}),
        ("The user's correction", {"fields": ["user_genre_name", "user_tempo_bpm", "user_key", "corrected_at"]}),
        ("Review", {"fields": ["reviewed_genre", "reviewed_by", "reviewed_at", "labels"]}),
        ("Job", {"classes": ["collapse"], "fields": ["status", "stage", "error", "attempts", "job_id", "worker",
                                                      "heartbeat_at", "created_at", "queued_at", "started_at", "finished_at", "timings", "rerun_of"]}),
    ]  # fmt: skip
    actions = ["confirm_genre", "export_reviewed_csv", "export_labelled_csv"]

    def get_actions(self, request: HttpRequest):
        # One action per genre, made here because the genres come from the served model; each is
        # offered only with its permission, like the declared actions (Django filters only those).
        actions = super().get_actions(request)
        made = [_set_genre_action(slug, name) for slug, name in genre_choices()]
        extra = [(a, a.__name__, a.short_description) for a in made]  # type: ignore[attr-defined]  # set by @admin.action
        for func, name, description in [*extra, *reference_actions()]:
            permissions = getattr(func, "allowed_permissions", ())  # set by @admin.action
            if any(getattr(self, f"has_{p}_permission")(request) for p in permissions):
                actions[name] = (func, name, description)
        return actions

    def has_reference_permission(self, request: HttpRequest) -> bool:
        """May keep predictions as reference tracks (the "Keep as reference track" actions)."""
        return request.user.has_perm("predictions.add_referencetrack")

    # Lists show the genre's name ("R&B"), not the model's label ("rnb").
    @admin.display(description="top genre", ordering="top_genre")
    def top_genre_name(self, obj: Prediction) -> str:
        return _genre_text(obj.top_genre)

    @admin.display(description="reviewed genre", ordering="reviewed_genre")
    def reviewed_genre_name(self, obj: Prediction) -> str:
        return _genre_text(obj.reviewed_genre)

    @admin.display(description="genre set by the user")
    def user_genre_name(self, obj: Prediction) -> str:
        return _genre_text(obj.user_genre)

    @admin.display(description="confidence", ordering="confidence")
    def confidence_pct(self, obj: Prediction) -> str:
        return "" if obj.confidence is None else f"{obj.confidence:.0%}"

    @admin.display(description="user's label")
    def user_label(self, obj: Prediction) -> str:
        """What the user said, beside the model's genre and the review in the list."""
        parts = []
        if obj.user_genre:
            parts.append(_genre_text(obj.user_genre))
        if obj.user_tempo_bpm is not None:
            parts.append(f"{obj.user_tempo_bpm:g} BPM")
        if obj.user_key:
            parts.append(obj.user_key)
        return " · ".join(parts) or "—"

    @admin.display(description="labels for training")
    def labels(self, obj: Prediction) -> str:
        found = prediction_labels(obj)
        genre = found.genre and f"{_genre_text(found.genre)} (from the {found.genre_source})"
        tempo = found.tempo_bpm and f"{found.tempo_bpm:g} BPM (from the {found.tempo_source})"
        key = found.key and f"{found.key} (from the {found.key_source})"
        return f"genre: {genre or '—'}; tempo: {tempo or '—'}; key: {key or '—'}"

    @admin.display(description="genre probabilities")
    def probabilities(self, obj: Prediction) -> str:
        rows = [(bar.name, bar.percent, bar.percent) for bar in genre_bars(obj)]
        if not rows:
            return "—"
        return format_html(
            '<table class="probabilities">{}</table>',
            format_html_join(
                "",
                '<tr><td>{}</td><td><div style="background:#4338ca;height:10px;width:{}px"></div></td><td>{}%</td></tr>',
                rows,
            ),
        )

    @admin.display(description="audio")
    def audio(self, obj: Prediction) -> str:
        if not obj.pk:
            return "—"
        source = obj.upload.name.rsplit("/", 1)[-1] if obj.upload else f"{obj.get_source_display()} preview"
        url = reverse("predictions:audio", args=[obj.pk])
        return format_html(
            '<audio controls preload="none" src="{}"></audio><br><small>{}</small>', url, source
        )

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        # The reviewed genre must be one of the served model's labels: offer them as a list.
        if db_field.name == "reviewed_genre":
            choices = [("", "— not reviewed —"), *genre_choices()]
            return forms.ChoiceField(choices=choices, required=False, label="Reviewed genre")
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    @admin.display(description="spectrogram")
    def spectrogram_image(self, obj: Prediction) -> str:
        if not obj.spectrogram:
            return "—"
        url = reverse("predictions:spectrogram", args=[obj.pk])
        return format_html('<img src="{}" style="max-width:640px" alt="">', url)

    def save_model(self, request: HttpRequest, obj: Prediction, form: forms.ModelForm, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if "reviewed_genre" in form.changed_data and obj.reviewed_genre:
            services.prediction_review(prediction=obj, genre=obj.reviewed_genre, reviewer=_reviewer(request))

    @admin.action(description="Confirm the predicted genre", permissions=["change"])
    def confirm_genre(self, request: HttpRequest, queryset: QuerySet[Prediction]) -> None:
        done = queryset.filter(status=Prediction.Status.DONE).exclude(top_genre="")
        for prediction in done:
            services.prediction_review(
                prediction=prediction, genre=prediction.top_genre, reviewer=_reviewer(request)
            )
        skipped = queryset.count() - done.count()
        self.message_user(request, f"Confirmed {done.count()} prediction(s).")
        if skipped:
            self.message_user(request, f"Skipped {skipped} unfinished prediction(s).", level=messages.WARNING)

    @admin.action(description="Export reviewed predictions as CSV", permissions=["view"])
    def export_reviewed_csv(self, request: HttpRequest, queryset: QuerySet[Prediction]) -> HttpResponse:
        return reviewed_csv_response(queryset.exclude(reviewed_genre=""))

    @admin.action(
        description="Export labelled predictions (reviewed or corrected by the user) as CSV",
        permissions=["view"],
    )
    def export_labelled_csv(self, request: HttpRequest, queryset: QuerySet[Prediction]) -> HttpResponse:
        return reviewed_csv_response(
            queryset.filter(~Q(reviewed_genre="") | Q(corrected_at__isnull=False)),
            filename="labelled-predictions.csv",
        )


def reviewed_csv_response(
    queryset: QuerySet[Prediction], *, filename: str = "reviewed-predictions.csv"
) -> HttpResponse:
    """One row per prediction: the model's values, the user's, the review, and the labels to train
    on (genre_label, tempo_label, key_label; predictions.labels says which value wins)."""
    rows = queryset.select_related("owner", "reviewed_by")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = SafeCsvWriter(response)  # titles and names are the users': no formulas (core.exports)
    writer.writerow(
        ["id", "source", "source_track_id", "isrc", "title", "artist", "upload", "predicted_genre", "confidence",
         "user_genre", "reviewed_genre", "reviewed_by", "reviewed_at", "genre_label", "genre_label_source",
         "predicted_tempo", "tempo_confidence", "user_tempo", "tempo_label", "tempo_label_source",
         "predicted_key", "key_confidence", "user_key", "key_label", "key_label_source", "corrected_at",
         "model_version"]
    )  # fmt: skip
    for p in rows:
        labels = prediction_labels(p)
        writer.writerow(
            [p.pk, p.source, p.source_track_id, p.isrc, p.title, p.artist, p.upload.name if p.upload else "",
             p.top_genre, p.confidence, p.user_genre, p.reviewed_genre,
             p.reviewed_by.username if p.reviewed_by else "", p.reviewed_at.isoformat() if p.reviewed_at else "",
             labels.genre, labels.genre_source,
             _blank(p.tempo_bpm), _blank(p.tempo_confidence), _blank(p.user_tempo_bpm), _blank(labels.tempo_bpm),
             labels.tempo_source, p.key, _blank(p.key_confidence), p.user_key, labels.key, labels.key_source,
             p.corrected_at.isoformat() if p.corrected_at else "", p.model_version]
        )  # fmt: skip
    return response


def _blank(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


admin.site.site_header = "Seven/Four admin"
admin.site.site_title = "Seven/Four"
admin.site.index_title = format_html('Administration · <a href="{}">back to the site</a>', "/")
