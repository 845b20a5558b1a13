"""Admin for the model that learns: reference tracks, model versions (held-back accuracy, confusion
matrix, build, evaluate, promote). Registered from predictions/admin.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html, format_html_join

from accounts.models import User
from worker.heads.genre_head import ArtifactError

from . import learning
from .models import GenreModelVersion, Prediction, ReferenceTrack
from .taxonomy import genre_choices, genre_name


def reference_actions() -> list[tuple[Callable, str, str]]:
    """ "Keep as reference track for <genre>" actions for the prediction list: the admin uploads or
    picks the song on the site like any user, then keeps the finished prediction as a reference.
    Each needs the "reference" permission (PredictionAdmin.has_reference_permission)."""
    actions = []
    for slug, name in genre_choices():

        def action(
            modeladmin: Any, request: HttpRequest, queryset: QuerySet[Prediction], slug: str = slug
        ) -> None:
            kept, refused = 0, []
            for prediction in queryset:
                try:
                    learning.reference_track_add(prediction=prediction, genre=slug, added_by=request.user)
                    kept += 1
                except ValueError as exc:
                    refused.append(str(exc))
            modeladmin.message_user(request, f"Kept {kept} reference track(s) for {genre_name(slug)}.")
            for message in refused:
                modeladmin.message_user(request, message, level=messages.WARNING)

        action.__name__ = f"keep_as_reference_{slug}"
        description = f"Keep as reference track for {name}"
        actions.append(
            (
                admin.action(description=description, permissions=["reference"])(action),
                action.__name__,
                description,
            )
        )
    return actions


@admin.register(ReferenceTrack)
class ReferenceTrackAdmin(admin.ModelAdmin):
    list_display = ["genre_display", "prediction", "added_by", "created_at"]
    list_filter = ["genre"]
    raw_id_fields = ["prediction"]
    readonly_fields = ("added_by", "created_at")

    @admin.display(description="genre", ordering="genre")
    def genre_display(self, obj: ReferenceTrack) -> str:
        return genre_name(obj.genre)

    def save_model(self, request: HttpRequest, obj: ReferenceTrack, form: Any, change: bool) -> None:
        obj.added_by = obj.added_by or cast(User, request.user)  # the admin has only signed-in staff
        super().save_model(request, obj, form, change)


@admin.register(GenreModelVersion)
class GenreModelVersionAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "kind",
        "held_back_top1",
        "heldout_files",
        "is_served",
        "evaluated_at",
        "created_at",
    ]
    list_filter = ["kind", "is_served"]
    readonly_fields = fields = (
        "name", "version", "kind", "artifact_dir", "based_on", "examples", "created_at", "figures",
        "confusion_matrix", "heldout_files", "evaluated_at", "is_served", "promoted_at",
    )  # fmt: skip
    # Each action needs its permission: "add" to build, "change" to evaluate, and the custom
    # "promote" and "stop serving" ones (GenreModelVersion.Meta.permissions), which the
    # "Model maintainers" group holds. A view-only account sees the list and no action.
    actions = ["build_few_shot", "evaluate", "promote", "unpromote"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # versions come from the build action or the shipped artifacts

    def has_build_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("predictions.add_genremodelversion")

    def has_promote_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("predictions.promote_genremodelversion")

    def has_stop_serving_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("predictions.stop_serving_genremodelversion")

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # Listing the shipped artifacts writes rows: only for those who may change versions (the
        # view itself still checks the view permission and answers 403 without it).
        if self.has_change_permission(request):
            learning.model_versions_register_shipped()
        return super().changelist_view(request, extra_context)

    @admin.display(description="held-back top-1", ordering="top1")
    def held_back_top1(self, obj: GenreModelVersion) -> str:
        return "not evaluated" if obj.top1 is None else f"{obj.top1:.0%}"

    @admin.display(description="confusion matrix (held-back predictions)")
    def confusion_matrix(self, obj: GenreModelVersion) -> str:
        if not obj.confusion_png:
            return "—"
        return format_html(
            '<img src="{}" style="max-width:640px" alt="Confusion matrix of {}">', obj.confusion_png.url, obj
        )

    @admin.display(description="held-back figures")
    def figures(self, obj: GenreModelVersion) -> str:
        m = obj.evaluation or {}
        if not m:
            return "—"
        pct = lambda v: "–" if v is None else f"{v:.0%}"  # noqa: E731
        rows = [
            ("top-1", pct(m.get("top1"))), ("top-2", pct(m.get("top2"))),
            ("outside songs flagged", pct(m.get("outside_flagged"))),
            ("in-genre songs wrongly flagged", pct(m.get("in_genre_flagged"))),
            ("files (in genre / outside)", f"{m.get('in_genre_files')} / {m.get('outside_files')}"),
        ] + [(f"recall {g}", f"{pct(v['recall'])} of {v['files']}") for g, v in m.get("per_genre", {}).items() if v["files"]]  # fmt: skip
        return format_html("<table>{}</table>", format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", rows))

    @admin.action(
        description="Build a few-shot version on this one (reviews, corrections, references)",
        permissions=["build"],
    )
    def build_few_shot(self, request: HttpRequest, queryset: QuerySet[GenreModelVersion]) -> None:
        for base in queryset[:1]:
            try:
                version = learning.model_version_build(base=base)
            except ArtifactError as exc:
                self.message_user(request, f"Not built: {exc}", level=messages.ERROR)
                continue
            self.message_user(request, f"Built {version}; held-back top-1 {self.held_back_top1(version)}.")

    @admin.action(description="Evaluate on held-back reviewed predictions", permissions=["change"])
    def evaluate(self, request: HttpRequest, queryset: QuerySet[GenreModelVersion]) -> None:
        for version in queryset:
            learning.model_version_evaluate(version)
            self.message_user(
                request,
                f"{version}: held-back top-1 {self.held_back_top1(version)} on {version.heldout_files} file(s).",
            )

    @admin.action(
        description="Promote to serve (workers pick it up on their next job)", permissions=["promote"]
    )
    def promote(self, request: HttpRequest, queryset: QuerySet[GenreModelVersion]) -> None:
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one version to promote.", level=messages.ERROR)
            return
        try:
            version = learning.model_version_promote(queryset.get())
        except learning.PromotionRefused as exc:
            self.message_user(request, str(exc), level=messages.ERROR)
            return
        self.message_user(request, f"{version} now serves; workers load it on their next job.")

    @admin.action(
        description="Stop serving (back to GENRE_MODEL_DIR, else the shipped default)",
        permissions=["stop_serving"],
    )
    def unpromote(self, request: HttpRequest, queryset: QuerySet[GenreModelVersion]) -> None:
        served = list(queryset.filter(is_served=True))
        if not served:
            self.message_user(request, "None of the selected versions serves.", level=messages.WARNING)
            return
        for version in served:
            learning.model_version_unpromote(version)
        back = learning.configured_folder().source
        self.message_user(request, f"{served[0]} no longer serves; workers serve {back} from their next job.")
