from __future__ import annotations

import json
from typing import Any

from django import template
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from core.fragments import cached_fragment
from predictions.models import Prediction

from ..models import Sound
from ..selectors import recommendation_run_for, recommendations_panel_version, samples_off_reason
from ..selectors import recommendations_panel as panel_context

register = template.Library()


PANEL = "samples/includes/recommendations_panel.html"


@register.simple_tag(takes_context=True)
def recommendations_panel(context: template.Context, prediction: Prediction) -> SafeString:
    """The samples panel: "Finding samples…" while the stage runs, then the cards, rendered once
    per version of what they show (recommendations_panel_version)."""
    request = context["request"]
    run = recommendation_run_for(prediction=prediction)
    if run is not None and not run.is_finished:
        return mark_safe(render_to_string(PANEL, {"prediction": prediction, "finding_samples": True}))  # noqa: S308
    version = recommendations_panel_version(prediction=prediction, user=request.user, run=run)
    return cached_fragment(
        f"samples:{prediction.pk}:{version}",
        PANEL,
        lambda: {**panel_context(prediction=prediction, user=request.user), "request": request},
        csrf_token=context.get("csrf_token"),
    )


@register.simple_tag
def samples_off() -> str:
    """Why samples are off on this site ("" when they are on), for pages outside the panel."""
    return samples_off_reason()


@register.filter
def seconds(value: float | None) -> str:
    """8.25 → "0:08"; 75 → "1:15"."""
    if value is None:
        return ""
    total = round(value)
    return f"{total // 60}:{total % 60:02d}"


@register.simple_tag(takes_context=True)
def sample_browser(context: template.Context, prediction: Prediction | None = None) -> dict[str, Any]:
    """What the sample browser needs on a page: the pack `s` saves to (the user's most recently
    changed one), the song's grid when there is a song, why conforming is off, if it is, and
    whether the user's Freesound account gives original files."""
    from ..conform import conforming
    from ..freesound_oauth import account_connected, oauth_enabled
    from ..models import Pack

    user = context["request"].user
    current = Pack.objects.filter(owner=user).order_by("-updated_at", "-id").first()
    browser: dict[str, Any] = {
        "current_pack": current.name if current else "",
        "disabled": conforming.conforming_disabled_reason(),
        # Original files with the user's own Freesound account: offered when the site has OAuth2
        # credentials, used when the user connected one.
        "originals_offered": oauth_enabled(),
        "originals": account_connected(user=user),
    }
    if prediction is not None:
        grid = conforming.song_grid(prediction)
        browser.update(grid=grid, grid_json=json.dumps(grid.as_json()))
    return browser


@register.filter
def daw_name(sound: Sound) -> str:
    """The original preview's download name: `dusty_kick_loop_96bpm_Am.mp3`."""
    from ..conform.conforming import original_filename

    return original_filename(sound)


@register.simple_tag(takes_context=True)
def conform_songs(context: template.Context) -> list[Any]:
    """The user's recent finished songs with a tempo or a key: the ones a pack can be conformed to."""
    from ..selectors import conform_song_choices

    return conform_song_choices(user=context["request"].user)


SONG_LABEL_TITLE_MAX = 20  # with " · 126 BPM · Eb minor", a label fits a 390 px wide select


@register.filter
def conform_song_label(song: Prediction) -> str:
    """A song in the pack ZIP's list, short enough to read whole in a phone-wide select: "Muddy
    Waters · 97 BPM · C major". A long "Artist – Title" gives its title alone, cut at a word."""
    name = song.display_title
    if len(name) > SONG_LABEL_TITLE_MAX and song.title:
        name = song.title
    if len(name) > SONG_LABEL_TITLE_MAX:
        cut = name[: SONG_LABEL_TITLE_MAX - 1]
        name = (cut.rsplit(" ", 1)[0] if " " in cut[10:] else cut).rstrip(" –-,") + "…"
    facts = [name]
    if song.song_tempo_bpm:
        facts.append(f"{song.song_tempo_bpm:.0f} BPM")
    if song.song_key:
        facts.append(song.song_key)
    return " · ".join(facts)
