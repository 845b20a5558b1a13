from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin

from .licences import Licence
from .models import (
    AudioIndexRun,
    GenreSearch,
    Pack,
    PackExport,
    PackItem,
    Recommendation,
    SamplePreference,
    Sound,
)


class GenreSearchForm(forms.ModelForm):
    licences = forms.MultipleChoiceField(
        choices=Licence.selectable(),
        widget=forms.CheckboxSelectMultiple,
        help_text="CC BY-NC is non-commercial only: leave it off here; users may opt in for themselves.",
    )

    class Meta:
        model = GenreSearch
        fields = [
            "slug",
            "name",
            "queries",
            "licences",
            "kind",
            "min_duration",
            "max_duration",
            "bpm_tolerance",
            "enabled",
            "order",
        ]

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        low, high = self.cleaned_data.get("min_duration"), self.cleaned_data.get("max_duration")
        if low is not None and high is not None and low > high:
            self.add_error("max_duration", "Must be at least the minimum duration.")
        return cleaned


@admin.register(GenreSearch)
class GenreSearchAdmin(admin.ModelAdmin):
    form = GenreSearchForm
    list_display = [
        "name",
        "slug",
        "kind",
        "licence_list",
        "min_duration",
        "max_duration",
        "bpm_tolerance",
        "enabled",
        "indexed_at",
    ]
    list_editable = ["enabled"]
    readonly_fields = ["indexed_at"]

    @admin.display(description="Licences")
    def licence_list(self, obj: GenreSearch) -> str:
        return ", ".join(Licence(code).label for code in obj.licences)


@admin.register(Sound)
class SoundAdmin(admin.ModelAdmin):
    list_display = [
        "freesound_id",
        "name",
        "author",
        "licence",
        "bpm",
        "key",
        "duration",
        "removed",
        "audio_status",
        "seen_at",
    ]
    list_filter = ["licence", "removed", "audio_status", "genres"]
    readonly_fields = ["audio_status", "audio_error", "audio_attempts", "audio_at"]
    search_fields = ["name", "author", "=freesound_id"]


@admin.register(Recommendation)
class RecommendationAdmin(admin.ModelAdmin):
    list_display = [
        "prediction",
        "rank",
        "batch",
        "sound",
        "genre_name",
        "matched_tempo",
        "matched_key",
        "why",
    ]
    list_select_related = ["prediction", "sound"]  # both are shown on every row
    raw_id_fields = ["prediction", "sound"]

    @admin.display(description="genre", ordering="genre")
    def genre_name(self, obj: Recommendation) -> str:
        from predictions.taxonomy import genre_name

        return genre_name(obj.genre)


class PackItemInline(admin.TabularInline):
    model = PackItem
    raw_id_fields = ["sound", "song"]
    extra = 0


@admin.register(Pack)
class PackAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "updated_at"]
    search_fields = ["name", "owner__username"]
    inlines = [PackItemInline]


@admin.register(PackExport)
class PackExportAdmin(admin.ModelAdmin):
    list_display = ["pack", "status", "progress", "created_at", "finished_at"]
    list_filter = ["status"]


@admin.register(AudioIndexRun)
class AudioIndexRunAdmin(admin.ModelAdmin):
    """Progress of the audio index job; the sounds' own statuses are filterable on the Sound list."""

    list_display = [
        "id",
        "status",
        "progress_text",
        "analysed",
        "failed",
        "total",
        "started_at",
        "finished_at",
    ]
    list_filter = ["status"]
    readonly_fields = [f.name for f in AudioIndexRun._meta.fields]

    @admin.display(description="Progress")
    def progress_text(self, obj: AudioIndexRun) -> str:
        waiting = Sound.objects.filter(audio_status=Sound.AudioStatus.PENDING, removed=False).count()
        return f"{obj.progress} % of this run; {waiting} sounds waiting in all"

    def has_add_permission(self, request: Any) -> bool:
        return False


admin.site.register(SamplePreference)
