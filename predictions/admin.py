"""Admin for predictions: filters, search, review actions and a CSV export of reviewed rows."""

from __future__ import annotations

import csv
from collections.abc import Callable
from typing import cast

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from accounts.models import User

from . import services
from .admin_learning import reference_actions
from .models import Prediction
from .presenters import genre_bars
from .taxonomy import genre_choices


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


def _set_genre_action(slug: str, name: str) -> Callable:
    def action(modeladmin: PredictionAdmin, request: HttpRequest, queryset: QuerySet[Prediction]) -> None:
        for prediction in queryset:
            services.prediction_review(prediction=prediction, genre=slug, reviewer=_reviewer(request))
        modeladmin.message_user(request, f"Set the genre of {queryset.count()} prediction(s) to {name}.")

    action.__name__ = f"set_genre_{slug}"
    return admin.action(description=f"Set genre to {name}")(action)


@admin.register(Prediction)
class PredictionAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "display_title",
        "owner",
        "status",
        "top_genre",
        "confidence_pct",
        "reviewed_genre",
        "created_at",
    ]
    list_filter = ["status", TopGenreFilter, ReviewedFilter, ConfidenceFilter, "source", "model_version"]
    search_fields = ["title", "artist", "album", "owner__username", "owner__email"]
    list_select_related = ["owner"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "owner", "source", "source_track_id", "isrc", "audio", "status", "stage", "error", "attempts", "job_id",
        "worker", "heartbeat_at", "created_at", "queued_at", "started_at", "finished_at", "rerun_of", "probabilities", "spectrogram_image",
        "top_genre", "confidence", "tags", "outside_taxonomy", "tempo_bpm", "tempo_confidence", "key",
        "key_confidence", "model_name", "model_version", "timings", "reviewed_by", "reviewed_at",
    ]  # fmt: skip
    fieldsets = [
        ("Song", {"fields": ["owner", "source", "source_track_id", "isrc", "title", "artist", "album", "audio"]}),
        ("Result", {"fields": ["probabilities", "spectrogram_image", "top_genre", "confidence", "outside_taxonomy",
                               "tags", "tempo_bpm", "tempo_confidence", "key", "key_confidence",
                               "model_name", "model_version"]}),
        ("Review", {"fields": ["reviewed_genre", "reviewed_by", "reviewed_at"]}),
        ("Job", {"classes": ["collapse"], "fields": ["status", "stage", "error", "attempts", "job_id", "worker",
                                                      "heartbeat_at", "created_at", "queued_at", "started_at", "finished_at", "timings", "rerun_of"]}),
    ]  # fmt: skip
    actions = ["confirm_genre", "export_reviewed_csv"]

    def get_actions(self, request: HttpRequest):
        actions = super().get_actions(request)
        for slug, name in genre_choices():
            action = _set_genre_action(slug, name)
            description = action.short_description  # type: ignore[attr-defined]  # set by @admin.action
            actions[action.__name__] = (action, action.__name__, description)
        actions.update(reference_actions())
        return actions

    @admin.display(description="confidence", ordering="confidence")
    def confidence_pct(self, obj: Prediction) -> str:
        return "" if obj.confidence is None else f"{obj.confidence:.0%}"

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

    @admin.action(description="Confirm the predicted genre")
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

    @admin.action(description="Export reviewed predictions as CSV")
    def export_reviewed_csv(self, request: HttpRequest, queryset: QuerySet[Prediction]) -> HttpResponse:
        return reviewed_csv_response(queryset.exclude(reviewed_genre=""))


def reviewed_csv_response(queryset: QuerySet[Prediction]) -> HttpResponse:
    rows = queryset.select_related("owner", "reviewed_by")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="reviewed-predictions.csv"'
    writer = csv.writer(response)
    writer.writerow(
        ["id", "source", "source_track_id", "isrc", "title", "artist", "upload", "predicted_genre", "confidence",
         "reviewed_genre", "reviewed_by", "reviewed_at", "model_version"]
    )  # fmt: skip
    for p in rows:
        writer.writerow(
            [p.pk, p.source, p.source_track_id, p.isrc, p.title, p.artist, p.upload.name if p.upload else "",
             p.top_genre, p.confidence, p.reviewed_genre, p.reviewed_by.username if p.reviewed_by else "",
             p.reviewed_at.isoformat() if p.reviewed_at else "", p.model_version]
        )  # fmt: skip
    return response


admin.site.site_header = "Seven/Four admin"
admin.site.site_title = "Seven/Four"
admin.site.index_title = format_html('Administration · <a href="{}">back to the site</a>', "/")
